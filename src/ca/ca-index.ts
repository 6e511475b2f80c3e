// CaIndex: the CA's view of the log, an in-memory fold of the certificate
// entries the registry's state index applied (an entry refused by the rules
// changes nothing here either). Rebuilt from the log alone at every start:
// the CRL, OCSP answers and /v1/verify/cert read only this.
//   certs      serial hex -> issuance (entry index, body) and revocation (index, reason, time)
//   byAgent    agent name -> serials, in issuance order
//   caKeys     SPKI SHA-256 hex -> role, certificate DER, added/retired indexes
//   issuedBy   issuing key's SPKI SHA-256 hex -> certificates logged, last notAfter

import { leafHash } from '../merkle/hash.js';
import { decodeEntry, type CertIssuedBody, type RevocationReason } from '../registry/entries/index.js';
import type { Registry } from '../registry/registry.js';
import { toHex } from './x509.js';

export interface CertState {
  serial: string;
  issued: { index: number; leafHash: Uint8Array; time: number; body: CertIssuedBody };
  revoked: { index: number; reason: RevocationReason; time: number } | null;
}

export interface CaKeyState {
  spkiSha256: string;
  role: 'root' | 'intermediate';
  der: Uint8Array;
  addedIndex: number;
  retired: boolean;
  retiredIndex: number | null;
  /** The ca.key.retired entry's time (Unix seconds). */
  retiredTime: number | null;
}

/** What one CA key issued: how many certificates, and when the last of them expires (Unix seconds). */
export interface IssuedByKey {
  count: number;
  lastNotAfter: number;
}

export class CaIndex {
  readonly #certs = new Map<string, CertState>();
  readonly #byAgent = new Map<string, string[]>();
  readonly #bySha = new Map<string, string>();
  readonly #caKeys = new Map<string, CaKeyState>();
  readonly #issuedBy = new Map<string, IssuedByKey>();
  #next = 0;
  #running: Promise<void> | null = null;

  constructor(private readonly registry: Registry) {}

  /**
   * Brings the registry index up to the log's checkpoint, then folds every
   * leaf it has applied since the last call: [next, registry.index.nextIndex).
   * Concurrent callers share one pass (a leaf must be folded once), then a
   * caller that came during it runs again.
   */
  async catchUp(): Promise<void> {
    // The registry index first follows the log's published entries (other processes' too).
    await this.registry.catchUp();
    while (this.#running !== null) await this.#running;
    this.#running = this.#fold().finally(() => (this.#running = null));
    return this.#running;
  }

  async #fold(): Promise<void> {
    const end = this.registry.index.nextIndex;
    for (; this.#next < end; this.#next++) {
      const i = this.#next;
      if (this.registry.index.outcome(i)?.applied !== true) continue;
      const leaf = await this.registry.log.entry(i);
      const e = decodeEntry(leaf);
      switch (e.type) {
        case 'cert.issued': {
          const serial = toHex(e.body.serial);
          this.#certs.set(serial, { serial, issued: { index: i, leafHash: leafHash(leaf), time: e.time, body: e.body }, revoked: null });
          this.#byAgent.set(e.body.agent, [...(this.#byAgent.get(e.body.agent) ?? []), serial]);
          this.#bySha.set(toHex(e.body.sha256), serial);
          const by = this.#issuedBy.get(toHex(e.body.issuerKeyHash)) ?? { count: 0, lastNotAfter: 0 };
          this.#issuedBy.set(toHex(e.body.issuerKeyHash), { count: by.count + 1, lastNotAfter: Math.max(by.lastNotAfter, e.body.notAfter) });
          break;
        }
        case 'cert.revoked':
          this.#certs.get(toHex(e.body.serial))!.revoked = { index: i, reason: e.body.reason, time: e.time };
          break;
        case 'ca.key.added':
          this.#caKeys.set(toHex(e.body.spkiSha256), { spkiSha256: toHex(e.body.spkiSha256), role: e.body.role, der: e.body.der, addedIndex: i, retired: false, retiredIndex: null, retiredTime: null });
          break;
        case 'ca.key.retired': {
          const k = this.#caKeys.get(e.subject.slice('ca:'.length))!;
          k.retired = true;
          k.retiredIndex = i;
          k.retiredTime = e.time;
          break;
        }
        default:
          break;
      }
    }
  }

  cert(serialHex: string): CertState | null {
    return this.#certs.get(serialHex) ?? null;
  }

  certBySha256(hex: string): CertState | null {
    const s = this.#bySha.get(hex);
    return s === undefined ? null : this.#certs.get(s)!;
  }

  /** The agent's certificates, oldest first. */
  agentCerts(agent: string): CertState[] {
    return (this.#byAgent.get(agent) ?? []).map((s) => this.#certs.get(s)!);
  }

  /** Revoked certificates issued under the key with this SPKI hash, in revocation order. */
  revokedBy(issuerKeyHashHex: string): CertState[] {
    return [...this.#certs.values()]
      .filter((c) => c.revoked !== null && toHex(c.issued.body.issuerKeyHash) === issuerKeyHashHex)
      .sort((a, b) => a.revoked!.index - b.revoked!.index);
  }

  caKey(spkiSha256Hex: string): CaKeyState | null {
    return this.#caKeys.get(spkiSha256Hex) ?? null;
  }

  /** The CA keys of a role, retired or not, in the order the log added them. */
  caKeys(role: CaKeyState['role']): CaKeyState[] {
    return [...this.#caKeys.values()].filter((k) => k.role === role).sort((a, b) => a.addedIndex - b.addedIndex);
  }

  /** What the key with this SPKI hash issued (count 0 when nothing). */
  issuedBy(spkiSha256Hex: string): IssuedByKey {
    return this.#issuedBy.get(spkiSha256Hex) ?? { count: 0, lastNotAfter: 0 };
  }

  /** The highest log index folded so far + 1 (the CRL number). */
  get nextIndex(): number {
    return this.#next;
  }
}
