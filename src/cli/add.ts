// tilelog add: submits entries to a log over HTTP and prints their indexes;
// with --wait, also waits for a checkpoint and verifies inclusion.

import * as fs from 'node:fs/promises';
import { decodeBundleJson, verifyInclusion } from '../client/index.js';
import { leafHash, MAX_ENTRY_SIZE, toHex } from '../merkle/index.js';
import { ConnectionLostError, getJson, postJsonWithHeaders } from './client.js';
import { CliError, defaultUrl, EXIT_OK, parseBaseUrl, parseCount, parseFlags, plural, runVerb, UsageError } from './common.js';
import { logKeyFor, openServerCheckpoint, parseLogKeyFlag } from './trust.js';

const USAGE = `Usage: tilelog add [--url <url>] [--wait] [--lines] [--json] [files... | -]

Adds entries to a tilelog server. Each file is one entry ('-' reads stdin);
with no files and a piped stdin, stdin is read. Prints one line per entry:
its index, then where it came from. An entry already in the log (same bytes)
gets its original index back.

  --url <url>          the log (default $TILELOG_URL or http://127.0.0.1:8080)
  --lines              each non-empty line of the input(s) is an entry (no LF)
  --wait               wait until a checkpoint includes each entry, then verify
                       the inclusion proof and the checkpoint signature
  --log-key <vkey>     verifier key for --wait (default: ask the server, with a warning)
  --concurrency <n>    requests in flight (default 16)
  --json               one JSON object per entry instead of text
  -h, --help           show this help

Entries are 1 to 65535 bytes.
`;

interface Input {
  source: string;
  data: Uint8Array;
}

// POST /add answers {"index", "duplicate"?}; with ?wait=checkpoint a proof
// bundle (spec/BUNDLE.md) and the header Tilelog-Duplicate: true for a duplicate.
interface AddAnswer {
  index: number;
  duplicate?: boolean;
  /** The whole JSON answer (a proof bundle with --wait). */
  raw: unknown;
}

export function run(argv: string[]): Promise<number> {
  return runVerb('add', USAGE, argv, async (args) => {
    const { values, positionals } = parseFlags(
      args,
      {
        url: { type: 'string' },
        wait: { type: 'boolean', default: false },
        lines: { type: 'boolean', default: false },
        'log-key': { type: 'string' },
        concurrency: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      true,
    );
    const url = parseBaseUrl('--url', values.url ?? defaultUrl());
    const concurrency = values.concurrency === undefined ? 16 : parseCount('--concurrency', values.concurrency, 1);
    let sources = positionals;
    if (sources.length === 0) {
      if (process.stdin.isTTY) throw new UsageError("give files to add, or '-' to read stdin");
      sources = ['-'];
    }
    if (sources.filter((s) => s === '-').length > 1) throw new UsageError("'-' (stdin) can be given only once");
    const logKey = values['log-key'] === undefined ? undefined : parseLogKeyFlag(values['log-key']);
    const inputs = await readInputs(sources, values.lines === true);
    if (inputs.length === 0) throw new CliError('nothing to add: the input is empty');

    const key = values.wait
      ? await logKeyFor(url, logKey, () => getJson(`${url}/v1/log/info`))
      : undefined;
    const endpoint = `${url}/add${values.wait ? '?wait=checkpoint' : ''}`;
    const post = async (input: Input): Promise<AddAnswer> => {
      let answer;
      try {
        answer = await postJsonWithHeaders<{ index: number; duplicate?: boolean }>(endpoint, input.data);
      } catch (err) {
        if (err instanceof ConnectionLostError) throw await lostAdd(url, input, err);
        throw err;
      }
      const { body, headers } = answer;
      return { index: body.index, duplicate: body.duplicate === true || headers.get('tilelog-duplicate') === 'true', raw: body };
    };
    const answers = await mapOrdered(inputs, concurrency, post, (input, answer) => {
      let treeSize: number | undefined;
      if (key) {
        try {
          treeSize = verifyAnswer(input, answer, key.vkey, key.keyFromServer);
        } catch (err) {
          // The server has acknowledged the entry: it is in the log whatever the
          // verdict, so its index must not be lost behind the failure message.
          printAnswer(input, answer, undefined, values.json === true);
          throw new CliError(
            `${input.source} was added at index ${answer.index} and is durable in the log (the server acknowledged it), ` +
              `but verifying it failed: ${(err as Error).message}`,
          );
        }
      }
      printAnswer(input, answer, treeSize, values.json === true);
    }, (input, answer) => {
      printAnswer(input, answer, undefined, values.json === true);
      process.stderr.write(`tilelog add: ${input.source} was added at index ${answer.index} and is durable in the log; not verified (stopped at the failure below)\n`);
    });
    if (!values.json) process.stderr.write(`added ${plural(answers, 'entry', 'entries')} to ${url}\n`);
    return EXIT_OK;
  });
}

async function readInputs(sources: string[], lines: boolean): Promise<Input[]> {
  const inputs: Input[] = [];
  for (const source of sources) {
    const data = source === '-' ? await readStdin() : new Uint8Array(await fs.readFile(source));
    const name = source === '-' ? 'stdin' : source;
    if (!lines) {
      inputs.push(checkSize({ source: name, data }));
      continue;
    }
    let start = 0;
    let lineNo = 1;
    for (let i = 0; i <= data.length; i++) {
      if (i === data.length || data[i] === 0x0a) {
        if (i > start) inputs.push(checkSize({ source: `${name}:${lineNo}`, data: data.subarray(start, i) }));
        start = i + 1;
        lineNo++;
      }
    }
  }
  return inputs;
}

function checkSize(input: Input): Input {
  if (input.data.length === 0) throw new CliError(`${input.source} is empty; entries are 1 to ${MAX_ENTRY_SIZE} bytes`);
  if (input.data.length > MAX_ENTRY_SIZE) {
    throw new CliError(`${input.source} is ${input.data.length} bytes; entries are at most ${MAX_ENTRY_SIZE} bytes`);
  }
  return input;
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** Verifies a ?wait=checkpoint answer (a proof bundle) offline; returns the checkpoint size. CliError when it does not hold. */
function verifyAnswer(input: Input, a: AddAnswer, vkey: string, keyFromServer: boolean): number {
  let bundle;
  try {
    bundle = decodeBundleJson(JSON.stringify(a.raw));
  } catch (err) {
    throw new CliError(`the server's answer for ${input.source} is not a proof bundle: ${(err as Error).message}`);
  }
  if (bundle.index !== a.index) throw new CliError(`the server's answer for ${input.source} names two indexes`);
  if (bundle.entry.length !== input.data.length || bundle.entry.some((x, i) => x !== input.data[i])) {
    throw new CliError(`the server's entry for ${input.source} is not what was sent`);
  }
  const { checkpoint } = openServerCheckpoint(bundle.checkpoint, vkey, keyFromServer);
  try {
    verifyInclusion(checkpoint, bundle.index, { entry: input.data }, bundle.inclusionProof);
  } catch (err) {
    throw new CliError(`inclusion proof for ${input.source} (index ${a.index}) does NOT verify: ${(err as Error).message}`);
  }
  return checkpoint.size;
}

/**
 * What a lost connection during POST /add means for a re-run. The server may
 * have stored the entry (its answer was lost) or not. We ask it, by the
 * entry's leaf hash, once it answers again: found, the index is known and no
 * re-run is needed. Otherwise a re-run is safe when the log deduplicates
 * (tilelog's default: the same bytes get the same index), and may store the
 * entry twice when it does not (serve --no-dedup); /v1/log/info says which
 * (`dedup`), and when it cannot be asked the advice names both.
 */
async function lostAdd(url: string, input: Input, lost: ConnectionLostError): Promise<CliError> {
  const hex = toHex(leafHash(input.data));
  const lookup = `${url}/v1/log/lookup/${hex}`;
  const head = `${input.source}: ${lost.message}; the server may or may not have stored the entry.`;
  let found: number | null | undefined; // undefined: could not ask
  try {
    const res = await fetch(lookup);
    if (res.status === 404) found = null;
    else if (res.ok) {
      const body = (await res.json()) as { index?: unknown };
      if (typeof body.index === 'number') found = body.index;
    }
  } catch {
    found = undefined;
  }
  if (typeof found === 'number') {
    return new CliError(`${head}\nIt did: ${input.source} is in the log at index ${found} (found by its leaf hash); do not add it again.`);
  }
  const now = found === null ? `It is not in the log now (${lookup} answers 404).` : `The server cannot be asked now; once it is back, check with: curl ${lookup}`;
  const dedup = found === undefined ? undefined : await askDedup(url);
  const rerun =
    dedup === true
      ? 'Re-running is safe: this log deduplicates, so a re-run answers the same index if the entry was stored.'
      : dedup === false
        ? 'This log does not deduplicate (--no-dedup): a re-run may store the entry twice; check with the lookup above first.'
        : `Re-running is safe if the log deduplicates (tilelog's default): you get the same index. ` +
          `If it runs with --no-dedup, a re-run may store the entry twice: check with the lookup above first.`;
  return new CliError(`${head}\n${now}\n${rerun}`);
}

/** The log's `dedup` from /v1/log/info; undefined when it cannot be asked or does not say. */
async function askDedup(url: string): Promise<boolean | undefined> {
  try {
    const res = await fetch(`${url}/v1/log/info`);
    if (!res.ok) return undefined;
    const body = (await res.json()) as { dedup?: unknown };
    return typeof body.dedup === 'boolean' ? body.dedup : undefined;
  } catch {
    return undefined;
  }
}

function printAnswer(input: Input, a: AddAnswer, treeSize: number | undefined, json: boolean): void {
  const verified = treeSize !== undefined;
  if (json) {
    const out: Record<string, unknown> = { index: a.index, source: input.source };
    if (a.duplicate) out.duplicate = true;
    if (verified) Object.assign(out, { treeSize, verified });
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  let line = `${a.index}\t${input.source}`;
  if (a.duplicate) line += '\t(already in the log)';
  if (verified) line += `\tincluded in checkpoint of size ${treeSize}: proof verified`;
  process.stdout.write(`${line}\n`);
}

/**
 * Runs work over items with at most `limit` in flight, calling `done` in
 * input order as results become available. Returns the number done. When
 * `done` throws, no more work starts; the work already in flight is awaited
 * and each success passed to `abandoned` (an entry already sent may be in
 * the log), then the error is rethrown.
 */
async function mapOrdered<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
  done: (item: T, result: R) => void,
  abandoned: (item: T, result: R) => void,
): Promise<number> {
  const pending: Promise<R>[] = [];
  let next = 0;
  let finished = 0;
  while (finished < items.length) {
    while (pending.length < limit && next < items.length) {
      const p = work(items[next++]!);
      p.catch(() => {}); // surfaced in order below
      pending.push(p);
    }
    const result = await pending.shift()!;
    try {
      done(items[finished]!, result);
    } catch (err) {
      for (const [i, p] of pending.entries()) {
        // A request that failed is left out: whether its entry was added is unknown.
        const settled = await p.then((r) => ({ r }), () => undefined);
        if (settled) abandoned(items[finished + 1 + i]!, settled.r);
      }
      throw err;
    }
    finished++;
  }
  return finished;
}
