// CertificateAuthority: a thin submitter like the registry. It signs agent
// certificates with the intermediate key and logs each one as a
// `cert.issued` entry (signed by the registry's submitter key) BEFORE the
// certificate leaves it: issue() returns only after Registry.submit has
// sequenced the entry durably and a checkpoint covers it. Revocations are
// `cert.revoked` entries; CRL and OCSP (crl.ts, ocsp.ts) read the CaIndex,
// a fold of the log, so they can be rebuilt from the log alone.
// Several intermediates can be in the log (rotate.ts adds one and retires
// the one before); intermediates.ts says which one issues and which keys
// this process holds.
//
// One issuance:
//   1. prepareCsr: parse the PKCS#10 request and verify its signature with
//      the key it carries (proof of possession); Ed25519 or ECDSA P-256 keys;
//   2. build and sign the certificate (profile below); it exists only here;
//   3. Registry.submit(cert.issued): admission (the agent is active, the
//      issuer is a CA key in the log, both judged with every write admitted
//      before it), log.add (Durable: once it resolves), wait for a checkpoint,
//      fold; a refusal means the certificate is dropped. Issuances are not
//      serialised: they share the registry's write pipeline (batches and
//      checkpoints) with every other registry write (write-pipeline.ts);
//   4. with supersede (rotation), revoke the agent's earlier certificates
//      (`superseded`); a crash between 3 and 4 leaves both valid until the
//      next rotation or revocation of the agent revokes the older one;
//   5. return the certificate with its entry's index.
//
// Certificate profile (RFC 5280): subject CN=<agent host> (empty subject
// and a critical SAN when the host is longer than 64 octets); SAN URI = the
// ANS name, SAN DNS = the host; basicConstraints CA:false (critical);
// keyUsage digitalSignature (critical); extKeyUsage clientAuth and
// serverAuth (agents call each other with mutual TLS, each side presents
// its certificate); SKI, AKI; validity [now - 60 s, now + validity).

import { randomBytes } from 'node:crypto';
import { isTilelogError, TilelogError } from '../errors.js';
import { isPkcs11Uri } from '../hsm/pkcs11-uri.js';
import {
  caKeySubject,
  certSubject,
  encodeEntry,
  type CertIssuedBody,
  type RevocationReason,
  type UnsignedEntry,
} from '../registry/entries/index.js';
import { parseAnsName } from '../registry/names.js';
import type { Registry, WriteResult } from '../registry/registry.js';
import { CaIndex, type CertState } from './ca-index.js';
import { Intermediates, type Intermediate } from './intermediates.js';
import { intermediateFiles } from './intermediate-keys.js';
import type { CaKey, CaKeys } from './keys.js';
import type { CaSigner } from './signer.js';
import { derSha256, ECDSA_P256, pemOrBase64, serialBytes, spkiSha256, toHex, u8, x509 } from './x509.js';

export interface CaOptions {
  registry: Registry;
  /** The root and the first intermediate (keys.ts). */
  keys: CaKeys;
  /** The CA dir: rotations write their keys there, and keys of later intermediates are read from it. Absent: no rotation. */
  dir?: string;
  /** The configured intermediate key reference: a pkcs11: URI makes rotations take their new key from that token (rotate.ts). */
  intermediateKey?: string;
  /** Agent certificate lifetime. Default 86400 (one day). */
  validitySeconds?: number;
  /** CRL nextUpdate - thisUpdate, and OCSP nextUpdate - thisUpdate. Default 3600. */
  statusValiditySeconds?: number;
  nowMs?: () => number;
}

export interface PreparedCsr {
  csr: x509.Pkcs10CertificateRequest;
  /** The raw Ed25519 public key when the CSR carries one (it can be the agent's registry key). */
  ed25519: Uint8Array | null;
}

export interface IssuedCert {
  certificate: x509.X509Certificate;
  pem: string;
  serial: string;
  write: WriteResult;
  /** Earlier certificates revoked as superseded. */
  superseded: string[];
  /** The intermediate that signed it. */
  issuer: Intermediate;
}

const CLOCK_SKEW_MS = 60_000;

export class CertificateAuthority {
  readonly registry: Registry;
  readonly root: CaKey;
  readonly dir: string | null;
  /** The first intermediate's pkcs11: URI, whose token later intermediates live in; null: a file-key CA. */
  readonly tokenUri: string | null;
  readonly index: CaIndex;
  readonly intermediates: Intermediates;
  readonly validitySeconds: number;
  readonly statusValiditySeconds: number;
  readonly now: () => number;

  private constructor(o: CaOptions) {
    this.registry = o.registry;
    this.root = o.keys.root;
    this.dir = o.dir ?? null;
    this.tokenUri = o.intermediateKey !== undefined && isPkcs11Uri(o.intermediateKey) ? o.intermediateKey : null;
    this.index = new CaIndex(o.registry);
    const first = o.keys.intermediate;
    const keyFile = this.dir === null ? undefined : intermediateFiles(this.dir, 1).key;
    this.intermediates = new Intermediates(this.index, this.dir, { ...first, keyHashHex: toHex(spkiSha256(first.certificate)), ...(keyFile !== undefined && { keyFile }) });
    this.validitySeconds = o.validitySeconds ?? 86_400;
    this.statusValiditySeconds = o.statusValiditySeconds ?? 3600;
    this.now = o.nowMs ?? Date.now;
  }

  /**
   * Folds the log, logs `ca.key.added` for the root, and for the first
   * intermediate when the log has no intermediate yet; reads the CA dir's
   * later intermediate keys; finishes a rotation that stopped between its
   * two entries (retires the older intermediates once the issuing one's key is here).
   */
  static async open(o: CaOptions): Promise<CertificateAuthority> {
    const ca = new CertificateAuthority(o);
    await ca.index.catchUp();
    await ca.#addIfMissing('root', o.keys.root.certificate);
    if (ca.index.caKeys('intermediate').length === 0) await ca.#addIfMissing('intermediate', o.keys.intermediate.certificate);
    await ca.intermediates.reload();
    const issuing = ca.intermediates.issuing();
    if (issuing !== null && ca.intermediates.hasSigner(issuing)) {
      for (const old of ca.intermediates.unfinished()) await ca.retireKey(old.keyHash, 'superseded', { ifActive: true });
    }
    return ca;
  }

  async #addIfMissing(role: 'root' | 'intermediate', cert: x509.X509Certificate): Promise<void> {
    const spki = spkiSha256(cert);
    const known = this.index.caKey(toHex(spki));
    if (known?.retired) throw new TilelogError('CA_CONFIG', `ca: the ${role} key ${caKeySubject(spki)} is retired in the log`);
    if (known !== null) return;
    try {
      await this.submitEntry({ type: 'ca.key.added', subject: caKeySubject(spki), seq: 0, prev: null, body: { role, spkiSha256: spki, der: u8(cert.rawData) } });
    } catch (err) {
      // Processes sharing the CA keys (one log on PostgreSQL) may start at once: another one logged the key first.
      if (!(err instanceof TilelogError && err.code === 'REGISTRY_CONFLICT')) throw err;
      await this.index.catchUp();
      if (this.index.caKey(toHex(spki)) === null) throw err;
    }
  }

  /** The root and the issuing intermediate (CA_KEY_UNAVAILABLE when this process lacks the latter's key). */
  get keys(): CaKeys {
    const i = this.intermediates.issuing();
    if (i === null) throw new TilelogError('CA_CONFIG', 'ca: every intermediate in the log is retired');
    const signer = this.intermediates.heldSigner(i);
    if (signer === null) throw new TilelogError('CA_KEY_UNAVAILABLE', `ca: this process has no key for the issuing intermediate ca:${i.keyHashHex}`);
    return { root: this.root, intermediate: { signer, certificate: i.certificate } };
  }

  /** The issuing intermediate and its key, after following the log (another process may have rotated). */
  async issuingKey(): Promise<{ intermediate: Intermediate; signer: CaSigner }> {
    await this.index.catchUp();
    const intermediate = this.intermediates.issuing();
    if (intermediate === null) throw new TilelogError('CA_CONFIG', 'ca: every intermediate in the log is retired (by a ca.key.retired written outside a rotation); this CA cannot issue');
    return { intermediate, signer: await this.intermediates.signer(intermediate) };
  }

  /** An intermediate's certificate (default: the issuing one), then the root (PEM). */
  chainPem(intermediate: Intermediate | null = this.intermediates.issuing()): string {
    return (intermediate === null ? '' : intermediate.certificate.toString('pem') + '\n') + this.root.certificate.toString('pem') + '\n';
  }

  /** Step 1: parse a PEM (or base64 DER) CSR and check proof of possession. */
  async prepareCsr(text: unknown): Promise<PreparedCsr> {
    if (typeof text !== 'string') throw new TilelogError('CA_BAD_CSR', 'ca: csr must be a PEM CERTIFICATE REQUEST');
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(pemOrBase64(text, 'CERTIFICATE REQUEST'));
    } catch {
      throw new TilelogError('CA_BAD_CSR', 'ca: csr does not parse as a PKCS#10 certificate request');
    }
    const alg = csr.publicKey.algorithm as { name: string; namedCurve?: string };
    const ed25519 = alg.name === 'Ed25519';
    if (!ed25519 && !(alg.name === 'ECDSA' && alg.namedCurve === 'P-256')) {
      throw new TilelogError('CA_BAD_CSR', `ca: the CSR key is ${alg.name}${alg.namedCurve ? ` ${alg.namedCurve}` : ''}; accepted: Ed25519, ECDSA P-256`);
    }
    let ok = false;
    try {
      ok = await csr.verify();
    } catch {
      ok = false;
    }
    if (!ok) throw new TilelogError('CA_BAD_CSR', 'ca: the CSR signature does not verify with its public key (no proof of possession)');
    return { csr, ed25519: ed25519 ? u8(csr.publicKey.rawData).slice(-32) : null };
  }

  /** Steps 2-5. */
  async issue(agent: string, prepared: PreparedCsr, o: { supersede?: boolean } = {}): Promise<IssuedCert> {
    const host = parseAnsName(agent).host;
    for (let attempt = 1; ; attempt++) {
      const { intermediate, signer } = await this.issuingKey();
      const certificate = await this.#sign(agent, host, prepared.csr, intermediate, signer);
      const body: CertIssuedBody = {
        agent,
        issuerKeyHash: intermediate.keyHash,
        serial: serialBytes(certificate),
        sha256: derSha256(certificate),
        spkiSha256: spkiSha256(certificate),
        uris: [agent],
        dnsNames: [host],
        notBefore: Math.floor(certificate.notBefore.getTime() / 1000),
        notAfter: Math.floor(certificate.notAfter.getTime() / 1000),
        der: u8(certificate.rawData),
      };
      let write: WriteResult;
      try {
        // 3. Durable and checkpointed before anything is returned.
        write = await this.submitEntry({ type: 'cert.issued', subject: certSubject(body.serial), seq: 0, prev: null, body });
      } catch (err) {
        // A rotation retired the intermediate while this certificate was being signed: sign again with the new one.
        await this.index.catchUp();
        if (attempt < 3 && isTilelogError(err, 'REGISTRY_CONFLICT') && this.intermediates.issuing()?.keyHashHex !== intermediate.keyHashHex) continue;
        throw err;
      }
      const serial = toHex(body.serial);
      const superseded: string[] = [];
      if (o.supersede === true) {
        for (const c of this.index.agentCerts(agent)) {
          if (c.serial !== serial && c.revoked === null) (await this.revoke(c.serial, 'superseded'), superseded.push(c.serial));
        }
      }
      return { certificate, pem: certificate.toString('pem') + '\n', serial, write, superseded, issuer: intermediate };
    }
  }

  /**
   * Logs `cert.revoked`; idempotent (an already revoked certificate answers
   * its revocation). The entry is built during admission from the newest
   * head (Registry.write), so two revocations racing for one certificate
   * chain or dedupe instead of both claiming the same seq.
   */
  async revoke(serialHex: string, reason: RevocationReason): Promise<CertState> {
    await this.index.catchUp();
    const c = this.index.cert(serialHex);
    if (c === null) throw new TilelogError('REGISTRY_NOT_FOUND', `ca: no certificate with serial ${serialHex}`);
    if (c.revoked !== null) return c;
    const subject = certSubject(c.issued.body.serial);
    await this.registry.write<null>((view) => {
      const head = view.head(subject)!;
      if (head.entry.type !== 'cert.revoked') {
        return { leaf: this.#encode({ type: 'cert.revoked', subject, seq: head.seq + 1, prev: head.leafHash, body: { serial: c.issued.body.serial, reason } }, head.time), signatureVerified: true };
      }
      const pending = view.pendingHead(subject);
      return pending === null ? { answer: null } : { waitFor: [pending] };
    });
    await this.index.catchUp();
    return this.index.cert(serialHex)!;
  }

  /** Revokes every unrevoked certificate of the agent (after agent.revoked); returns their serials. */
  async revokeAgent(agent: string, reason: RevocationReason): Promise<string[]> {
    await this.index.catchUp();
    const out: string[] = [];
    for (const c of this.index.agentCerts(agent)) {
      if (c.revoked === null) (await this.revoke(c.serial, reason), out.push(c.serial));
    }
    return out;
  }

  /**
   * Logs `ca.key.retired` for a CA key, built from its newest head during
   * admission. Already retired: CA_ROTATION_CONFLICT (another rotation came
   * first), or nothing with ifActive.
   */
  async retireKey(keyHash: Uint8Array, reason: RevocationReason, o: { ifActive?: boolean } = {}): Promise<WriteResult | null> {
    const subject = caKeySubject(keyHash);
    const retired = () => new TilelogError('CA_ROTATION_CONFLICT', `ca: ${subject} is already retired (another rotation retired it first)`);
    let r: WriteResult | null;
    try {
      r = await this.registry.write<null>((view) => {
        const head = view.head(subject);
        if (head === null || head.entry.type !== 'ca.key.added') {
          if (head !== null && o.ifActive === true) return { answer: null };
          throw head === null ? new TilelogError('CA_NOT_FOUND', `ca: no CA key ${subject} in the log`) : retired();
        }
        return { leaf: this.#encode({ type: 'ca.key.retired', subject, seq: head.seq + 1, prev: head.leafHash, body: { reason } }, head.time), signatureVerified: true };
      });
    } catch (err) {
      // Another process's retirement reached the log around ours: the fold refused ours.
      if (!isTilelogError(err, 'REGISTRY_CONFLICT')) throw err;
      await this.index.catchUp();
      if (o.ifActive === true && this.index.caKey(toHex(keyHash))?.retired === true) return null;
      throw retired();
    }
    await this.index.catchUp();
    return r;
  }

  async #sign(agent: string, host: string, csr: x509.Pkcs10CertificateRequest, issuer: Intermediate, signer: CaSigner): Promise<x509.X509Certificate> {
    const inter = { certificate: issuer.certificate, signer };
    const serial = randomBytes(16);
    serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, 16 octets, no leading zero
    const now = this.now();
    const longHost = host.length > 64;
    return x509.X509CertificateGenerator.create(
      {
        serialNumber: serial.toString('hex'),
        subject: longHost ? [] : `CN=${host}`,
        issuer: inter.certificate.subject,
        notBefore: new Date(Math.floor((now - CLOCK_SKEW_MS) / 1000) * 1000),
        notAfter: new Date(Math.floor(now / 1000) * 1000 + this.validitySeconds * 1000),
        signingAlgorithm: ECDSA_P256,
        publicKey: csr.publicKey,
        signingKey: inter.signer.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth], false),
          new x509.SubjectAlternativeNameExtension([{ type: 'url', value: agent }, { type: 'dns', value: host }], longHost),
          await x509.SubjectKeyIdentifierExtension.create(csr.publicKey, false, inter.signer.crypto),
          await x509.AuthorityKeyIdentifierExtension.create(inter.signer.publicKey, false, inter.signer.crypto),
        ],
      },
      inter.signer.crypto,
    );
  }

  /** Signs an entry with the registry's key and submits it; returns once it is applied and folded. */
  async submitEntry(e: Pick<UnsignedEntry, 'type' | 'subject' | 'seq' | 'prev' | 'body'>): Promise<WriteResult> {
    const r = await this.registry.submit(this.#encode(e));
    await this.index.catchUp();
    return r;
  }

  #encode(e: Pick<UnsignedEntry, 'type' | 'subject' | 'seq' | 'prev' | 'body'>, notBefore = 0): Uint8Array {
    const key = this.registry.key;
    const time = Math.max(Math.floor(this.now() / 1000), notBefore);
    return encodeEntry({ v: 1, time, kid: key.kid, ...e } as UnsignedEntry, key);
  }
}
