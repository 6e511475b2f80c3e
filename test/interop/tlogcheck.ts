// Builds and runs the Go checker (test/interop/go/tlogcheck), an independent
// client on golang.org/x/mod/sumdb/{tlog,note}, offline in GOPATH mode.
// Needs: apt-get install -y golang-go golang-golang-x-mod-dev (Go 1.19, x/mod 0.7.0).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const GOPATH = process.env.TLOGCHECK_GOPATH ?? '/usr/share/gocode';
const XMOD = join(GOPATH, 'src/golang.org/x/mod/sumdb');
export const INSTALL_HINT = 'install them with: apt-get install -y golang-go golang-golang-x-mod-dev (or set TLOGCHECK_GOPATH)';

/** Why the Go toolchain cannot run here, or null when it can. */
export function goMissing(): string | null {
  const v = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) return '`go` is not on PATH';
  if (!existsSync(XMOD)) return `golang.org/x/mod sources not found at ${XMOD}`;
  return null;
}

/** go build the checker into dir; returns the binary's path. */
export function buildTlogcheck(dir: string): string {
  const bin = join(dir, 'tlogcheck');
  const cache = join(tmpdir(), 'tilelog-gocache');
  mkdirSync(cache, { recursive: true });
  const build = spawnSync('go', ['build', '-o', bin, './test/interop/go/tlogcheck'], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOCACHE: process.env.GOCACHE ?? cache, GOPROXY: 'off' },
  });
  if (build.status !== 0) throw new Error(`go build failed:\n${build.stderr}${build.error ?? ''}`);
  return bin;
}

export interface TlogcheckResult {
  status: number | null;
  json: Record<string, unknown> & { ok: boolean; error?: string };
  stderr: string;
}

function parseLast(status: number | null, out: string, err: string): TlogcheckResult {
  try {
    return { status, json: JSON.parse(out.trim().split('\n').at(-1) ?? '') as TlogcheckResult['json'], stderr: err };
  } catch {
    throw new Error(`tlogcheck printed no JSON (status ${status}):\n${out}\n${err}`);
  }
}

/** Runs the checker synchronously (fine when no server lives in this process). */
export function runTlogcheck(bin: string, args: string[], input?: string): TlogcheckResult {
  const r = spawnSync(bin, args, { encoding: 'utf8', input, timeout: 120_000 });
  return parseLast(r.status, r.stdout, r.stderr);
}

/** Runs the checker without blocking the event loop (needed when this process serves HTTP). */
export function runTlogcheckAsync(bin: string, args: string[]): Promise<TlogcheckResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      try {
        resolve(parseLast(status, out, err));
      } catch (e) {
        reject(e);
      }
    });
  });
}
