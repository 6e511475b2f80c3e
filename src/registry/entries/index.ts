// Registry entries: the signed, typed leaves of spec/ENTRIES.md.
export { compareBytes, decodeCanonical, encodeCanonical, CborError, type CborMap, type CborValue } from './cbor.js';
export {
  AGENT_TYPES,
  ENTRY_VERSION,
  KEY_SUBJECT_PREFIX,
  KEY_TYPES,
  SIGNATURE_CONTEXT,
  decodeEntry,
  encodeEntry,
  isAgentType,
  keyIdOf,
  keySubject,
  signedMessage,
  submitterKey,
  submitterKeyOf,
  verifyEntrySignature,
} from './envelope.js';
export type { AgentEntryType, Entry, EntryType, KeyEntryType, SubmitterKey, UnsignedEntry } from './envelope.js';
export {
  ENDPOINT_PROTOCOLS,
  MAX_CAPABILITIES,
  MAX_ENDPOINTS,
  REVOCATION_REASONS,
  VALIDATION_METHODS,
  normalizeCapabilities,
} from './schema.js';
export type { AgentBody, Endpoint, EndpointProtocol, KeyAddedBody, KeyRevokedBody, RevocationReason, ValidationMethod } from './schema.js';
export {
  CA_KEY_SUBJECT_PREFIX,
  CA_ROLES,
  CERT_SUBJECT_PREFIX,
  CERT_TYPES,
  OBSERVED_SUBJECT_PREFIX,
  caKeySubject,
  certSubject,
  isCertType,
  observedSubject,
} from './cert-schema.js';
export type { CaKeyAddedBody, CaKeyRetiredBody, CaRole, CertBody, CertEntryType, CertIssuedBody, CertObservedBody, CertRevokedBody } from './cert-schema.js';
