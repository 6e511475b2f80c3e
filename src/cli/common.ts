// Shared plumbing for the CLI verbs: flag parsing with node:util parseArgs
// that turns every mistake into a usage error (exit 2), and one place that
// turns a thrown error into a message and an exit code (1).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TilelogError } from '../errors.js';

/** Exit codes: 0 ok, 1 failure, 2 usage. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A mistake in the command line: printed with a pointer to --help, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure with a message already written for humans: exit 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs in strict mode; unknown flags and missing values become UsageErrors. */
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true; allowNegative: true }>
>;

export function parseFlags<O extends Options>(argv: string[], options: O, allowPositionals = false): Parsed<O> {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true, allowNegative: true });
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/\. To specify a positional.*$/s, '.') : String(err);
    const unknown = /^Unknown option '--([^'=]+)'/.exec(message)?.[1];
    const near = unknown === undefined ? null : closestName(unknown, Object.keys(options));
    throw new UsageError(near === null ? message : `${message.replace(/\.$/, '')}; did you mean --${near}?`);
  }
}

/**
 * The candidate nearest to name by edit distance (insert, delete, replace,
 * swap of neighbours), if it is near enough to be a typo: at most 2 edits,
 * and fewer than half of name's length. Null when none is, or on a tie.
 */
export function closestName(name: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  let tie = false;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) [best, bestDistance, tie] = [c, d, false];
    else if (d === bestDistance) tie = true;
  }
  return best !== null && !tie && bestDistance <= 2 && bestDistance * 2 < name.length ? best : null;
}

// editDistance: optimal string alignment distance, O(|a|·|b|) time.
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Parses a non-negative safe integer flag; UsageError naming the flag otherwise. */
export function parseCount(flag: string, value: string, min = 0): number {
  if (!/^(0|[1-9][0-9]*)$/.test(value)) throw new UsageError(`${flag} must be a whole number, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got ${value}`);
  return n;
}

/**
 * Runs one verb: prints usage on --help (exit 0), and maps errors to exit
 * codes with a one-line message on stderr.
 */
export async function runVerb(
  verb: string,
  usage: string,
  argv: string[],
  body: (argv: string[]) => Promise<number>,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage.endsWith('\n') ? usage : `${usage}\n`);
    return EXIT_OK;
  }
  try {
    return await body(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`tilelog ${verb}: ${err.message}\nRun 'tilelog ${verb} --help' for usage.\n`);
      return EXIT_USAGE;
    }
    if (err instanceof CliError) {
      process.stderr.write(`tilelog ${verb}: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    if (err instanceof TilelogError) {
      process.stderr.write(`tilelog ${verb}: ${err.message} (${err.code})\n`);
      return EXIT_FAILURE;
    }
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.message === 'string') {
      process.stderr.write(`tilelog ${verb}: ${e.message}\n`);
      return EXIT_FAILURE;
    }
    process.stderr.write(`tilelog ${verb}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_FAILURE;
  }
}

/** Default log URL for the client verbs: $TILELOG_URL or the serve default. */
export function defaultUrl(): string {
  return process.env.TILELOG_URL ?? 'http://127.0.0.1:8080';
}

/** Normalises a base URL: requires http(s), drops a trailing slash. */
export function parseBaseUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be a URL like http://127.0.0.1:8080, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${flag} must be an http:// or https:// URL, got ${JSON.stringify(value)}`);
  }
  return url.href.replace(/\/+$/, '');
}

/** "1 entry", "2 entries": n and the word in the number n asks for (plural defaults to word + 's'). */
export function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}
