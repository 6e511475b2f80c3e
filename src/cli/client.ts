// A small HTTP client for the CLI verbs talking to a tilelog server, with
// errors that say what to do (server down, wrong URL, error JSON decoded).

import { CliError } from './common.js';

/** GETs url and parses JSON; CliError with the server's message on failure. */
export async function getJson<T>(url: string): Promise<T> {
  const res = await request(url);
  return (await readJson(url, res)) as T;
}

/** POSTs body to url and parses the JSON answer. */
export async function postJson<T>(url: string, body: Uint8Array): Promise<T> {
  return (await postJsonWithHeaders<T>(url, body)).body;
}

/** postJson, also returning the answer's headers. */
export async function postJsonWithHeaders<T>(url: string, body: Uint8Array): Promise<{ body: T; headers: Headers }> {
  const res = await request(url, { method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': 'application/octet-stream' } });
  return { body: (await readJson(url, res)) as T, headers: res.headers };
}

/** GETs url as bytes; null on 404; CliError on other failures. */
export async function getBytes(url: string): Promise<Uint8Array | null> {
  const res = await request(url);
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok) throw new CliError(`${url}: HTTP ${res.status} ${await errorMessage(res)}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * The connection broke after it was made (reset, closed before the answer):
 * the server may have acted on the request. A caller that changes state
 * (POST /add) must say what that means for a retry.
 */
export class ConnectionLostError extends CliError {
  constructor(
    readonly url: string,
    readonly why: string,
  ) {
    super(`the connection to ${url} was lost before the answer (${why})`);
    this.name = 'ConnectionLostError';
  }
}

// Failures before any byte of the request can have reached a server.
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

async function request(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    if (cause?.code !== undefined && !NOT_CONNECTED.has(cause.code)) {
      throw new ConnectionLostError(url, cause.message !== undefined && cause.message !== cause.code ? `${cause.code}: ${cause.message}` : cause.code);
    }
    throw new CliError(`cannot reach ${url} (${why}); is 'tilelog serve' running there? Set --url or $TILELOG_URL`);
  }
}

async function readJson(url: string, res: Response): Promise<unknown> {
  if (!res.ok) throw new CliError(`${url}: HTTP ${res.status} ${await errorMessage(res)}`);
  try {
    return await res.json();
  } catch {
    throw new CliError(`${url}: the answer is not JSON; is this a tilelog server?`);
  }
}

async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return `${body.error.message} (${body.error.code ?? '?'})`;
  } catch {
    // not our JSON
  }
  return text.slice(0, 200);
}
