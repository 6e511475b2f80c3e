// Rotating the intermediate: a new issuing key, its certificate signed by
// the root, logged as `ca.key.added`; then the old intermediate's
// `ca.key.retired` (reason superseded). Certificates the old one issued stay
// verifiable and revocable; its CRL and OCSP answers are served until the
// last of them expires (intermediates.ts).
//
// A CA whose intermediate is in a PKCS#11 token rotates to another key in
// that token, named by its label (token-intermediate.ts); R1 then records
// its URI in ca-intermediate-<n>.uri instead of writing a key file. A label
// naming no key, or a key the log already holds (root or intermediate), is
// refused before anything is written.
//
// Steps, and what a crash after each leaves:
//   R1 the key file ca-intermediate-<n>.key, or .uri for a token key (exclusive create)
//        -> an orphan key without certificate: skipped, generation n never reused;
//   R2 the certificate ca-intermediate-<n>.crt, signed by the root
//        -> an orphan pair the log does not know: never used to sign;
//   R3 ca.key.added for it; Durable once submitEntry resolves. Issuance
//      switches here: the issuing intermediate is the newest one not retired
//        -> two intermediates not retired: at the next start the CA issues
//           with the new one and retires the old one (CertificateAuthority.open);
//   R4 ca.key.retired for the old one; Durable once retireKey resolves.
// One rotation at a time per process (a second gets CA_ROTATION_CONFLICT at
// once). Two processes of one log rotating at once: both add a key, only one
// retirement of the old key applies (the rules refuse the second); the
// loser retires its own new key, unused, and answers CA_ROTATION_CONFLICT.

import { createHash } from 'node:crypto';
import { TilelogError } from '../errors.js';
import { caKeySubject } from '../registry/entries/index.js';
import type { CertificateAuthority } from './ca.js';
import type { Intermediate } from './intermediates.js';
import type { CaSigner } from './signer.js';
import { newIntermediateKey, newTokenIntermediateKey, nextGeneration, signIntermediate, writeIntermediateCertificate } from './intermediate-keys.js';
import { objectMismatch, openSiblingKey } from './token-intermediate.js';
import { spkiSha256, toHex, u8, x509 } from './x509.js';

export interface Rotation {
  retired: Intermediate;
  added: Intermediate;
  /** Log indexes of the two entries. */
  addedIndex: number;
  retiredIndex: number;
  /** The new key file, or the .uri file naming the token key. */
  keyFile: string;
  certFile: string;
}

const rotating = new WeakSet<CertificateAuthority>();

export interface RotateOptions {
  /** The label of a key already made in the token of the intermediate (a CA whose intermediate is a pkcs11: URI must give one). */
  object?: string;
}

export async function rotateIntermediate(ca: CertificateAuthority, o: RotateOptions = {}): Promise<Rotation> {
  if (ca.dir === null) throw new TilelogError('CA_CONFIG', 'ca: this CA has no CA dir to write a new intermediate key to');
  if ((o.object === undefined) !== (ca.tokenUri === null)) throw objectMismatch(ca.tokenUri);
  if (rotating.has(ca)) throw new TilelogError('CA_ROTATION_CONFLICT', 'ca: a rotation of the intermediate is already running on this server; wait for its answer');
  rotating.add(ca);
  try {
    await ca.index.catchUp();
    const old = ca.intermediates.issuing();
    if (old === null) throw new TilelogError('CA_CONFIG', 'ca: the log has no intermediate CA key to rotate');
    // R1, R2
    const { generation, signer, keyRef } = o.object === undefined ? await freshKey(ca.dir) : await tokenKey(ca, ca.dir, ca.tokenUri!, o.object);
    const cert = await signIntermediate(ca.root, signer, nameOf(old.certificate, generation), ca.now());
    const certFile = writeIntermediateCertificate(ca.dir, generation, cert);
    const spki = spkiSha256(cert);
    ca.intermediates.learn(toHex(spki), signer, keyRef);
    // R3
    const added = await ca.submitEntry({ type: 'ca.key.added', subject: caKeySubject(spki), seq: 0, prev: null, body: { role: 'intermediate', spkiSha256: spki, der: u8(cert.rawData) } });
    // R4
    let retired;
    try {
      retired = await ca.retireKey(old.keyHash, 'superseded');
    } catch (err) {
      if (!(err instanceof TilelogError && err.code === 'CA_ROTATION_CONFLICT')) throw err;
      await ca.retireKey(spki, 'superseded', { ifActive: true });
      const now = ca.intermediates.issuing();
      throw new TilelogError(
        'CA_ROTATION_CONFLICT',
        `ca: another rotation retired ${caKeySubject(old.keyHash)} first${now === null ? '' : ` (the issuing intermediate is now ${caKeySubject(now.keyHash)})`}; this rotation's key ${caKeySubject(spki)} was retired unused`,
      );
    }
    return {
      retired: ca.intermediates.byKeyHash(old.keyHashHex)!,
      added: ca.intermediates.byKeyHash(toHex(spki))!,
      addedIndex: added.index,
      retiredIndex: retired!.index,
      keyFile: keyRef,
      certFile,
    };
  } finally {
    rotating.delete(ca);
  }
}

/** A key in the next free generation: another process rotating in a shared dir may take one first. */
async function freshKey(dir: string): Promise<{ generation: number; signer: CaSigner; keyRef: string }> {
  for (let attempt = 1; ; attempt++) {
    const generation = nextGeneration(dir);
    try {
      return { generation, ...(await newIntermediateKey(dir, generation)) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt === 5) throw err;
    }
  }
}

/** The token key labelled object, refused when the log knows it already; recorded in the next free generation. */
async function tokenKey(ca: CertificateAuthority, dir: string, tokenUri: string, object: string): Promise<{ generation: number; signer: CaSigner; keyRef: string }> {
  const { uri, signer } = await openSiblingKey(tokenUri, object);
  const hex = createHash('sha256').update(u8(await signer.crypto.subtle.exportKey('spki', signer.publicKey))).digest('hex');
  const known = ca.index.caKey(hex);
  if (known !== null) {
    signer.close?.();
    throw new TilelogError(
      'CA_BAD_REQUEST',
      `ca: the token key object=${object} is already the CA's ${known.role} ca:${hex}${known.retired ? ' (retired)' : ''}; a rotation needs a key never used: make one with tilelog keygen --ca --key and another object=`,
    );
  }
  for (let attempt = 1; ; attempt++) {
    const generation = nextGeneration(dir);
    try {
      return { generation, signer, keyRef: newTokenIntermediateKey(dir, generation, uri) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt === 5) {
        signer.close?.();
        throw err;
      }
    }
  }
}

/** The old intermediate's common name with the generation instead of any trailing number (at most 64 characters). */
function nameOf(old: x509.X509Certificate, generation: number): x509.JsonName {
  const cn = old.subjectName.getField('CN')[0] ?? 'tilelog agent issuing CA';
  const base = cn.replace(/ [0-9]+$/, '').slice(0, 64 - 1 - String(generation).length);
  return [{ CN: [`${base} ${generation}`] }];
}
