// Shared helpers for the witness tests: fixed keys, a test log that builds
// real trees and signs real checkpoints, and a witness over a temp SQLite file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  consistencyProof,
  EMPTY_ROOT,
  fromHex,
  treeHash,
  type Hash,
} from '../../src/merkle/index.js';
import {
  formatVerifierKey,
  generateCosignerKey,
  generateSignerKey,
  KEY_TYPE_ED25519,
  parseCosignerKey,
  parseSignerKey,
  signCheckpoint,
  type CosignatureSigner,
  type Ed25519Signer,
} from '../../src/note/index.js';
import { createWitnessApp, formatAddCheckpointRequest, SqliteWitnessStore, Witness } from '../../src/witness/index.js';
import { MemoryHashStore, makeLeaves } from '../merkle/helpers.js';

export function tempDir(prefix = 'tilelog-witness-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// ---- PROTOCOLS.md 9.6: the Sigsum-style log of torchwood's litewitness.txt ----

export const SIGSUM_PUB = fromHex('ffdc2d4d98e4124d3feaf788c0c2f9abfd796083d1f0495437f302ec79cf100f');
export const SIGSUM_ORIGIN = 'sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562';
export const SIGSUM_VKEY = formatVerifierKey(SIGSUM_ORIGIN, KEY_TYPE_ED25519, SIGSUM_PUB);

export const SIGSUM_CHECKPOINTS: Record<1 | 3 | 5, { root: string; sig: string }> = {
  1: {
    root: 'KgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    sig: 'UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMFSzVnnNuWRTYrajXpNUbIQY=',
  },
  3: {
    root: 'RcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=',
    sig: 'UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJre36kezNobZs4SUUdrcawfAB8WVrx6go=',
  },
  5: {
    root: 'QrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=',
    sig: 'UgIomw/EOJmWi0i1FQsOj+etB7F8IccFam/jgd6wzRns4QPVmyEZtdvl1U2KEmLOZ/ASRcWJi0tW90dJWAShei7sDww=',
  },
};

export const SIGSUM_PROOFS = {
  '1-3': ['KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'KgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
  '3-5': [
    'KgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    'KgMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    'wgiIFdZfYNv6WU1OllBKsWnLYIS/DBMqt8Uh/S4OukE=',
    'KgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  ],
  '1-5': [
    'KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    '+fUDV+k970B4I3uKrqJM4aP1lloPZP8mvr2Z4wRw2LI=',
    'KgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  ],
};

/** The signed sigsum checkpoint of the given size, optionally with another origin or signature. */
export function sigsumNote(size: 1 | 3 | 5, opts: { origin?: string; sig?: string } = {}): string {
  const c = SIGSUM_CHECKPOINTS[size];
  return `${opts.origin ?? SIGSUM_ORIGIN}\n${size}\n${c.root}\n\n— ${SIGSUM_ORIGIN} ${opts.sig ?? c.sig}\n`;
}

/** An add-checkpoint body from b64 proof lines. */
export function body(old: number, proof: readonly string[], note: string): string {
  return `old ${old}\n${proof.map((p) => `${p}\n`).join('')}\n${note}`;
}

// ---- fixed keys ----

export const WITNESS_NAME = 'witness.tilelog.example/w1';
export const WITNESS_KEY = generateCosignerKey(WITNESS_NAME, new Uint8Array(32).fill(7));

export function witnessSigner(now?: () => number): CosignatureSigner {
  return parseCosignerKey(WITNESS_KEY.signerKey, now === undefined ? {} : { now });
}

// ---- a test log: real trees over deterministic leaves, real signatures ----

export class TestLog {
  readonly signer: Ed25519Signer;
  readonly vkey: string;
  readonly store: MemoryHashStore;

  /** A log of up to maxSize leaves; `seed` picks the entries (another seed = a fork). */
  constructor(
    readonly origin: string,
    readonly maxSize: number,
    seed = 0,
    keySeed = 1,
  ) {
    const pair = generateSignerKey(origin, new Uint8Array(32).fill(keySeed));
    this.signer = parseSignerKey(pair.signerKey);
    this.vkey = pair.verifierKey;
    this.store = new MemoryHashStore(makeLeaves(maxSize, seed));
  }

  async root(size: number): Promise<Hash> {
    return size === 0 ? EMPTY_ROOT : treeHash(size, this.store);
  }

  async checkpoint(size: number): Promise<string> {
    return signCheckpoint({ origin: this.origin, size, root: await this.root(size), extensions: [] }, this.signer);
  }

  async proof(oldSize: number, newSize: number): Promise<Hash[]> {
    if (oldSize === 0) return [];
    return consistencyProof(oldSize, newSize, this.store);
  }

  /** The honest request from oldSize to newSize. */
  async request(oldSize: number, newSize: number): Promise<string> {
    return formatAddCheckpointRequest(oldSize, await this.proof(oldSize, newSize), await this.checkpoint(newSize));
  }
}

// ---- a witness on a temp SQLite file ----

export interface TestWitness {
  dir: string;
  store: SqliteWitnessStore;
  witness: Witness;
  app: ReturnType<typeof createWitnessApp>;
  post(body: string | Uint8Array): Promise<Response>;
  close(): void;
}

export function openTestWitness(opts: { now?: () => number; logs?: [string, string][] } = {}): TestWitness {
  const dir = tempDir();
  const store = new SqliteWitnessStore(path.join(dir, 'witness.db'));
  for (const [origin, vkey] of opts.logs ?? []) store.addLog(origin, vkey);
  const witness = new Witness({ store, signer: witnessSigner(), ...(opts.now !== undefined && { now: opts.now }) });
  const app = createWitnessApp(witness, { logError: () => {} });
  return {
    dir,
    store,
    witness,
    app,
    post: (b) => Promise.resolve(app.request('/add-checkpoint', { method: 'POST', body: typeof b === 'string' ? b : Buffer.from(b) })),
    close: () => store.close(),
  };
}
