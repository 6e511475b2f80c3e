// The intermediates' key files in the CA dir. The first intermediate is
// keys.ts's pair (ca-intermediate.key/.crt, generation 1); each rotation
// adds the next generation n >= 2:
//   ca-intermediate-<n>.key   PKCS#8 PEM, mode 0600, created exclusively
//   ca-intermediate-<n>.uri   or, for a key in a PKCS#11 token, its pkcs11: URI
//                             (one line, no PIN: pin-value is refused at parse),
//                             created exclusively
//   ca-intermediate-<n>.crt   PEM, signed by the root
// No index file: the log is the index. A key file is matched to a logged
// intermediate by the SHA-256 of its certificate's SPKI (the ca:<hex>
// subject), so files can be copied between processes of one log in any
// order. A key without its certificate (a rotation that stopped between the
// two writes) is skipped, and its generation is never reused.
// newIntermediateKey makes a new file key; newTokenIntermediateKey records a
// key already made in a token (tilelog keygen --ca), which never leaves it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TilelogError } from '../errors.js';
import type { CaKey } from './keys.js';
import { generateSigner, openCaSigner, readKeyFile, type CaSigner } from './signer.js';
import { spkiSha256, toHex, u8, x509 } from './x509.js';

export interface IntermediateKeyFile {
  generation: number;
  /** The key file, or the .uri file naming a token key. */
  keyFile: string;
  /** SHA-256 hex of the certificate's SPKI. */
  keyHashHex: string;
  signer: CaSigner;
  certificate: x509.X509Certificate;
}

const FILE = /^ca-intermediate(?:-([1-9][0-9]{0,5}))?\.(key|uri|crt)$/;
const YEAR_MS = 365 * 24 * 3600 * 1000;

/** The key, token-key URI and certificate files of a generation (1: keys.ts's names). */
export function intermediateFiles(dir: string, generation: number): { key: string; uri: string; crt: string } {
  const base = generation === 1 ? 'ca-intermediate' : `ca-intermediate-${generation}`;
  return { key: path.join(dir, `${base}.key`), uri: path.join(dir, `${base}.uri`), crt: path.join(dir, `${base}.crt`) };
}

/** Generations that have a key or certificate file, ascending. */
function generations(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out = new Set<number>();
  for (const n of names) {
    const m = FILE.exec(n);
    if (m !== null) out.add(m[1] === undefined ? 1 : Number(m[1]));
  }
  return [...out].sort((a, b) => a - b);
}

/** The generation a rotation writes next: one above every file present. */
export function nextGeneration(dir: string): number {
  return Math.max(1, ...generations(dir)) + 1;
}

/**
 * Every intermediate key with its certificate in dir, except those held
 * already (a token key is opened only when needed: each open is a session);
 * a certificate not of its key is refused.
 */
export async function scanIntermediateKeys(dir: string, held: (keyHashHex: string) => boolean = () => false): Promise<IntermediateKeyFile[]> {
  const out: IntermediateKeyFile[] = [];
  for (const generation of generations(dir)) {
    const f = intermediateFiles(dir, generation);
    const keyFile = fs.existsSync(f.key) ? f.key : fs.existsSync(f.uri) ? f.uri : null;
    if (keyFile === null || !fs.existsSync(f.crt)) continue;
    const certificate = new x509.X509Certificate(fs.readFileSync(f.crt, 'utf8'));
    const keyHashHex = toHex(spkiSha256(certificate));
    if (held(keyHashHex)) continue;
    const signer = keyFile === f.key ? await readKeyFile(f.key) : await openCaSigner(readUriFile(f.uri));
    const spki = u8(await signer.crypto.subtle.exportKey('spki', signer.publicKey));
    if (!Buffer.from(spki).equals(Buffer.from(u8(certificate.publicKey.rawData)))) {
      throw new TilelogError('CA_CONFIG', `ca: ${f.crt} is not the certificate of the key ${keyFile === f.key ? 'in' : 'named by'} ${keyFile}`);
    }
    out.push({ generation, keyFile, keyHashHex, signer, certificate });
  }
  return out;
}

function readUriFile(file: string): string {
  const uri = fs.readFileSync(file, 'utf8').split('\n')[0]!.trim();
  if (!/^pkcs11:/i.test(uri)) throw new TilelogError('CA_CONFIG', `ca: ${file} must hold the pkcs11: URI of an intermediate key in a token`);
  return uri;
}

/** Records a token key as a new generation's key (exclusively: a generation taken by another rotation throws EEXIST). */
export function newTokenIntermediateKey(dir: string, generation: number, uri: string): string {
  const file = intermediateFiles(dir, generation).uri;
  fs.writeFileSync(file, `${uri}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

/** Makes the key of a new generation (exclusively: a generation taken by another rotation throws EEXIST). */
export async function newIntermediateKey(dir: string, generation: number): Promise<{ signer: CaSigner; keyRef: string }> {
  const { key } = intermediateFiles(dir, generation);
  const { pkcs8Pem } = await generateSigner();
  fs.writeFileSync(key, pkcs8Pem, { mode: 0o600, flag: 'wx' });
  return { signer: await readKeyFile(key), keyRef: key };
}

/** The root signs an intermediate certificate: 5 years, CA:TRUE pathlen 0, as keys.ts's first one. */
export async function signIntermediate(root: CaKey, signer: CaSigner, subject: string | x509.JsonName, nowMs: number): Promise<x509.X509Certificate> {
  const rootSigner = root.signer;
  return x509.X509CertificateGenerator.create(
    {
      subject,
      issuer: root.certificate.subject,
      notBefore: new Date(nowMs - 3600_000),
      notAfter: new Date(nowMs + 5 * YEAR_MS),
      signingAlgorithm: rootSigner.algorithm,
      publicKey: signer.publicKey,
      signingKey: rootSigner.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(signer.publicKey, false, signer.crypto),
        await x509.AuthorityKeyIdentifierExtension.create(rootSigner.publicKey, false, rootSigner.crypto),
      ],
    },
    rootSigner.crypto,
  );
}

/** Writes a generation's certificate (exclusively). */
export function writeIntermediateCertificate(dir: string, generation: number, cert: x509.X509Certificate): string {
  const { crt } = intermediateFiles(dir, generation);
  fs.writeFileSync(crt, cert.toString('pem') + '\n', { flag: 'wx' });
  return crt;
}
