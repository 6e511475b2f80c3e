// Revocation status from the log (CaIndex), shared by the CRL, the OCSP
// responder and /v1/verify/cert so that the three always agree: a
// certificate is revoked exactly when a `cert.revoked` entry for its serial
// has been applied, with that entry's reason and time.

import { CRLReasons } from '@peculiar/asn1-x509';
import type { RevocationReason } from '../registry/entries/index.js';
import type { CaIndex, CertState } from './ca-index.js';

export type CertStatusKind = 'good' | 'revoked' | 'unknown';

export interface CertStatusAnswer {
  status: CertStatusKind;
  cert: CertState | null;
}

export function statusOfSerial(index: CaIndex, serialHex: string): CertStatusAnswer {
  const cert = index.cert(serialHex);
  if (cert === null) return { status: 'unknown', cert: null };
  return { status: cert.revoked === null ? 'good' : 'revoked', cert };
}

/** RFC 5280 §5.3.1 reason code of a reason name. */
export function reasonCode(r: RevocationReason): CRLReasons {
  return CRLReasons[r];
}

/** Whole seconds (ASN.1 times carry no fractions here). */
export const seconds = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
