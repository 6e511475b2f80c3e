// A stub resolver for TXT records that keeps their TTLs. node:dns has no TTL
// for TXT answers (only resolve4/6 take {ttl: true}), and DNS-first resolve
// must honour them, so this sends one RFC 1035 query itself to the configured
// recursive resolver: UDP with an EDNS(0) payload of 1232 octets (RFC 6891;
// the DNS Flag Day 2020 size), over TCP (RFC 7766, two-octet length prefix)
// when the UDP answer is truncated.
//
// Answers:
//   NOERROR with TXT     {kind: 'records', values, ttlSeconds: min TTL of the RRset}
//   NOERROR without TXT  {kind: 'nodata', ttlSeconds: negative TTL or null}
//   NXDOMAIN             {kind: 'nxdomain', ttlSeconds: negative TTL or null}
// where the negative TTL is min(SOA TTL, SOA MINIMUM) from the authority
// section (RFC 2308 §5), null without an SOA. Anything else (timeout on
// every try, SERVFAIL, REFUSED, a malformed or mismatched answer) throws
// REGISTRY_DNS_UNAVAILABLE. CNAMEs in the answer are followed by the
// recursive resolver; TXT records of any owner in the answer are taken.

import { randomInt } from 'node:crypto';
import * as dgram from 'node:dgram';
import { getServers } from 'node:dns';
import * as net from 'node:net';
import { TilelogError } from '../errors.js';

const TYPE_TXT = 16;
const TYPE_SOA = 6;
const TYPE_OPT = 41;
const CLASS_IN = 1;
const EDNS_PAYLOAD = 1232;
const RCODE_NOERROR = 0;
const RCODE_NXDOMAIN = 3;

export type TxtAnswer =
  | { kind: 'records'; values: string[]; ttlSeconds: number }
  | { kind: 'nodata' | 'nxdomain'; ttlSeconds: number | null };

export interface TxtQueryOptions {
  /** "ip", "ip:port" or "[ipv6]:port"; default: the system's resolvers (node:dns getServers). */
  servers?: string[];
  /** Per attempt. Default 2000. */
  timeoutMs?: number;
  /** Attempts per server. Default 2. */
  tries?: number;
}

const unavailable = (m: string, cause?: unknown) =>
  new TilelogError('REGISTRY_DNS_UNAVAILABLE', `registry: ${m}`, cause === undefined ? undefined : { cause });

/** Asks the servers in turn for name's TXT records. */
export async function queryTxt(name: string, o: TxtQueryOptions = {}): Promise<TxtAnswer> {
  const servers = (o.servers !== undefined && o.servers.length > 0 ? o.servers : getServers()).map(parseServer);
  if (servers.length === 0) throw unavailable('no DNS server is configured');
  const timeoutMs = o.timeoutMs ?? 2000;
  const tries = o.tries ?? 2;
  let last: unknown;
  for (const server of servers) {
    for (let t = 0; t < tries; t++) {
      try {
        return await queryOnce(name, server, timeoutMs);
      } catch (err) {
        last = err;
      }
    }
  }
  if (last instanceof TilelogError) throw last;
  throw unavailable(`DNS lookup of ${name} failed: ${(last as Error).message}`, last);
}

interface Server {
  host: string;
  port: number;
}

export function parseServer(s: string): Server {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6 !== null) return { host: v6[1]!, port: Number(v6[2] ?? 53) };
  if (net.isIPv6(s)) return { host: s, port: 53 };
  const m = /^([^:]+)(?::(\d+))?$/.exec(s);
  if (m === null || net.isIP(m[1]!) === 0) throw new TilelogError('REGISTRY_CONFIG', `registry: DNS server ${JSON.stringify(s)} must be ip, ip:port or [ipv6]:port`);
  return { host: m[1]!, port: Number(m[2] ?? 53) };
}

async function queryOnce(name: string, server: Server, timeoutMs: number): Promise<TxtAnswer> {
  const id = randomInt(0x10000);
  const query = encodeQuery(id, name);
  let reply = await udpExchange(query, server, timeoutMs);
  if (truncated(reply)) reply = await tcpExchange(query, server, timeoutMs);
  return decodeAnswer(reply, id, name);
}

/** A query: header (RD set, one question, one OPT record), QNAME, QTYPE TXT, QCLASS IN, OPT. */
export function encodeQuery(id: number, name: string): Uint8Array {
  const labels = name.replace(/\.$/, '').split('.');
  const qname: number[] = [];
  for (const l of labels) {
    const b = new TextEncoder().encode(l);
    if (b.length < 1 || b.length > 63) throw new TilelogError('REGISTRY_BAD_NAME', `name: DNS label ${JSON.stringify(l)} must be 1..63 octets`);
    qname.push(b.length, ...b);
  }
  qname.push(0);
  const out = new Uint8Array(12 + qname.length + 4 + 11);
  const v = new DataView(out.buffer);
  v.setUint16(0, id);
  v.setUint16(2, 0x0100); // RD
  v.setUint16(4, 1); // QDCOUNT
  v.setUint16(10, 1); // ARCOUNT: OPT
  out.set(qname, 12);
  let p = 12 + qname.length;
  v.setUint16(p, TYPE_TXT);
  v.setUint16(p + 2, CLASS_IN);
  p += 4;
  // OPT pseudo-RR: root name, type 41, class = UDP payload size, TTL 0, RDLEN 0.
  out[p] = 0;
  v.setUint16(p + 1, TYPE_OPT);
  v.setUint16(p + 3, EDNS_PAYLOAD);
  return out;
}

function truncated(reply: Uint8Array): boolean {
  return reply.length >= 4 && (reply[2]! & 0x02) !== 0;
}

function udpExchange(query: Uint8Array, server: Server, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    const done = (err: Error | null, msg?: Uint8Array) => {
      clearTimeout(timer);
      sock.close();
      if (err !== null) reject(err);
      else resolve(msg!);
    };
    const timer = setTimeout(() => done(unavailable(`DNS query to ${server.host}:${server.port} timed out (ETIMEOUT)`)), timeoutMs);
    sock.on('error', (err) => done(err));
    // Only an answer with our ID ends the wait (stray datagrams are ignored).
    sock.on('message', (msg) => {
      if (msg.length >= 2 && msg.readUInt16BE(0) === new DataView(query.buffer, query.byteOffset).getUint16(0)) done(null, new Uint8Array(msg));
    });
    sock.send(query, server.port, server.host, (err) => {
      if (err) done(err);
    });
  });
}

function tcpExchange(query: Uint8Array, server: Server, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, msg?: Uint8Array) => {
      clearTimeout(timer);
      sock.destroy();
      if (err !== null) reject(err);
      else resolve(msg!);
    };
    const timer = setTimeout(() => done(unavailable(`DNS query over TCP to ${server.host}:${server.port} timed out (ETIMEOUT)`)), timeoutMs);
    sock.on('error', (err) => done(err));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(null, new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
    });
    sock.on('end', () => done(unavailable(`DNS server ${server.host}:${server.port} closed the TCP connection early`)));
  });
}

/** Parses a reply to the query with this id for name (RFC 1035 §4.1). */
export function decodeAnswer(msg: Uint8Array, id: number, name: string): TxtAnswer {
  const r = new Reader(msg);
  const bad = (m: string) => unavailable(`malformed DNS answer for ${name}: ${m}`);
  if (msg.length < 12) throw bad('shorter than a header');
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  if (v.getUint16(0) !== id) throw bad('wrong ID');
  const flags = v.getUint16(2);
  if ((flags & 0x8000) === 0) throw bad('not a response');
  const rcode = flags & 0x000f;
  const [qd, an, ns] = [v.getUint16(4), v.getUint16(6), v.getUint16(8)];
  if (rcode !== RCODE_NOERROR && rcode !== RCODE_NXDOMAIN) {
    throw unavailable(`DNS lookup of ${name} failed (${RCODE_NAMES[rcode] ?? `rcode ${rcode}`})`);
  }
  r.pos = 12;
  // The question must be ours (with the ID, what a blind spoofer must guess).
  if (qd !== 1) throw bad(`${qd} questions`);
  if (r.readName().toLowerCase() !== name.replace(/\.$/, '').toLowerCase()) throw bad('the question is for another name');
  r.take(4);
  const values: string[] = [];
  let ttl = Infinity;
  for (let i = 0; i < an; i++) {
    const rr = r.record();
    if (rr.type !== TYPE_TXT || rr.klass !== CLASS_IN) continue;
    values.push(txtValue(rr.data, bad));
    ttl = Math.min(ttl, rr.ttl);
  }
  let negative: number | null = null;
  for (let i = 0; i < ns; i++) {
    const rr = r.record();
    if (rr.type !== TYPE_SOA) continue;
    // SOA RDATA: MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM (5 × 32 bits).
    if (rr.data.length < 20) throw bad('short SOA');
    const minimum = new DataView(rr.data.buffer, rr.data.byteOffset + rr.data.length - 4, 4).getUint32(0);
    negative = Math.min(rr.ttl, minimum);
  }
  if (rcode === RCODE_NXDOMAIN) return { kind: 'nxdomain', ttlSeconds: negative };
  if (values.length === 0) return { kind: 'nodata', ttlSeconds: negative };
  return { kind: 'records', values, ttlSeconds: ttl };
}

const RCODE_NAMES: Record<number, string> = { 1: 'FORMERR', 2: 'SERVFAIL', 4: 'NOTIMP', 5: 'REFUSED' };

// TXT RDATA: one or more <character-string>s (length octet, octets); one value.
function txtValue(data: Uint8Array, bad: (m: string) => Error): string {
  const parts: Uint8Array[] = [];
  for (let p = 0; p < data.length; ) {
    const n = data[p]!;
    if (p + 1 + n > data.length) throw bad('TXT string overruns its record');
    parts.push(data.subarray(p + 1, p + 1 + n));
    p += 1 + n;
  }
  return parts.map((b) => new TextDecoder().decode(b)).join('');
}

class Reader {
  pos = 0;
  readonly #msg: Uint8Array;
  readonly #view: DataView;

  constructor(msg: Uint8Array) {
    this.#msg = msg;
    this.#view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.#msg.length) throw unavailable('malformed DNS answer: truncated');
    const b = this.#msg.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** An uncompressed name as dotted text (a question's QNAME). */
  readName(): string {
    const labels: string[] = [];
    for (;;) {
      const len = this.take(1)[0]!;
      if (len === 0) return labels.join('.');
      if ((len & 0xc0) !== 0) throw unavailable('malformed DNS answer: compressed or bad label in the question');
      labels.push(new TextDecoder().decode(this.take(len)));
    }
  }

  // A name is labels ending in a zero octet, or in a compression pointer (two octets, 0b11 prefix).
  skipName(): void {
    for (;;) {
      const len = this.take(1)[0]!;
      if (len === 0) return;
      if ((len & 0xc0) === 0xc0) {
        this.take(1);
        return;
      }
      if ((len & 0xc0) !== 0) throw unavailable('malformed DNS answer: bad label');
      this.take(len);
    }
  }

  record(): { type: number; klass: number; ttl: number; data: Uint8Array } {
    this.skipName();
    const at = this.pos;
    this.take(10);
    const type = this.#view.getUint16(at);
    const klass = this.#view.getUint16(at + 2);
    const raw = this.#view.getUint32(at + 4);
    const ttl = raw > 0x7fffffff ? 0 : raw; // RFC 2181 §8: a TTL with the top bit set counts as 0
    const data = this.take(this.#view.getUint16(at + 8));
    return { type, klass, ttl, data };
  }
}
