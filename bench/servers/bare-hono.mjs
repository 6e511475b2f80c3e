// The baseline server: a bare hono handler on @hono/node-server that reads
// the body, hashes it (SHA-256, as a leaf hash) and answers with a counter,
// doing no durable work at all (issue 14's "bare handler").
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';

const port = Number(process.argv[2]);
let next = 0;
const app = new Hono();
app.post('/add', async (c) => {
  const body = new Uint8Array(await c.req.arrayBuffer());
  const leafHash = createHash('sha256').update(Uint8Array.of(0)).update(body).digest();
  return c.json({ index: next++, leaf: leafHash[0] });
});
app.get('/healthz', (c) => c.text('ok'));
serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, () => console.log('ready'));
