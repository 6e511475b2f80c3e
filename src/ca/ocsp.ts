// The OCSP responder (RFC 6960) of the issuing CA, answering from the log
// (status.ts). Requests come as DER (POST body, or base64 in the GET path);
// each single request is matched by CertID: the hash algorithm (SHA-1 or
// SHA-256), the issuer name hash and key hash must be those of an
// intermediate in the log whose status is still served (intermediates.ts:
// the issuing one, or a retired one until its certificates expire), and the
// serial one that intermediate issued; else the answer is `unknown`, as for a
// serial the log never saw (nothing is issued without a `cert.issued`
// entry). A response is signed by the issuer of its first single request
// itself (so no delegated responder certificate; single requests for
// another issuer in the same request are `unknown`), responder ID by key
// hash, thisUpdate = now, nextUpdate =
// now + statusValiditySeconds, the request's nonce echoed. A request that
// does not parse gets `malformedRequest` (still HTTP 200, per RFC 6960 A.1).

import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLReason, Extension } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  KeyHash,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';
import type { CertificateAuthority } from './ca.js';
import type { Intermediate } from './intermediates.js';
import { reasonCode, seconds, statusOfSerial, type CertStatusKind } from './status.js';
import { toHex, u8 } from './x509.js';

const HASHES: Record<string, string> = { '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.1': 'sha256' };
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

const hash = (alg: string, data: ArrayBuffer | Uint8Array) => createHash(alg).update(new Uint8Array(data)).digest();

export interface OcspAnswer {
  der: Uint8Array;
  /** Per single request, for logs and tests. */
  statuses: CertStatusKind[];
}

export async function answerOcsp(ca: CertificateAuthority, request: Uint8Array): Promise<OcspAnswer> {
  let req: OCSPRequest;
  try {
    req = AsnConvert.parse(request, OCSPRequest);
    if (req.tbsRequest.requestList.length === 0) throw new Error('empty');
  } catch {
    return { der: u8(AsnConvert.serialize(new OCSPResponse({ responseStatus: OCSPResponseStatus.malformedRequest }))), statuses: [] };
  }
  await ca.index.catchUp();
  const now = ca.now();
  const issuers = servedIssuers(ca, now);
  const first = issuers.find((i) => matches(req.tbsRequest.requestList[0]!.reqCert, i)) ?? issuers.find((i) => !i.inter.retired);
  if (first === undefined) return { der: u8(AsnConvert.serialize(new OCSPResponse({ responseStatus: OCSPResponseStatus.unauthorized }))), statuses: [] };
  const statuses: CertStatusKind[] = [];
  const responses = req.tbsRequest.requestList.map(({ reqCert }) => {
    const status = statusOf(ca, reqCert, first);
    statuses.push(status.kind);
    return new SingleResponse({
      certID: reqCert,
      certStatus: status.cert,
      thisUpdate: seconds(now),
      nextUpdate: seconds(now + ca.statusValiditySeconds * 1000),
    });
  });
  const nonce = req.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  const data = new ResponseData({
    responderID: new ResponderID({ byKey: new KeyHash(hash('sha1', first.keyBits)) }),
    producedAt: seconds(now),
    responses,
    ...(nonce !== undefined && { responseExtensions: [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: nonce.extnValue })] }),
  });
  const tbs = u8(AsnConvert.serialize(data));
  const signature = await (await ca.intermediates.signer(first.inter)).sign(tbs);
  const basic = new BasicOCSPResponse({
    tbsResponseData: data,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
    signature: signature.buffer,
  });
  const response = new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
  });
  return { der: u8(AsnConvert.serialize(response)), statuses };
}

interface Issuer {
  inter: Intermediate;
  nameDer: ArrayBuffer;
  keyBits: ArrayBuffer;
}

/** The intermediates whose status is served now, with the DER a CertID hashes. */
function servedIssuers(ca: CertificateAuthority, nowMs: number): Issuer[] {
  return ca.intermediates
    .all()
    .filter((inter) => nowMs <= ca.intermediates.servedUntilMs(inter))
    .map((inter) => {
      const c = AsnConvert.parse(inter.certificate.rawData, Certificate);
      return { inter, nameDer: AsnConvert.serialize(c.tbsCertificate.subject), keyBits: c.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey };
    });
}

function matches(id: CertID, issuer: Issuer): boolean {
  const alg = HASHES[id.hashAlgorithm.algorithm];
  if (alg === undefined) return false;
  const same = (a: OctetString, b: Buffer) => Buffer.from(a.buffer).equals(b);
  return same(id.issuerNameHash, hash(alg, issuer.nameDer)) && same(id.issuerKeyHash, hash(alg, issuer.keyBits));
}

function statusOf(ca: CertificateAuthority, id: CertID, issuer: Issuer): { kind: CertStatusKind; cert: CertStatus } {
  const unknown = { kind: 'unknown' as const, cert: new CertStatus({ unknown: null }) };
  if (!matches(id, issuer)) return unknown;
  let serial = Buffer.from(id.serialNumber);
  while (serial.length > 1 && serial[0] === 0) serial = serial.subarray(1);
  const s = statusOfSerial(ca.index, serial.toString('hex'));
  if (s.status === 'unknown' || toHex(s.cert!.issued.body.issuerKeyHash) !== issuer.inter.keyHashHex) return unknown;
  if (s.status === 'good') return { kind: 'good', cert: new CertStatus({ good: null }) };
  const r = s.cert!.revoked!;
  return {
    kind: 'revoked',
    cert: new CertStatus({ revoked: new RevokedInfo({ revocationTime: new Date(r.time * 1000), revocationReason: new CRLReason(reasonCode(r.reason)) }) }),
  };
}
