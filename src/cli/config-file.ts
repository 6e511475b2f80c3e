// The serve configuration file (--config <file> or $TILELOG_CONFIG): a JSON
// object whose keys are serve's long flag names without the dashes in front,
// e.g.
//
//   { "listen": ":8080", "state": "/var/lib/tilelog", "batch-max-delay-ms": 2,
//     "witness": ["https://w1.example,w1.example+1234abcd+BAS..."], "log-level": "info" }
//
// Precedence: flags > environment > file > defaults. The file is layered in
// below the environment: a field fills its flag only when neither the flag
// nor its variable is set, and then goes through exactly the flag's checks.
// A mistake names the file, the field and the fix.

import * as fs from 'node:fs';
import { UsageError } from './common.js';

type FlagSpec = { readonly type: 'string' | 'boolean'; readonly multiple?: boolean };
type Values = Record<string, string | boolean | string[] | undefined>;

/** Flags that make no sense in the file. */
const NOT_IN_FILE = new Set(['config', 'print-config', 'json', 'help']);

/** The variable that stands for a flag: TILELOG_<FLAG> (the one plural: --witness, TILELOG_WITNESSES). */
export function envNameFor(flag: string): string {
  return flag === 'witness' ? 'TILELOG_WITNESSES' : `TILELOG_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** Reads and parses the file: a JSON object, else a UsageError saying what to fix. */
export function readConfigFile(source: string, file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${source}: cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source}: ${file} is not valid JSON (${(err as Error).message}); write one object such as {"listen": ":8080"}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`${source}: ${file} must hold one JSON object such as {"listen": ":8080"}`);
  }
  return parsed as Record<string, unknown>;
}

export interface Layered {
  values: Values;
  /** Flags whose value came from the file. */
  fromFile: Set<string>;
}

/** values plus the file's fields for flags set neither on the command line nor in the environment. */
export function layerConfigFile(
  file: string,
  fields: Record<string, unknown>,
  flags: Record<string, FlagSpec>,
  values: Values,
  env: NodeJS.ProcessEnv,
  command = 'tilelog serve',
): Layered {
  const out: Values = { ...values };
  const fromFile = new Set<string>();
  for (const [key, raw] of Object.entries(fields)) {
    const spec = flags[key];
    if (spec === undefined || NOT_IN_FILE.has(key)) throw new UsageError(`${file}: unknown field "${key}"${suggest(key, flags, command)}`);
    const v = fieldValue(file, key, spec, raw);
    if (values[key] !== undefined) continue; // the flag wins
    const e = env[envNameFor(key)];
    if (e !== undefined && e !== '') continue; // the environment wins
    out[key] = v;
    fromFile.add(key);
  }
  return { values: out, fromFile };
}

function fieldValue(file: string, key: string, spec: FlagSpec, raw: unknown): string | boolean | string[] {
  const where = `${file}: field "${key}"`;
  if (spec.type === 'boolean') {
    if (typeof raw !== 'boolean') throw new UsageError(`${where} must be true or false, got ${JSON.stringify(raw)}`);
    return raw;
  }
  if (spec.multiple === true) {
    const list = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
      throw new UsageError(`${where} must be a list of strings such as ["<url>,<vkey>"], got ${JSON.stringify(raw)}`);
    }
    return list as string[];
  }
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return String(raw);
  if (typeof raw !== 'string') throw new UsageError(`${where} must be a string or a whole number, got ${JSON.stringify(raw)}`);
  return raw;
}

function suggest(key: string, flags: Record<string, FlagSpec>, command: string): string {
  const kebab = key.replace(/^-+/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/_/g, '-');
  if (kebab !== key && flags[kebab] !== undefined && !NOT_IN_FILE.has(kebab)) return `; did you mean "${kebab}"?`;
  return `; fields are the long flag names of '${command} --help' without the dashes`;
}

/** Rewrites a flag's UsageError ("--k must ...") to name the file field when the value came from the file. */
export function blameFile(err: unknown, file: string, fromFile: ReadonlySet<string>): unknown {
  if (!(err instanceof UsageError)) return err;
  const m = /^--([a-z0-9-]+)\b/.exec(err.message);
  if (m === null || !fromFile.has(m[1]!)) return err;
  return new UsageError(`${file}: field "${m[1]}"${err.message.slice(m[0].length)}`);
}

const SECRET_NAME = /secret|password|passphrase|token|api[-_]?key|private/i;

/** A copy with secret-looking values replaced by "[hidden]": fields named like secrets, and key material (PRIVATE+KEY+...). */
export function hideSecrets(x: unknown, name = ''): unknown {
  if (typeof x === 'string') return SECRET_NAME.test(name) || /PRIVATE\+KEY/.test(x) ? '[hidden]' : x;
  if (Array.isArray(x)) return x.map((v) => hideSecrets(v, name));
  if (x !== null && typeof x === 'object') {
    return Object.fromEntries(
      Object.entries(x).map(([k, v]) => [k, SECRET_NAME.test(k) && v !== null && v !== undefined ? '[hidden]' : hideSecrets(v, k)]),
    );
  }
  return x;
}
