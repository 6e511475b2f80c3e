// Checking a signed checkpoint on the client side, with the log's verifier
// key from the user (--log-key) or, failing that, from the server itself
// (trust on first use; we say so loudly).

import { openCheckpoint, parseCheckpoint, parseNote, parseVerifierKey, type Checkpoint } from '../note/index.js';
import { CliError, UsageError } from './common.js';

export interface TrustedCheckpoint {
  checkpoint: Checkpoint;
  /** True when a signature by the log key verified. */
  signatureVerified: boolean;
}

/** Parses --log-key (a verifier key string, or @file holding one). */
export function parseLogKeyFlag(value: string): string {
  const key = value.trim();
  try {
    parseVerifierKey(key);
  } catch (err) {
    throw new UsageError(`--log-key is not a verifier key (name+id+base64): ${(err as Error).message}`);
  }
  return key;
}

/**
 * Opens a checkpoint note. With vkey: the signature must verify and the
 * origin must be `origin` (default: the key's name). Without: only parsed.
 */
export function openLogCheckpoint(text: string, vkey: string | undefined, origin?: string): TrustedCheckpoint {
  if (vkey === undefined) {
    const checkpoint = parseCheckpoint(parseNote(text).text);
    return { checkpoint, signatureVerified: false };
  }
  const verifier = parseVerifierKey(vkey);
  try {
    const opened = openCheckpoint(text, origin ?? verifier.name, [verifier]);
    return { checkpoint: opened.checkpoint, signatureVerified: true };
  } catch (err) {
    throw new CliError(`the checkpoint does not verify with key ${verifier.name}: ${(err as Error).message}`);
  }
}

/** The warning printed when the only key we have came from the server. */
export function serverKeyWarning(vkey: string): string {
  return (
    `warning: trusting the verifier key the server reported (${vkey});\n` +
    `         pass --log-key <key> obtained out of band to make this check meaningful\n`
  );
}

export interface ServerCheckpoint extends TrustedCheckpoint {
  /** The signed note text. */
  text: string;
  /** The verifier key used, and where it came from. */
  vkey: string;
  keyFromServer: boolean;
}

/** The key to check a server's checkpoints with: --log-key, else /v1/log/info (with a warning). */
export async function logKeyFor(
  baseUrl: string,
  logKeyFlag: string | undefined,
  getInfo: () => Promise<{ verifierKey?: unknown }>,
  quiet = false,
): Promise<{ vkey: string; keyFromServer: boolean }> {
  if (logKeyFlag !== undefined) return { vkey: parseLogKeyFlag(logKeyFlag), keyFromServer: false };
  const info = await getInfo();
  if (typeof info.verifierKey !== 'string') throw new CliError(`${baseUrl}/v1/log/info has no verifierKey; pass --log-key`);
  if (!quiet) process.stderr.write(serverKeyWarning(info.verifierKey));
  return { vkey: info.verifierKey, keyFromServer: true };
}

/** Opens a checkpoint note text with a verifier key, keeping the text. */
export function openServerCheckpoint(text: string, vkey: string, keyFromServer: boolean): ServerCheckpoint {
  return { ...openLogCheckpoint(text, vkey), text, vkey, keyFromServer };
}
