// Decoded views of the entry types this log knows: registry envelopes
// (agent.*, key.*) and CA entries (ca.key.*, cert.*), decoded with
// tilelog/registry's decodeEntry (canonical CBOR, schema checked). The
// envelope signature is not checked here: that needs the registry's pinned
// submitter key (verifyResolution does it for resolve answers).

import { messageOf } from '../client/errors.js';
import { decodeEntry, type Entry } from '../registry/entries/envelope.js';
import { certificateNames } from './der.js';
import { isoSeconds, pem, toBase64, toHex } from './format.js';

export type Field = readonly [label: string, value: string];

export interface DecodedEntry {
  type: string;
  fields: Field[];
  /** A certificate carried by the entry, for the PEM view. */
  der: Uint8Array | null;
}

/** The decoded entry, or why it is not a registry/CA entry. */
export function decodeForDisplay(bytes: Uint8Array): { ok: true; entry: DecodedEntry } | { ok: false; reason: string } {
  let e: Entry;
  try {
    e = decodeEntry(bytes);
  } catch (err) {
    return { ok: false, reason: messageOf(err) };
  }
  const fields: Field[] = [
    ['type', e.type],
    ['subject', e.subject],
    ['seq', String(e.seq)],
    ['prev (leaf hash)', e.prev === null ? '(none: first entry of the subject)' : toHex(e.prev)],
    ['time', `${isoSeconds(e.time)} (${e.time})`],
    ['submitter key', e.kid],
  ];
  let der: Uint8Array | null = null;
  switch (e.type) {
    case 'agent.registered':
    case 'agent.updated':
    case 'agent.renewed':
    case 'agent.deprecated':
    case 'agent.revoked': {
      const b = e.body;
      fields.push(
        ['owner', b.owner],
        ['alias', b.alias ?? '(none)'],
        ['capabilities', b.capabilities.join(', ') || '(none)'],
        ['endpoints', b.endpoints.map((x) => `${x.protocol} ${x.url}${x.metadataUrl !== undefined ? ` (metadata ${x.metadataUrl})` : ''}`).join('\n')],
        ['agent public key', toBase64(b.publicKey)],
        ['validation', b.validation],
      );
      if (b.reason !== undefined) fields.push(['reason', b.reason]);
      break;
    }
    case 'key.added':
      fields.push(['public key', toBase64(e.body.publicKey)], ['label', e.body.label]);
      break;
    case 'key.revoked':
    case 'ca.key.retired':
      fields.push(['reason', e.body.reason]);
      break;
    case 'cert.revoked':
      fields.push(['serial', toHex(e.body.serial)], ['reason', e.body.reason], ['revoked at', isoSeconds(e.time)]);
      break;
    case 'ca.key.added':
      fields.push(['role', e.body.role], ['SPKI SHA-256', toHex(e.body.spkiSha256)]);
      der = e.body.der;
      break;
    case 'cert.issued':
      fields.push(
        ['agent', e.body.agent],
        ['serial', toHex(e.body.serial)],
        ['issuer key hash', toHex(e.body.issuerKeyHash)],
        ['URIs', e.body.uris.join('\n')],
        ...certificateFields(e.body),
      );
      der = e.body.der;
      break;
    case 'cert.observed':
      fields.push(...certificateFields(e.body));
      der = e.body.der;
      break;
  }
  if (der !== null) {
    const names = certificateNames(der);
    if (names !== null) fields.push(['certificate subject', names.subject || '(empty)'], ['certificate issuer', names.issuer || '(empty)']);
  }
  fields.push(['signature', toBase64(e.sig)]);
  return { ok: true, entry: { type: e.type, fields, der } };
}

/** What cert.issued and cert.observed both record about their certificate. */
function certificateFields(body: { dnsNames: readonly string[]; notBefore: number; notAfter: number; sha256: Uint8Array; spkiSha256: Uint8Array }): Field[] {
  return [
    ['DNS names', body.dnsNames.join('\n') || '(none)'],
    ['not before', isoSeconds(body.notBefore)],
    ['not after', isoSeconds(body.notAfter)],
    ['certificate SHA-256', toHex(body.sha256)],
    ['SPKI SHA-256', toHex(body.spkiSha256)],
  ];
}

/** The entry's type for lists: a registry type, or "bytes". */
export function entryKind(bytes: Uint8Array): string {
  // Cheap pre-check: a registry envelope is a CBOR map (major type 5).
  if (bytes.length === 0 || bytes[0]! >> 5 !== 5) return 'bytes';
  const d = decodeForDisplay(bytes);
  return d.ok ? d.entry.type : 'bytes';
}

export { pem };
