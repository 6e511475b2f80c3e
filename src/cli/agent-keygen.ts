// `tilelog registry keygen`: an agent's Ed25519 key pair, for the registry's
// `publicKey` (raw 32 bytes, base64: what register and rotate take). The
// private key is written as PKCS#8 PEM, the form `openssl genpkey -algorithm
// ed25519` writes, so the same file also makes the agent's CSR for the CA
// (`openssl req -new -key <file>`).

import { generateKeyPairSync } from 'node:crypto';
import { writeKeyFile } from './key-file.js';

export interface AgentKeyPair {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** The raw 32-byte Ed25519 public key, standard base64. */
  publicKey: string;
}

export function generateAgentKey(): AgentKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x!; // the raw key, base64url (RFC 8037)
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: Buffer.from(x, 'base64url').toString('base64'),
  };
}

/** Writes a new agent key to file (mode 0600; refuses an existing file unless force) and returns its public key. */
export function writeAgentKey(file: string, force: boolean): string {
  const pair = generateAgentKey();
  writeKeyFile(file, pair.privateKeyPem.trimEnd(), force);
  return pair.publicKey;
}
