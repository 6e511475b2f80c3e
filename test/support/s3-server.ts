// A small S3-compatible server for tests (node:http, no dependencies), strict
// where tilelog's safety depends on the store: PUT enforces If-None-Match: *
// and If-Match atomically (the check and the store run in one synchronous
// step of the event loop), as AWS documents them: 412 PreconditionFailed, and
// 404 NoSuchKey for If-Match on a missing key. ETags are quoted MD5 hex.
//
// Speaks: path-style /<bucket>/<key> (and virtual-hosted <bucket>.<host> when
// the Host names an existing bucket); PUT/GET/HEAD/DELETE object, GET
// ?list-type=2 (prefix, max-keys, continuation-token, start-after; no
// delimiter), PUT/HEAD bucket. Cache-Control and Content-Type are stored at
// PUT and returned on GET/HEAD; GET honours If-None-Match (304) and If-Match.
// SigV4 is accepted, not verified: a request counts as signed when it has an
// Authorization header or X-Amz-Signature. With `publicRead`, unsigned GET and
// HEAD of objects succeed, so the bucket's URL is a tlog-tiles log for fetch().
//
// For tests: a request log, faults per verb/object class/key (s3-faults.ts),
// holds that park requests until released, and direct access to the objects.
// A child process can drive the same through /_s3test/ (s3-server-main.ts);
// "_" cannot start a bucket name, so that path never shadows a bucket.

import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyKey, Fault, Hold, type FaultKind, type FaultRule, type RequestInfo, type RequestMatch, type Verb } from './s3-faults.js';

export interface StoredObject {
  readonly data: Buffer;
  readonly etag: string;
  readonly cacheControl: string | undefined;
  readonly contentType: string;
  readonly lastModified: Date;
}

export interface LoggedRequest {
  readonly seq: number;
  readonly method: string;
  readonly verb: Verb | 'BUCKET' | 'CONTROL' | 'OTHER';
  readonly bucket: string;
  readonly key: string;
  readonly objectClass: string;
  readonly signed: boolean;
  readonly ifMatch: string | undefined;
  readonly ifNoneMatch: string | undefined;
  readonly cacheControl: string | undefined;
  readonly contentType: string | undefined;
  /** The user-agent and x-amz-user-agent headers together: who sent it. */
  readonly userAgent: string;
  readonly bytes: number;
  /** For a PUT of a checkpoint: its text (so tests can follow the published sizes). */
  readonly checkpointText: string | undefined;
  /** The answer's status, or 'reset' (socket destroyed) or 'hung' (until healed). */
  status: number | 'reset' | 'hung' | 'held';
  fault: FaultKind | undefined;
}

export interface S3TestServerOptions {
  port?: number;
  host?: string;
  /** Buckets that exist from the start. */
  buckets?: readonly string[];
  /** Unsigned GET/HEAD of objects allowed (a public-read bucket). */
  publicRead?: boolean;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body?: Buffer | string;
}

const XML = { 'Content-Type': 'application/xml' };
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function errorReply(status: number, code: string, message: string, key = ''): Reply {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Key>${xmlEscape(key)}</Key><RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`;
  return { status, headers: XML, body };
}

const FAULT_REPLY: Partial<Record<FaultKind, () => Reply>> = {
  fail: () => errorReply(500, 'InternalError', 'injected: failed without storing'),
  slowdown: () => errorReply(503, 'SlowDown', 'injected: Please reduce your request rate.'),
  conflict: () => errorReply(409, 'ConditionalRequestConflict', 'injected: A conflicting conditional operation is in progress; retry.'),
};

export class S3TestServer {
  readonly url: string;
  publicRead: boolean;
  readonly log: LoggedRequest[] = [];
  readonly #server: http.Server;
  readonly #buckets = new Map<string, Map<string, StoredObject>>();
  /** bucket/key → the version before the latest write (null: absent then), for stale reads. */
  readonly #previous = new Map<string, StoredObject | null>();
  readonly #faults: Fault[] = [];
  readonly #holds: Hold[] = [];
  /** Every hold ever made, by control id (stopped ones too: their parked requests can still be released). */
  readonly #allHolds: Hold[] = [];
  readonly #hung = new Set<http.ServerResponse>();
  #seq = 0;

  private constructor(server: http.Server, url: string, o: S3TestServerOptions) {
    this.#server = server;
    this.url = url;
    this.publicRead = o.publicRead ?? false;
    for (const b of o.buckets ?? []) this.createBucket(b);
    server.on('request', (req, res) => this.#onRequest(req, res));
  }

  static async start(o: S3TestServerOptions = {}): Promise<S3TestServer> {
    const server = http.createServer({ keepAliveTimeout: 5_000 });
    const host = o.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    return new S3TestServer(server, `http://${host}:${port}`, o);
  }

  createBucket(name: string): void {
    if (!this.#buckets.has(name)) this.#buckets.set(name, new Map());
  }

  getObject(bucket: string, key: string): StoredObject | undefined {
    return this.#buckets.get(bucket)?.get(key);
  }

  /** Stores an object directly (seeding, tampering), recording the previous version. */
  putObject(bucket: string, key: string, data: Uint8Array, meta: { cacheControl?: string; contentType?: string } = {}): StoredObject {
    const objects = this.#bucket(bucket);
    const obj: StoredObject = {
      data: Buffer.from(data),
      etag: `"${createHash('md5').update(data).digest('hex')}"`,
      cacheControl: meta.cacheControl,
      contentType: meta.contentType ?? 'binary/octet-stream',
      lastModified: new Date(),
    };
    this.#previous.set(`${bucket}/${key}`, objects.get(key) ?? null);
    objects.set(key, obj);
    return obj;
  }

  deleteObject(bucket: string, key: string): void {
    const objects = this.#bucket(bucket);
    if (!objects.has(key)) return;
    this.#previous.set(`${bucket}/${key}`, objects.get(key) ?? null);
    objects.delete(key);
  }

  /** Keys in a bucket, sorted, optionally under a prefix. */
  keys(bucket: string, prefix = ''): string[] {
    return [...this.#bucket(bucket).keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  inject(rule: FaultRule): Fault {
    const f = new Fault(rule, (x) => {
      const i = this.#faults.indexOf(x);
      if (i >= 0) this.#faults.splice(i, 1);
    });
    this.#faults.push(f);
    return f;
  }

  /** Park requests matching `match` until released (hold.releaseAll(), stop(), or each request's release()). */
  hold(match: RequestMatch): Hold {
    const h = new Hold(match, (x) => {
      const i = this.#holds.indexOf(x);
      if (i >= 0) this.#holds.splice(i, 1);
    });
    this.#holds.push(h);
    this.#allHolds.push(h);
    return h;
  }

  /** Removes every fault and destroys the sockets of hung requests (holds stay). */
  heal(): void {
    for (const f of this.#faults.slice()) f.remove();
    for (const res of this.#hung) res.socket?.destroy();
    this.#hung.clear();
  }

  async close(): Promise<void> {
    this.heal();
    for (const h of this.#allHolds) {
      h.stop();
      h.releaseAll();
    }
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #bucket(name: string): Map<string, StoredObject> {
    const b = this.#buckets.get(name);
    if (b === undefined) throw new Error(`s3-server: no bucket ${name}`);
    return b;
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.#dispatch(req, res, Buffer.concat(chunks));
      } catch (err) {
        send(res, errorReply(500, 'InternalError', `s3-server bug: ${String(err)}`));
      }
    });
  }

  // #dispatch: address → log entry → hold? → fault? → handler → answer.
  #dispatch(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/_s3test/')) {
      this.#control(method, url, body).then((r) => send(res, r), (err: unknown) => send(res, errorReply(400, 'BadControl', String(err))));
      return;
    }
    const { bucket, key } = this.#address(req, url);
    const signed = req.headers.authorization !== undefined || url.searchParams.has('X-Amz-Signature');
    const verb: LoggedRequest['verb'] =
      key === '' ? (method === 'GET' && url.searchParams.get('list-type') === '2' ? 'LIST' : 'BUCKET') : (['PUT', 'GET', 'HEAD', 'DELETE'] as const).find((v) => v === method) ?? 'OTHER';
    const h = req.headers;
    const entry: LoggedRequest = {
      seq: ++this.#seq,
      method,
      verb,
      bucket,
      key,
      objectClass: classifyKey(key),
      signed,
      ifMatch: h['if-match'],
      ifNoneMatch: h['if-none-match'],
      cacheControl: h['cache-control'],
      contentType: h['content-type'],
      userAgent: [h['user-agent'], h['x-amz-user-agent']].filter((x) => x !== undefined).join(' '),
      bytes: body.length,
      checkpointText: method === 'PUT' && classifyKey(key) === 'checkpoint' ? body.toString('utf8') : undefined,
      status: 'held',
      fault: undefined,
    };
    this.log.push(entry);
    const info: RequestInfo = { verb: verb as Verb, bucket, key: verb === 'LIST' ? (url.searchParams.get('prefix') ?? '') : key, objectClass: classifyKey(key), userAgent: entry.userAgent };
    const run = (): void => this.#run(req, res, url, body, entry, info);
    const hold = verb === 'BUCKET' || verb === 'OTHER' ? undefined : this.#holds.find((x) => x.wants(info));
    if (hold !== undefined) hold.park(info, entry.userAgent, run);
    else run();
  }

  #run(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: Buffer, entry: LoggedRequest, info: RequestInfo): void {
    const fault = entry.verb === 'BUCKET' || entry.verb === 'OTHER' ? undefined : this.#faults.find((f) => f.take(info));
    entry.fault = fault?.rule.kind;
    const kind = fault?.rule.kind;
    if (kind === 'hang') {
      entry.status = 'hung';
      this.#hung.add(res);
      res.on('close', () => this.#hung.delete(res));
      return;
    }
    const early = kind === undefined ? undefined : FAULT_REPLY[kind];
    if (early !== undefined) return this.#answer(res, entry, early());
    // The handler runs synchronously: conditions are checked and the object stored in one step.
    const reply = this.#handle(req, url, body, entry, kind === 'stale');
    if (kind === 'lost') {
      entry.status = 'reset';
      res.socket?.destroy();
      return;
    }
    if (kind === 'applied-500') return this.#answer(res, entry, errorReply(500, 'InternalError', 'injected: applied, then failed'));
    this.#answer(res, entry, reply);
  }

  #answer(res: http.ServerResponse, entry: LoggedRequest, reply: Reply): void {
    entry.status = reply.status;
    send(res, reply);
  }

  // #address: bucket and key, virtual-hosted when the Host's first label is
  // an existing bucket (and the host is not an IP), else path-style.
  #address(req: http.IncomingMessage, url: URL): { bucket: string; key: string } {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const dot = host.indexOf('.');
    const path = url.pathname.slice(1);
    if (dot > 0 && !IPV4.test(host) && this.#buckets.has(host.slice(0, dot))) {
      return { bucket: host.slice(0, dot), key: decodeURIComponent(path) };
    }
    const slash = path.indexOf('/');
    if (slash === -1) return { bucket: decodeURIComponent(path), key: '' };
    return { bucket: decodeURIComponent(path.slice(0, slash)), key: decodeURIComponent(path.slice(slash + 1)) };
  }

  #handle(req: http.IncomingMessage, url: URL, body: Buffer, entry: LoggedRequest, stale: boolean): Reply {
    const { bucket, key, verb, signed } = entry;
    const readOnly = verb === 'GET' || verb === 'HEAD';
    if (!signed && !(readOnly && this.publicRead)) return errorReply(403, 'AccessDenied', 'Access Denied (unsigned request)', key);
    if (verb === 'BUCKET') {
      if (req.method === 'PUT') {
        this.createBucket(bucket);
        return { status: 200, headers: { Location: `/${bucket}` } };
      }
      if (req.method === 'HEAD') return { status: this.#buckets.has(bucket) ? 200 : 404, headers: {} };
      return errorReply(501, 'NotImplemented', `s3-server: ${req.method} on a bucket is not implemented`);
    }
    const objects = this.#buckets.get(bucket);
    if (objects === undefined) return errorReply(404, 'NoSuchBucket', 'The specified bucket does not exist', key);
    switch (verb) {
      case 'LIST':
        return this.#list(bucket, objects, url);
      case 'PUT':
        return this.#put(req, bucket, key, objects, body);
      case 'GET':
      case 'HEAD': {
        const obj = stale ? (this.#previous.has(`${bucket}/${key}`) ? this.#previous.get(`${bucket}/${key}`) : objects.get(key)) : objects.get(key);
        return getReply(req, key, obj ?? undefined, verb === 'HEAD');
      }
      case 'DELETE':
        this.deleteObject(bucket, key);
        return { status: 204, headers: {} };
      default:
        return errorReply(501, 'NotImplemented', `s3-server: ${req.method} on an object is not implemented`, key);
    }
  }

  #put(req: http.IncomingMessage, bucket: string, key: string, objects: Map<string, StoredObject>, body: Buffer): Reply {
    const h = req.headers;
    if (h['x-amz-copy-source'] !== undefined || String(h['x-amz-content-sha256'] ?? '').startsWith('STREAMING-') || String(h['content-encoding'] ?? '').includes('aws-chunked')) {
      return errorReply(501, 'NotImplemented', 's3-server: copies and aws-chunked uploads are not implemented', key);
    }
    const current = objects.get(key);
    const ifNoneMatch = h['if-none-match'];
    const ifMatch = h['if-match'];
    if (ifNoneMatch !== undefined) {
      if (ifNoneMatch !== '*') return errorReply(501, 'NotImplemented', 'If-None-Match on PUT only takes *', key);
      if (current !== undefined) return errorReply(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', key);
    }
    if (ifMatch !== undefined) {
      if (current === undefined) return errorReply(404, 'NoSuchKey', 'The specified key does not exist.', key);
      if (ifMatch !== current.etag) return errorReply(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', key);
    }
    const meta: { cacheControl?: string; contentType?: string } = {};
    if (h['cache-control'] !== undefined) meta.cacheControl = h['cache-control'];
    if (h['content-type'] !== undefined) meta.contentType = h['content-type'];
    const obj = this.putObject(bucket, key, body, meta);
    return { status: 200, headers: { ETag: obj.etag } };
  }

  #list(bucket: string, objects: Map<string, StoredObject>, url: URL): Reply {
    const q = url.searchParams;
    if (q.has('delimiter')) return errorReply(501, 'NotImplemented', 's3-server: ListObjectsV2 with a delimiter is not implemented');
    const prefix = q.get('prefix') ?? '';
    const maxKeys = Math.min(1000, Number(q.get('max-keys') ?? '1000'));
    const token = q.get('continuation-token');
    const after = token !== null ? Buffer.from(token, 'base64url').toString() : (q.get('start-after') ?? '');
    const all = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = all.slice(0, maxKeys);
    const truncated = all.length > page.length;
    const contents = page
      .map((k) => {
        const o = objects.get(k)!;
        return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.data.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    const next = truncated ? `<NextContinuationToken>${Buffer.from(page[page.length - 1]!).toString('base64url')}</NextContinuationToken>` : '';
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(bucket)}</Name>` +
      `<Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
      (token === null ? '' : `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>`) +
      next +
      contents +
      '</ListBucketResult>';
    return { status: 200, headers: XML, body };
  }

  // #control: the test API for a server in a child process (JSON in and out).
  //   POST /_s3test/faults {kind, verb?, objectClass?, key?, keyPattern?, skip?, times?} → {index}
  //   POST /_s3test/heal    POST /_s3test/holds {match} → {id}
  //   GET /_s3test/holds/<id> → parked requests    POST /_s3test/holds/<id>/release (all)
  //   POST /_s3test/holds/<id>/stop    GET /_s3test/log → the request log
  async #control(method: string, url: URL, body: Buffer): Promise<Reply> {
    const json = (v: unknown): Reply => ({ status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(v) });
    const input = body.length === 0 ? {} : (JSON.parse(body.toString()) as Record<string, unknown>);
    const withPattern = <T extends RequestMatch>(m: T): T => (typeof m.keyPattern === 'string' ? { ...m, keyPattern: new RegExp(m.keyPattern) } : m);
    const route = `${method} ${url.pathname}`;
    if (route === 'POST /_s3test/faults') {
      this.inject(withPattern(input as unknown as FaultRule));
      return json({ faults: this.#faults.length });
    }
    if (route === 'POST /_s3test/heal') {
      this.heal();
      return json({ ok: true });
    }
    if (route === 'GET /_s3test/log') return json(this.log);
    if (route === 'POST /_s3test/holds') {
      this.hold(withPattern(input as RequestMatch));
      return json({ id: this.#allHolds.length - 1 });
    }
    const m = /^(GET|POST) \/_s3test\/holds\/(\d+)(\/release|\/stop)?$/.exec(route);
    const hold = m === null ? undefined : this.#allHolds[Number(m[2])];
    if (m !== null && hold !== undefined) {
      if (m[3] === '/release') hold.releaseAll();
      if (m[3] === '/stop') hold.stop();
      return json(hold.requests.map(({ verb, bucket, key, objectClass, userAgent }) => ({ verb, bucket, key, objectClass, userAgent })));
    }
    return errorReply(404, 'NoSuchControl', `s3-server: no control ${route}`);
  }
}

// getReply: GET/HEAD of obj, with S3's conditional GET (If-Match → 412,
// If-None-Match → 304) and its stored metadata.
function getReply(req: http.IncomingMessage, key: string, obj: StoredObject | undefined, head: boolean): Reply {
  if (obj === undefined) return head ? { status: 404, headers: {} } : errorReply(404, 'NoSuchKey', 'The specified key does not exist.', key);
  const headers: Record<string, string> = {
    ETag: obj.etag,
    'Content-Type': obj.contentType,
    'Last-Modified': obj.lastModified.toUTCString(),
  };
  if (obj.cacheControl !== undefined) headers['Cache-Control'] = obj.cacheControl;
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined && ifMatch !== obj.etag) return head ? { status: 412, headers: {} } : errorReply(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', key);
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined && (ifNoneMatch === '*' || ifNoneMatch.split(/\s*,\s*/).includes(obj.etag))) return { status: 304, headers };
  return { status: 200, headers: { ...headers, 'Content-Length': String(obj.data.length) }, body: head ? undefined : obj.data };
}

function send(res: http.ServerResponse, reply: Reply): void {
  if (res.destroyed || res.headersSent) return;
  const headers = { ...reply.headers };
  if (reply.body !== undefined && headers['Content-Length'] === undefined) headers['Content-Length'] = String(Buffer.byteLength(reply.body));
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

/** Starts a test S3 server (port 0: any free port); close() when done. */
export function startS3TestServer(o: S3TestServerOptions = {}): Promise<S3TestServer> {
  return S3TestServer.start(o);
}
