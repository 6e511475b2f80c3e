// Runs the test S3 server (s3-server.ts) as its own process, so tests can
// keep the store alive while log processes are killed, paused or replaced:
//   node --import tsx test/support/s3-server-main.ts [--port N] [--host H]
//        [--bucket NAME]... [--public-read]
// or, from the README: npm run s3-test-server -- --port 9000 --bucket tilelog --public-read
// Prints one JSON line on stdout once listening: {"url":"http://127.0.0.1:PORT","pid":N}.
// Faults, holds and the request log are driven over HTTP under /_s3test/
// (see S3TestServer's #control). Exits on SIGTERM/SIGINT, or, when stdin is a
// pipe from a parent, when it closes (so an orphaned server dies with the test
// that started it; a terminal or /dev/null on stdin, as for `npm run ... &`
// in a shell, is not watched).

import { fstatSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startS3TestServer } from './s3-server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    bucket: { type: 'string', multiple: true, default: [] },
    'public-read': { type: 'boolean', default: false },
  },
});

const server = await startS3TestServer({
  port: Number(values.port),
  host: values.host,
  buckets: values.bucket,
  publicRead: values['public-read'],
});
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);

const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
const stdin = fstatSync(0);
if (stdin.isFIFO() || stdin.isSocket()) {
  process.stdin.on('end', stop);
  process.stdin.resume();
}
