// Formatting of bytes, hashes and times for display.

import { toBase64, toHex } from '../merkle/encoding.js';

export { toBase64, toHex };

/** Classic hex dump: offset, 16 bytes in hex, the printable ASCII beside. */
export function hexDump(bytes: Uint8Array, limit: number = bytes.length): string {
  const n = Math.min(bytes.length, limit);
  const lines: string[] = [];
  for (let off = 0; off < n; off += 16) {
    const row = bytes.subarray(off, Math.min(off + 16, n));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}

/** The entry as UTF-8 text, or null when it is not valid UTF-8. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** A one-line preview: printable text, else hex. */
export function preview(bytes: Uint8Array, max = 64): string {
  const text = utf8OrNull(bytes);
  if (text !== null && !/[\x00-\x08\x0e-\x1f\x7f]/.test(text)) {
    const line = text.replace(/\s+/g, ' ').trim();
    return line.length > max ? `${line.slice(0, max - 1)}…` : line;
  }
  const hex = toHex(bytes.subarray(0, max / 2));
  return bytes.length > max / 2 ? `${hex}…` : hex;
}

/** Unix seconds as an ISO date in UTC. */
export function isoSeconds(s: number): string {
  const d = new Date(s * 1000);
  return Number.isNaN(d.getTime()) ? String(s) : d.toISOString().replace('.000Z', 'Z');
}

/** A note key ID as 8 hex digits. */
export function keyIdHex(id: number): string {
  return (id >>> 0).toString(16).padStart(8, '0');
}

/** PEM armour of DER bytes. */
export function pem(label: string, der: Uint8Array): string {
  const b64 = toBase64(der).replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}
