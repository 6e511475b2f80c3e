// A log process whose public tree is in a bucket of the test S3 server, for
// tests that kill, pause or replace it:
//   node --import tsx test/crash/s3-log-child.ts <stateDir> <endpoint> <bucket> <prefix> <writer-name> [--continuous <run>]
// It opens openFileLog({ stateDir, tileStore: await openS3TileStore(...) })
// with the fixed test key (S3 requests carry <writer-name> in their
// user-agent), serves the log's HTTP API on 127.0.0.1 (POST /add answers 503
// once publication stopped) and prints, one line each, synchronously:
//   http <url>                  the log's HTTP API
//   ready                       after open
//   cp <size> <root-b64>        after a checkpoint was published
//   ack <index> <entry>         after an add resolved (the entry is durable)
//   done <tag> <last index>     after `add` finished;  waited <tag> <size> after `wait`
//   error <tag> <code> <msg>    when a command failed
// stdin commands: `add <tag> <count>` (concurrently), `wait <tag> <index>`.
// With --continuous it adds entries (32 in flight) until killed, like child.ts.
// Log warnings and errors go to stderr.
import { createInterface } from 'node:readline';
import { createLogApp } from '../../src/http/index.js';
import { startServer } from '../../src/http/server.js';
import { openFileLog } from '../../src/log/index.js';
import { toBase64 } from '../../src/merkle/encoding.js';
import { generateSignerKey, parseSignerKey } from '../../src/note/keys.js';
import { openS3TileStore } from '../../src/storage/s3-tile-store.js';

// The key and origin of child.ts (s3-child-driver.ts has the same).
const S3_CHILD_ORIGIN = 'crash.tilelog.example/log';
const s3ChildKey = generateSignerKey(S3_CHILD_ORIGIN, new Uint8Array(32).fill(9));

const [stateDir, endpoint, bucket, prefix, writer, flag, run] = process.argv.slice(2);
if (stateDir === undefined || endpoint === undefined || bucket === undefined || prefix === undefined || writer === undefined) throw new Error('usage: s3-log-child.ts <stateDir> <endpoint> <bucket> <prefix> <writer-name> [--continuous <run>]');
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const codeOf = (err: unknown): string => (err as { code?: string }).code ?? 'ERROR';

const store = await openS3TileStore({
  bucket,
  prefix,
  endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  userAgent: writer,
  retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50, totalMs: 10_000, requestTimeoutMs: 5_000 },
});
const log = await openFileLog({
  origin: S3_CHILD_ORIGIN,
  signer: parseSignerKey(s3ChildKey.signerKey),
  stateDir,
  tileStore: store,
  batchMaxEntries: 256,
  batchMaxDelayMs: 2,
  logger: {
    info: () => undefined,
    warn: (m) => process.stderr.write(`${m}\n`),
    error: (m, err) => process.stderr.write(`${m}: ${err instanceof Error ? `${(err as { code?: string }).code ?? ''} ${err.message}` : ''}\n`),
  },
});
const http = await startServer(createLogApp(log, { logError: () => undefined }), { port: 0 });
out(`http ${http.url}`);
let cp = log.checkpoint();
out(`cp ${cp.size} ${toBase64(cp.root)}`);
out('ready');

void (async () => {
  for (;;) {
    try {
      cp = await log.waitForCheckpoint(cp.size);
    } catch {
      return; // stopped: the error is on stderr
    }
    out(`cp ${cp.size} ${toBase64(cp.root)}`);
  }
})();

let n = 0;
const addOne = async (entry: string): Promise<number> => {
  const r = await log.add(new TextEncoder().encode(entry));
  out(`ack ${r.index} ${entry}`);
  return r.index;
};

if (flag === '--continuous') {
  const worker = async (): Promise<void> => {
    for (;;) await addOne(`${writer}-run${run}-${n++}`);
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, tag = '', arg = '0'] = line.trim().split(/\s+/);
  try {
    if (cmd === 'add') {
      const idx = await Promise.all(Array.from({ length: Number(arg) }, () => addOne(`${writer}-${tag}-${n++}`)));
      out(`done ${tag} ${Math.max(...idx)}`);
    } else if (cmd === 'wait') {
      const got = await log.waitForCheckpoint(Number(arg), AbortSignal.timeout(30_000));
      out(`waited ${tag} ${got.size}`);
    } else {
      out(`error ${tag} USAGE unknown command ${cmd}`);
    }
  } catch (err) {
    out(`error ${tag} ${codeOf(err)} ${String((err as Error).message ?? err).replace(/\n/g, ' ')}`);
  }
}
