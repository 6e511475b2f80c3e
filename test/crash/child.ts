// Crash-test child: opens a file-backed log in argv[2], adds entries
// continuously (32 in flight) and prints, one line each, synchronously
// (stdout is a pipe, which Node writes synchronously on Linux):
//   ready                       after open
//   ack <index> <entry>         after an add resolved (the entry is durable)
//   cp <size> <root-b64>        after a checkpoint was published
// It runs until killed. A third argument `worker` puts the SQLite state in
// its worker thread (openFileLog's sqliteWorker).
import { openFileLog } from '../../src/log/index.js';
import { generateSignerKey, parseSignerKey } from '../../src/note/keys.js';
import { toBase64 } from '../../src/merkle/encoding.js';

const [dir, run, mode] = process.argv.slice(2);
if (dir === undefined || run === undefined) throw new Error('usage: child.ts <dir> <run> [worker]');
const ORIGIN = 'crash.tilelog.example/log';
const signer = parseSignerKey(generateSignerKey(ORIGIN, new Uint8Array(32).fill(9)).signerKey);
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const log = await openFileLog({
  origin: ORIGIN,
  signer,
  stateDir: `${dir}/state`,
  tilesDir: `${dir}/tiles`,
  batchMaxEntries: 256,
  batchMaxDelayMs: 2,
  sqliteWorker: mode === 'worker',
  logger: { info: () => undefined, warn: () => undefined, error: (m) => process.stderr.write(`${m}\n`) },
});
let cp = log.checkpoint();
out(`cp ${cp.size} ${toBase64(cp.root)}`);
out('ready');

void (async () => {
  for (;;) {
    cp = await log.waitForCheckpoint(cp.size);
    out(`cp ${cp.size} ${toBase64(cp.root)}`);
  }
})();

let n = 0;
const worker = async (): Promise<void> => {
  for (;;) {
    const entry = `run${run}-${n++}`;
    const r = await log.add(new TextEncoder().encode(entry));
    out(`ack ${r.index} ${entry}`);
  }
};
await Promise.all(Array.from({ length: 32 }, worker));
