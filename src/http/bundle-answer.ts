// Proof bundle answers (spec/BUNDLE.md) for POST /add?wait=checkpoint and
// GET /v1/log/entry/<index>: JSON by default, deterministic CBOR when the
// request's Accept lists application/cbor.

import type { Context } from 'hono';
import { BUNDLE_VERSION, encodeBundleJson, type ProofBundle } from '../client/bundle.js';
import { encodeBundleCbor } from '../client/bundle-cbor.js';

export const CBOR_TYPE = 'application/cbor';

export interface BundleParts {
  index: number;
  entry: Uint8Array;
  inclusionProof: Uint8Array[];
  /** The signed checkpoint note text. */
  checkpoint: string;
}

function wantsCbor(c: Context): boolean {
  const accept = c.req.header('accept') ?? '';
  return accept.split(',').some((part) => part.split(';')[0]!.trim().toLowerCase() === CBOR_TYPE);
}

/** A 200 answer holding the bundle, in the form the client asked for. */
export function bundleAnswer(c: Context, parts: BundleParts, headers: Record<string, string>): Response {
  const bundle: ProofBundle = { version: BUNDLE_VERSION, ...parts };
  if (wantsCbor(c)) {
    return c.body(encodeBundleCbor(bundle) as Uint8Array<ArrayBuffer>, 200, { ...headers, 'Content-Type': CBOR_TYPE, Vary: 'Accept' });
  }
  return c.body(encodeBundleJson(bundle), 200, { ...headers, 'Content-Type': 'application/json', Vary: 'Accept' });
}
