// Intermediates: every issuing CA key the log shows (ca.key.added with role
// intermediate, retired or not), joined with the keys this process holds.
// The log decides; files only supply signers:
//   - the certificate of each intermediate is the DER its ca.key.added
//     carries, so verifying under any of them needs no file;
//   - the issuing intermediate is the newest one added and not retired.
//     During a rotation (after ca.key.added of the new one, before
//     ca.key.retired of the old) that is already the new one, so issuance
//     switches as soon as the new key is logged;
//   - a signer is the key file (or token key named by a .uri file) whose
//     certificate has the same SPKI SHA-256 (intermediate-keys.ts). A logged intermediate without one here (another
//     process of the log rotated) makes the dir be read again; still missing,
//     issuing (or its CRL and OCSP) fails with CA_KEY_UNAVAILABLE, naming
//     the files to copy.
// A retired intermediate never issues again (the rules refuse cert.issued
// under it too); its CRL and OCSP answers are served until the last
// certificate it issued expires (servedUntilMs), and not after.

import { TilelogError } from '../errors.js';
import type { CaIndex, CaKeyState } from './ca-index.js';
import type { CaKey } from './keys.js';
import type { CaSigner } from './signer.js';
import { scanIntermediateKeys } from './intermediate-keys.js';
import { u8, x509 } from './x509.js';

export interface Intermediate {
  /** SHA-256 hex of its SPKI: the ca:<hex> subject, the issuerKeyHash of what it issued. */
  keyHashHex: string;
  keyHash: Uint8Array;
  /** The certificate as logged. */
  certificate: x509.X509Certificate;
  addedIndex: number;
  retired: boolean;
  retiredIndex: number | null;
}

export class Intermediates {
  readonly #signers = new Map<string, { signer: CaSigner; keyFile: string }>();
  readonly #certs = new Map<string, x509.X509Certificate>();

  /** dir: the CA dir (null: only the first key, as in tests without a dir). */
  constructor(
    private readonly index: CaIndex,
    private readonly dir: string | null,
    first: CaKey & { keyHashHex: string; keyFile?: string },
  ) {
    this.#signers.set(first.keyHashHex, { signer: first.signer, keyFile: first.keyFile ?? 'ca-intermediate.key' });
  }

  /** Every logged intermediate, oldest first (call index.catchUp before). */
  all(): Intermediate[] {
    return this.index.caKeys('intermediate').map((k) => this.#of(k));
  }

  byKeyHash(hex: string): Intermediate | null {
    const k = this.index.caKey(hex);
    return k === null || k.role !== 'intermediate' ? null : this.#of(k);
  }

  /** The issuing intermediate: the newest added and not retired; null when the log has none. */
  issuing(): Intermediate | null {
    const active = this.all().filter((i) => !i.retired);
    return active.at(-1) ?? null;
  }

  /** Intermediates not retired, older than the issuing one: left by a rotation that stopped before retiring them. */
  unfinished(): Intermediate[] {
    return this.all().filter((i) => !i.retired).slice(0, -1);
  }

  /** Until when its CRL and OCSP answers are served (ms): forever while active, else until its last certificate expires (at least until its retirement). */
  servedUntilMs(i: Intermediate): number {
    if (!i.retired) return Number.POSITIVE_INFINITY;
    return Math.max(this.index.issuedBy(i.keyHashHex).lastNotAfter, this.index.caKey(i.keyHashHex)!.retiredTime!) * 1000;
  }

  hasSigner(i: Intermediate): boolean {
    return this.#signers.has(i.keyHashHex);
  }

  /** The key of i if this process holds it now (no dir read). */
  heldSigner(i: Intermediate): CaSigner | null {
    return this.#signers.get(i.keyHashHex)?.signer ?? null;
  }

  /** The key of i: from memory, else from the dir read again; CA_KEY_UNAVAILABLE when this process has none. */
  async signer(i: Intermediate): Promise<CaSigner> {
    if (!this.#signers.has(i.keyHashHex) && this.dir !== null) await this.reload();
    const s = this.#signers.get(i.keyHashHex);
    if (s !== undefined) return s.signer;
    throw new TilelogError(
      'CA_KEY_UNAVAILABLE',
      `ca: this process has no key for the intermediate ca:${i.keyHashHex} (${i.certificate.subject}, logged at index ${i.addedIndex}); ` +
        `another process of this log made it in a rotation: copy its ca-intermediate-<n>.key and .crt from that process's CA dir into ${this.dir ?? 'the CA dir'} (.uri instead of .key for a key in a token, which this process must reach too; read at the next request, no restart)`,
    );
  }

  /** Adds a key this process just made (a rotation). */
  learn(keyHashHex: string, signer: CaSigner, keyFile: string): void {
    this.#signers.set(keyHashHex, { signer, keyFile });
  }

  /** Reads the CA dir's intermediate key files again. */
  async reload(): Promise<void> {
    if (this.dir === null) return;
    for (const k of await scanIntermediateKeys(this.dir, (hex) => this.#signers.has(hex))) this.#signers.set(k.keyHashHex, { signer: k.signer, keyFile: k.keyFile });
  }

  #of(k: CaKeyState): Intermediate {
    let cert = this.#certs.get(k.spkiSha256);
    if (cert === undefined) this.#certs.set(k.spkiSha256, (cert = new x509.X509Certificate(u8(k.der))));
    return { keyHashHex: k.spkiSha256, keyHash: new Uint8Array(Buffer.from(k.spkiSha256, 'hex')), certificate: cert, addedIndex: k.addedIndex, retired: k.retired, retiredIndex: k.retiredIndex };
  }
}
