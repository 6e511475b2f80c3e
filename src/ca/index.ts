// tilelog/ca: what a relying party of the private CA needs offline, and
// nothing of the CA itself. Browser-safe like tilelog/client (no node:
// imports, no Node globals; @noble/* and cbor-x only:
// test/ca/imports.test.ts walks the graph).
//
//   verifyCertEntry()   a certificate entry's proof bundle (the `bundle` of an
//                       issuance answer, or of POST /v1/verify/cert) against the
//                       pinned log and submitter keys, and optionally the DER
//
// The CA (keys, signer, CRL, OCSP, the HTTP routes) is run by
// `tilelog serve --registry --registry-ca` and is not exported.

export type { CertEntryPolicy } from './verify-offline.js';
export { verifyCertEntry } from './verify-offline.js';
export type { CaKeyAddedBody, CaKeyRetiredBody, CertBody, CertEntryType, CertIssuedBody, CertObservedBody, CertRevokedBody } from '../registry/entries/cert-schema.js';
