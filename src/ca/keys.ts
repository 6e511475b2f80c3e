// The CA's two keys and certificates: a root (self-signed, 10 years) and an
// intermediate (signed by the root, path length 0, 5 years) that signs
// agent certificates, CRLs and OCSP responses. Loaded from a directory, or
// generated there on first run:
//   ca-root.key, ca-intermediate.key   PKCS#8 PEM, mode 0600 (refused if others can read)
//   ca-root.crt, ca-intermediate.crt   PEM
// A key file without its certificate (a key brought from elsewhere) gets a
// fresh certificate; a certificate whose public key is not the key's is refused.
// The root key would ideally live offline; here it only signs the intermediate.
// Either key may instead be named by a reference (rootKey, intermediateKey):
// a pkcs11: URI of an ECDSA P-256 key in a token ('tilelog keygen --ca
// --key ...' makes one), or another key file. Its public key is read from
// the token; the certificates stay files in the directory, made on first
// run (signed in the token) and refused when they hold another public key.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TilelogError } from '../errors.js';
import { redactPkcs11Uri } from '../hsm/pkcs11-uri.js';
import { generateSigner, openCaSigner, readKeyFile, type CaSigner } from './signer.js';
import { signIntermediate } from './intermediate-keys.js';
import { u8, x509 } from './x509.js';

export interface CaKey {
  signer: CaSigner;
  certificate: x509.X509Certificate;
}

export interface CaKeys {
  root: CaKey;
  intermediate: CaKey;
}

export interface CaKeyOptions {
  /** Directory of the four files above (created 0700). */
  dir: string;
  /** Common names; default from the log origin. */
  rootName?: string;
  intermediateName?: string;
  /** The root key: a pkcs11: URI or a key file; default <dir>/ca-root.key (made on first run). */
  rootKey?: string;
  /** The intermediate key, likewise; default <dir>/ca-intermediate.key. */
  intermediateKey?: string;
  nowMs?: number;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

/** The signer of ref, or of the default key file (made when missing); with what to call it in messages. */
async function signerOf(ref: string | undefined, file: string, role: string): Promise<{ signer: CaSigner; what: string }> {
  if (ref === undefined) return { signer: await keyFile(file), what: `the ${role} key in ${file}` };
  return { signer: await openCaSigner(ref), what: `the ${role} key ${redactPkcs11Uri(ref)}` };
}

async function keyFile(file: string): Promise<CaSigner> {
  if (!fs.existsSync(file)) {
    const { pkcs8Pem } = await generateSigner();
    fs.writeFileSync(file, pkcs8Pem, { mode: 0o600, flag: 'wx' });
  }
  return readKeyFile(file);
}

async function samePublicKey(cert: x509.X509Certificate, signer: CaSigner): Promise<boolean> {
  const spki = u8(await signer.crypto.subtle.exportKey('spki', signer.publicKey));
  return Buffer.from(spki).equals(Buffer.from(u8(cert.publicKey.rawData)));
}

async function certFile(file: string, key: { signer: CaSigner; what: string }, make: () => Promise<x509.X509Certificate>): Promise<x509.X509Certificate> {
  if (!fs.existsSync(file)) fs.writeFileSync(file, (await make()).toString('pem') + '\n', { flag: 'wx' });
  const cert = new x509.X509Certificate(fs.readFileSync(file, 'utf8'));
  if (!(await samePublicKey(cert, key.signer))) {
    throw new TilelogError(
      'CA_CONFIG',
      `ca: ${file} is not the certificate of ${key.what}: it holds another public key; give the key it was made for (a new CA: remove ${file} to have one made)`,
    );
  }
  return cert;
}

/** Loads (or creates) the root and intermediate in o.dir. */
export async function loadCaKeys(o: CaKeyOptions): Promise<CaKeys> {
  fs.mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const now = o.nowMs ?? Date.now();
  const rootName = `CN=${o.rootName ?? 'tilelog agent root CA'}`;
  const interName = `CN=${o.intermediateName ?? 'tilelog agent issuing CA'}`;
  const root = await signerOf(o.rootKey, path.join(o.dir, 'ca-root.key'), 'root');
  const rootSigner = root.signer;
  const rootCert = await certFile(path.join(o.dir, 'ca-root.crt'), root, async () =>
    x509.X509CertificateGenerator.createSelfSigned(
      {
        name: rootName,
        notBefore: new Date(now - 3600_000),
        notAfter: new Date(now + 10 * YEAR_MS),
        signingAlgorithm: rootSigner.algorithm,
        keys: { privateKey: rootSigner.privateKey, publicKey: rootSigner.publicKey },
        extensions: [
          new x509.BasicConstraintsExtension(true, 1, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(rootSigner.publicKey, false, rootSigner.crypto),
        ],
      },
      rootSigner.crypto,
    ),
  );
  const inter = await signerOf(o.intermediateKey, path.join(o.dir, 'ca-intermediate.key'), 'intermediate');
  const interSigner = inter.signer;
  const interCert = await certFile(path.join(o.dir, 'ca-intermediate.crt'), inter, () =>
    signIntermediate({ signer: rootSigner, certificate: rootCert }, interSigner, interName, now),
  );
  if (!(await interCert.verify({ publicKey: rootCert.publicKey, signatureOnly: true }))) {
    throw new TilelogError('CA_CONFIG', 'ca: the intermediate certificate is not signed by the root key');
  }
  return { root: { signer: rootSigner, certificate: rootCert }, intermediate: { signer: interSigner, certificate: interCert } };
}
