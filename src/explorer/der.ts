// Just enough DER to show a certificate's subject and issuer names in the
// page, instead of shipping an X.509 library: walk Certificate ->
// TBSCertificate -> issuer and subject Names (RFC 5280 §4.1). Anything
// unexpected gives null; these names are shown, never trusted.

interface Tlv {
  tag: number;
  /** Content [start, end). */
  start: number;
  end: number;
}

function readTlv(b: Uint8Array, off: number, limit: number): Tlv {
  if (off + 2 > limit) throw new Error('der: truncated');
  const tag = b[off]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('der: high tag numbers are not used here');
  let len = b[off + 1]!;
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > limit) throw new Error('der: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    start += n;
  }
  if (start + len > limit) throw new Error('der: truncated');
  return { tag, start, end: start + len };
}

function children(b: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = t.start; off < t.end; ) {
    const c = readTlv(b, off, t.end);
    out.push(c);
    off = c.end;
  }
  return out;
}

function oid(b: Uint8Array, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

const ATTRIBUTES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

function stringValue(b: Uint8Array, t: Tlv): string {
  const bytes = b.subarray(t.start, t.end);
  if (t.tag === 0x1e) {
    let s = '';
    for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes[i]! * 256 + bytes[i + 1]!);
    return s;
  }
  return t.tag === 0x0c ? new TextDecoder().decode(bytes) : String.fromCharCode(...bytes);
}

// Name ::= SEQUENCE OF SET OF AttributeTypeAndValue, shown like "CN=x, O=y".
function nameOf(b: Uint8Array, t: Tlv): string {
  const parts: string[] = [];
  for (const rdn of children(b, t)) {
    for (const atv of children(b, rdn)) {
      const [type, value] = children(b, atv);
      if (type === undefined || value === undefined || type.tag !== 0x06) continue;
      const o = oid(b, type);
      parts.push(`${ATTRIBUTES[o] ?? o}=${stringValue(b, value)}`);
    }
  }
  return parts.join(', ');
}

/** Subject and issuer of an X.509 certificate in DER, or null if it does not look like one. */
export function certificateNames(der: Uint8Array): { subject: string; issuer: string } | null {
  try {
    const cert = readTlv(der, 0, der.length);
    const tbs = children(der, cert)[0];
    if (cert.tag !== 0x30 || tbs === undefined || tbs.tag !== 0x30) return null;
    const f = children(der, tbs);
    const i = f[0]?.tag === 0xa0 ? 1 : 0; // optional [0] version
    // serialNumber, signature, issuer, validity, subject
    const issuer = f[i + 2];
    const subject = f[i + 4];
    if (issuer?.tag !== 0x30 || subject?.tag !== 0x30) return null;
    return { subject: nameOf(der, subject), issuer: nameOf(der, issuer) };
  } catch {
    return null;
  }
}
