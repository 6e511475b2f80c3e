// A fetch for readers that speak HTTP (the monitor's TileClient) over a
// bucket read with the S3 API: URLs under `s3://<bucket>[/<prefix>]/` are
// answered from the store (200 with the bytes, 404 when absent, 400 for a
// path outside the tlog-tiles layout); every other URL goes to `inner`.

import type { FetchLike } from '../client/index.js';
import { TilelogError } from '../errors.js';
import type { TileStore } from '../storage/tile-store.js';

export function storeFetch(base: string, store: TileStore, inner: FetchLike = (url, init) => fetch(url, init)): FetchLike {
  const prefix = `${base.replace(/\/+$/, '')}/`;
  return async function fetchFromStore(url, init) {
    if (!url.startsWith(prefix)) return inner(url, init);
    const objectPath = url.slice(prefix.length);
    let data: Uint8Array | null;
    try {
      data = await store.read(objectPath);
    } catch (err) {
      if (err instanceof TilelogError && err.code === 'LAYOUT_BAD_PATH') return new Response(err.message, { status: 400 });
      throw err;
    }
    if (data === null) return new Response(`${url}: not found`, { status: 404 });
    const type = objectPath === 'checkpoint' ? 'text/plain; charset=utf-8' : 'application/octet-stream';
    // A copy typed on a plain ArrayBuffer, as BodyInit wants.
    return new Response(new Uint8Array(data), { status: 200, headers: { 'Content-Type': type } });
  };
}
