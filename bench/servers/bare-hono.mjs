// The baseline server: a bare hono handler on @hono/node-server that reads
// the body and answers with a counter, doing no durable work at all.
import { Hono } from 'hono';
import { serve } from '@hono/node-server';

const port = Number(process.argv[2]);
let next = 0;
const app = new Hono();
app.post('/add', async (c) => {
  await c.req.arrayBuffer();
  return c.json({ index: next++ });
});
app.get('/healthz', (c) => c.text('ok'));
serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, () => console.log('ready'));
