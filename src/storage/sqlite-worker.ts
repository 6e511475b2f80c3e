// The worker thread behind SqliteWorkerStore: it owns one log's SQLite
// connection (a SqliteSequenceDB) and answers the calls of
// sqlite-worker-protocol.ts one at a time, in the order they were posted. A
// COMMIT (with its fsync) blocks only this thread, so the log's thread keeps
// parsing requests and pooling the next batch meanwhile.
//
// Durability is the SqliteSequenceDB's: a 'sequence' or 'commitState' reply
// is posted only after its COMMIT returned (synchronous=FULL), so the log's
// thread acknowledges nothing that is not durable. A SIGKILL ends this thread
// with the process: SQLite rolls back whatever was not COMMITted.

import { parentPort, workerData } from 'node:worker_threads';
import { SqliteSequenceDB } from './sqlite-sequence-db.js';
import {
  READY_ID,
  compact,
  packEntries,
  packResults,
  serializeError,
  unpackEntries,
  type SqliteCall,
  type SqliteReply,
  type SqliteWorkerData,
} from './sqlite-worker-protocol.js';
import type { TreeState } from './sequence-db.js';

const port = parentPort;
if (port === null) throw new Error('sqlite-worker: run this module as a worker thread (SqliteWorkerStore starts it)');
const { path, origin } = workerData as SqliteWorkerData;

let db: SqliteSequenceDB | null = null;
try {
  db = new SqliteSequenceDB(path, { origin });
  port.postMessage({ id: READY_ID, ok: true, value: null, size: db.sequencedSize() } satisfies SqliteReply);
} catch (err) {
  port.postMessage({ id: READY_ID, ok: false, error: serializeError(err), size: 0 } satisfies SqliteReply);
  port.close();
}

if (db !== null) {
  const opened = db;
  port.on('message', (call: SqliteCall) => {
    let reply: SqliteReply;
    let transfer: ArrayBuffer[] = [];
    try {
      const [value, moved] = answer(opened, call);
      reply = { id: call.id, ok: true, value: moved.length > 0 ? value : compact(value), size: opened.sequencedSize() };
      transfer = moved;
    } catch (err) {
      reply = { id: call.id, ok: false, error: serializeError(err), size: opened.sequencedSize() };
    }
    port.postMessage(reply, transfer);
    if (call.op === 'close') port.close();
  });
}

// answer(db, call): the call's value and the buffers to transfer with it.
function answer(db: SqliteSequenceDB, { op, args }: SqliteCall): [unknown, ArrayBuffer[]] {
  switch (op) {
    case 'sequence': {
      const { entries, leafHashes } = unpackEntries(args[0] as ArrayBuffer);
      const batch = entries.map((bytes, k) => ({ bytes, leafHash: leafHashes[k]! }));
      const packed = packResults(db.sequence(batch, args[1] as boolean));
      return [packed, [packed.buffer as ArrayBuffer]];
    }
    case 'readEntries': {
      const { entries, leafHashes } = db.readEntries(args[0] as number, args[1] as number);
      const packed = packEntries(entries, leafHashes);
      return [packed, [packed]];
    }
    case 'entry':
      return [db.entry(args[0] as number), []];
    case 'lookup':
      return [db.lookup(args[0] as Uint8Array), []];
    case 'entryBytes':
      return [db.entryBytes(args[0] as number, args[1] as number), []];
    case 'sizeForRoot':
      return [db.sizeForRoot(args[0] as Uint8Array), []];
    case 'rootForSize':
      return [db.rootForSize(args[0] as number), []];
    case 'checkpointHistory':
      return [db.checkpointHistory(args[0] as number, args[1] as number), []];
    case 'checkpointsFrom':
      return [db.checkpointsFrom(args[0] as number, args[1] as number), []];
    case 'state':
      return [db.state(), []];
    case 'commitState':
      // No fork: SqliteSequenceDB.commitState is the compare-and-swap (LOG_FORK, nothing written).
      db.commitState(args[0] as number | null, args[1] as TreeState);
      return [null, []];
    case 'gcCursor':
      return [db.gcCursor(), []];
    case 'setGcCursor':
      db.setGcCursor(args[0] as number);
      return [null, []];
    case 'notePublished':
      db.notePublished(args[0] as number);
      return [null, []];
    case 'witnessSize':
      return [db.witnessSize(args[0] as string), []];
    case 'setWitnessSize':
      db.setWitnessSize(args[0] as string, args[1] as number);
      return [null, []];
    case 'close':
      db.close();
      return [null, []];
    default:
      throw new Error(`sqlite-worker: bad math: unknown operation ${String(op)}`);
  }
}
