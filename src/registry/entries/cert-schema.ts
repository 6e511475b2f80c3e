// Body schemas of the certificate entry types (spec/ENTRIES.md
// §Certificate entries, spec/CA.md). They ride the same envelope as the
// agent entries and are written by the CA (src/ca), a thin submitter like
// the registry. Browser-safe: @noble/hashes only, no X.509 parsing; the
// rules check what can be checked without ASN.1 (the DER's SHA-256, the
// URI SAN naming the agent), the CA checks the rest when it builds them.
//
// Subjects (hex is lower case):
//   cert.issued, cert.revoked    cert:<serial hex>      seq 0, then 1
//   ca.key.added, ca.key.retired ca:<SPKI SHA-256 hex>  seq 0, then 1
//   cert.observed                observed:<DER SHA-256 hex>  seq 0 only

import { sha256 } from '@noble/hashes/sha2.js';
import { isCanonicalAnsName } from '../names.js';
import type { CborMap, CborValue } from './cbor.js';
import { bad, bytes, exactMembers, isMap, REVOCATION_REASONS, type RevocationReason } from './schema.js';

export const CERT_TYPES = ['cert.issued', 'cert.revoked', 'ca.key.added', 'ca.key.retired', 'cert.observed'] as const;
export type CertEntryType = (typeof CERT_TYPES)[number];

export const CERT_SUBJECT_PREFIX = 'cert:';
export const CA_KEY_SUBJECT_PREFIX = 'ca:';
export const OBSERVED_SUBJECT_PREFIX = 'observed:';
export const CA_ROLES = ['root', 'intermediate'] as const;
export type CaRole = (typeof CA_ROLES)[number];

/** Largest DER accepted in an entry (the leaf limit is 64 KiB; certificates are ~1 KiB). */
export const MAX_DER = 16 * 1024;
const MAX_SANS = 16;
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A certificate the CA issued (logged before it is returned). */
export interface CertIssuedBody {
  /** The canonical ANS name of the agent it is for (also its URI SAN). */
  agent: string;
  /** SHA-256 of the issuing CA certificate's SubjectPublicKeyInfo (a ca:<hex> subject). */
  issuerKeyHash: Uint8Array;
  /** The certificate serial number's content octets (1..20, positive, minimal). */
  serial: Uint8Array;
  /** SHA-256 of der. */
  sha256: Uint8Array;
  /** SHA-256 of the certificate's SubjectPublicKeyInfo DER. */
  spkiSha256: Uint8Array;
  uris: string[];
  dnsNames: string[];
  /** Validity, Unix seconds. */
  notBefore: number;
  notAfter: number;
  der: Uint8Array;
}

export interface CertRevokedBody {
  serial: Uint8Array;
  /** RFC 5280 CRLReason name; the revocation time is the envelope's time. */
  reason: RevocationReason;
}

export interface CaKeyAddedBody {
  role: CaRole;
  spkiSha256: Uint8Array;
  /** The CA certificate (self-signed root, or the intermediate signed by the root). */
  der: Uint8Array;
}

export interface CaKeyRetiredBody {
  reason: RevocationReason;
}

/** A certificate seen elsewhere (e.g. an agent's public server certificate), recorded as is. */
export interface CertObservedBody {
  sha256: Uint8Array;
  spkiSha256: Uint8Array;
  dnsNames: string[];
  notBefore: number;
  notAfter: number;
  der: Uint8Array;
}

export type CertBody = CertIssuedBody | CertRevokedBody | CaKeyAddedBody | CaKeyRetiredBody | CertObservedBody;

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export function isCertType(t: string): t is CertEntryType {
  return (CERT_TYPES as readonly string[]).includes(t);
}

export const certSubject = (serial: Uint8Array): string => `${CERT_SUBJECT_PREFIX}${hex(serial)}`;
export const caKeySubject = (spkiSha256: Uint8Array): string => `${CA_KEY_SUBJECT_PREFIX}${hex(spkiSha256)}`;
export const observedSubject = (sha: Uint8Array): string => `${OBSERVED_SUBJECT_PREFIX}${hex(sha)}`;

function serialOf(v: CborValue | undefined): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length < 1 || v.length > 20) throw bad('body.serial must be 1..20 bytes');
  if (v[0]! >= 0x80) throw bad('body.serial must be positive (first byte < 0x80)');
  if (v.length > 1 && v[0] === 0 && v[1]! < 0x80) throw bad('body.serial must be minimal (no leading zero byte)');
  return v;
}

function uint(where: string, v: CborValue | undefined): number {
  if (typeof v !== 'number') throw bad(`${where} must be an unsigned integer`);
  return v;
}

function der(v: CborValue | undefined, sha: Uint8Array): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length < 1 || v.length > MAX_DER) throw bad(`body.der must be 1..${MAX_DER} bytes`);
  if (hex(sha256(v)) !== hex(sha)) throw bad('body.sha256 is not the SHA-256 of body.der');
  return v;
}

function names(where: string, v: CborValue | undefined, check: (s: string) => boolean, rule: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_SANS) throw bad(`${where} must be an array of at most ${MAX_SANS}`);
  return v.map((s, i) => {
    if (typeof s !== 'string' || !check(s)) throw bad(`${where}[${i}] must be ${rule}`);
    return s;
  });
}

function validity(m: CborMap): { notBefore: number; notAfter: number } {
  const notBefore = uint('body.notBefore', m.notBefore);
  const notAfter = uint('body.notAfter', m.notAfter);
  if (notAfter <= notBefore) throw bad('body.notAfter must be after body.notBefore');
  return { notBefore, notAfter };
}

function reasonOf(v: CborValue | undefined): RevocationReason {
  if (typeof v !== 'string' || !(REVOCATION_REASONS as readonly string[]).includes(v)) throw bad(`body.reason must be one of ${REVOCATION_REASONS.join(', ')}`);
  return v as RevocationReason;
}

/** Checks the body of a certificate entry type against its subject and seq. */
export function certBody(type: CertEntryType, subject: string, seq: number, v: CborValue | undefined): CertBody {
  if (!isMap(v)) throw bad('body must be a map');
  const first = type === 'cert.issued' || type === 'ca.key.added' || type === 'cert.observed';
  if (first !== (seq === 0)) throw bad(first ? `${type} must have seq 0` : `${type} cannot be a subject's first entry (seq 0)`);
  switch (type) {
    case 'cert.issued': {
      exactMembers('body', v, ['agent', 'issuerKeyHash', 'serial', 'sha256', 'spkiSha256', 'uris', 'dnsNames', 'notBefore', 'notAfter', 'der']);
      if (typeof v.agent !== 'string' || !isCanonicalAnsName(v.agent)) throw bad('body.agent must be a canonical ANS name');
      const sha = bytes('body.sha256', v.sha256, 32);
      const b: CertIssuedBody = {
        agent: v.agent,
        issuerKeyHash: bytes('body.issuerKeyHash', v.issuerKeyHash, 32),
        serial: serialOf(v.serial),
        sha256: sha,
        spkiSha256: bytes('body.spkiSha256', v.spkiSha256, 32),
        uris: names('body.uris', v.uris, (s) => s.length <= 400 && /^[\x21-\x7e]+$/.test(s), 'a URI of printable ASCII'),
        dnsNames: names('body.dnsNames', v.dnsNames, (s) => DNS_NAME.test(s), 'a lower-case DNS name'),
        ...validity(v),
        der: der(v.der, sha),
      };
      if (!b.uris.includes(b.agent)) throw bad('body.uris must include the agent name (its URI SAN)');
      if (subject !== certSubject(b.serial)) throw bad('subject must be cert:<hex of body.serial>');
      return b;
    }
    case 'cert.revoked': {
      exactMembers('body', v, ['serial', 'reason']);
      const b: CertRevokedBody = { serial: serialOf(v.serial), reason: reasonOf(v.reason) };
      if (subject !== certSubject(b.serial)) throw bad('subject must be cert:<hex of body.serial>');
      return b;
    }
    case 'ca.key.added': {
      exactMembers('body', v, ['role', 'spkiSha256', 'der']);
      if (typeof v.role !== 'string' || !(CA_ROLES as readonly string[]).includes(v.role)) throw bad(`body.role must be one of ${CA_ROLES.join(', ')}`);
      if (!(v.der instanceof Uint8Array) || v.der.length < 1 || v.der.length > MAX_DER) throw bad(`body.der must be 1..${MAX_DER} bytes`);
      const b: CaKeyAddedBody = { role: v.role as CaRole, spkiSha256: bytes('body.spkiSha256', v.spkiSha256, 32), der: v.der };
      if (subject !== caKeySubject(b.spkiSha256)) throw bad('subject must be ca:<hex of body.spkiSha256>');
      return b;
    }
    case 'ca.key.retired':
      exactMembers('body', v, ['reason']);
      if (!subject.startsWith(CA_KEY_SUBJECT_PREFIX)) throw bad('subject must be ca:<hex>');
      return { reason: reasonOf(v.reason) };
    case 'cert.observed': {
      exactMembers('body', v, ['sha256', 'spkiSha256', 'dnsNames', 'notBefore', 'notAfter', 'der']);
      const sha = bytes('body.sha256', v.sha256, 32);
      const b: CertObservedBody = {
        sha256: sha,
        spkiSha256: bytes('body.spkiSha256', v.spkiSha256, 32),
        dnsNames: names('body.dnsNames', v.dnsNames, (s) => DNS_NAME.test(s) || /^\*\.[a-z0-9.-]+$/.test(s), 'a lower-case DNS name'),
        ...validity(v),
        der: der(v.der, sha),
      };
      if (subject !== observedSubject(sha)) throw bad('subject must be observed:<hex of body.sha256>');
      return b;
    }
  }
}

/** A certificate entry body as a CBOR map (all members are required). */
export function certBodyToCbor(b: CertBody): CborMap {
  const m: CborMap = {};
  for (const [k, v] of Object.entries(b)) m[k] = Array.isArray(v) ? [...v] : (v as CborValue);
  return m;
}
