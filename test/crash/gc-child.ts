// GC crash-test child: opens a file-backed log in argv[2] with no grace for
// partial tiles, adds argv[3] entries one per checkpoint (the pattern that
// leaves the most partials), prints `ack <index>` for each, then `gc` and
// collects the partials (the parent kills it somewhere in there), then `done`.
import { openFileLog } from '../../src/log/index.js';
import { generateSignerKey, parseSignerKey } from '../../src/note/keys.js';

const [dir, count] = process.argv.slice(2);
if (dir === undefined || count === undefined) throw new Error('usage: gc-child.ts <dir> <count>');
export const GC_ORIGIN = 'gc-crash.tilelog.example/log';
const signer = parseSignerKey(generateSignerKey(GC_ORIGIN, new Uint8Array(32).fill(11)).signerKey);
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const log = await openFileLog({
  origin: GC_ORIGIN,
  signer,
  stateDir: `${dir}/state`,
  tilesDir: `${dir}/tiles`,
  partialGraceMs: 0,
  partialGcIntervalMs: 3_600_000,
  logger: { info: () => undefined, warn: () => undefined, error: (m) => process.stderr.write(`${m}\n`) },
});
const start = log.checkpoint().size;
for (let i = start; i < start + Number(count); i++) {
  const entry = new Uint8Array(512).fill(i & 0xff);
  new DataView(entry.buffer).setUint32(0, i);
  const { index } = await log.add(entry);
  await log.waitForCheckpoint(index);
  out(`ack ${index}`);
}
out('gc');
await log.collectPartialTiles();
out('done');
await log.close();
