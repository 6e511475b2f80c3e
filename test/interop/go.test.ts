// Go interop: an independent client built on golang.org/x/mod/sumdb/tlog and
// sumdb/note (test/interop/go/tlogcheck) must verify our golden tree byte for
// byte, must reject tampered copies, and Go and tilelog must accept each
// other's note keys and signatures.
//
// Needs the Go toolchain and x/mod sources in GOPATH mode, offline:
//   apt-get install -y golang-go golang-golang-x-mod-dev   (Debian: Go 1.19, x/mod 0.7.0)
// GOPATH defaults to /usr/share/gocode (override with TLOGCHECK_GOPATH).
// Without `go` the suite is skipped locally and fails when CI is set.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTlogcheck, goMissing, INSTALL_HINT, runTlogcheck, runTlogcheckAsync, type TlogcheckResult } from './tlogcheck.js';
import { generateSignerKey, openCheckpoint, openNote, parseSignerKey, parseVerifierKey, signNote } from '../../src/note/index.js';

const VECTORS = fileURLToPath(new URL('../golden/', import.meta.url));
const TREE = join(VECTORS, 'tree');
const SIZES = [1, 2, 3, 255, 256, 257, 1000, 65535, 65536, 70000];
const missing = goMissing();

if (missing !== null && process.env.CI) {
  describe('Go interop', () => {
    it('needs the Go toolchain in CI', () => {
      throw new Error(`Go interop test cannot run: ${missing}; ${INSTALL_HINT}`);
    });
  });
}

type Result = TlogcheckResult;

describe.skipIf(missing !== null)('Go interop (golang.org/x/mod/sumdb)', () => {
  let work: string;
  let bin: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tilelog-go-'));
    bin = buildTlogcheck(work);
  }, 120_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function run(args: string[], input?: string): Result {
    return runTlogcheck(bin, args, input);
  }

  const vkeyArg = `@${join(VECTORS, 'log.vkey')}`;

  describe('tree check', () => {
    it('verifies the golden tree: every bundle, tile, and consistency with every published checkpoint', () => {
      const olds = SIZES.flatMap((s) => ['-old', join(VECTORS, 'checkpoints', String(s))]);
      const r = run(['-dir', TREE, '-vkey', vkeyArg, '-origin', 'vectors.tilelog.example/log', '-proofs', '1000', ...olds]);
      expect(r.json, r.stderr).toMatchObject({ ok: true, size: 70000, entries: 70000, bundles: 274, inclusionProofs: 1000 });
      expect(r.json.root).toBe('Ku03DZ+vGoZImfd7Lu91nBGlvtDybDgSWUEhCMeXDUQ=');
      expect(r.json.consistency).toHaveLength(SIZES.length);
      expect(r.status).toBe(0);
    });

    it.each([1, 2, 255, 256, 257, 1000, 65535])('verifies the tree as it was at size %i (older partial tiles)', (size) => {
      // ProveRecord re-authenticates tiles on every call (~0.3 ms each): all proofs up to 1000, else 1000.
      const proofs = Math.min(size, 1000);
      const r = run(['-dir', TREE, '-vkey', vkeyArg, '-checkpoint', join(VECTORS, 'checkpoints', String(size)), '-proofs', String(proofs)]);
      expect(r.json, JSON.stringify(r.json)).toMatchObject({ ok: true, size, entries: size, inclusionProofs: proofs });
    });

    it('over HTTP (-url), with gzip-encoded bundles (sent whatever the client asked)', async () => {
      const server = await serveDir(TREE);
      try {
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const r = await runAsync([bin, '-url', `${base}/`, '-vkey', vkeyArg, '-old', `${base}/checkpoint`]);
        expect(r.json, JSON.stringify(r.json)).toMatchObject({ ok: true, size: 70000, entries: 70000 });
      } finally {
        server.close();
      }
    });

    it('falls back to full tiles when partial tiles of an older size are gone', () => {
      const copy = copyTree('pruned');
      rmSync(join(copy, 'tile/0/003.p'), { recursive: true, force: true });
      rmSync(join(copy, 'tile/entries/003.p'), { recursive: true, force: true });
      const r = run(['-dir', copy, '-vkey', vkeyArg, '-checkpoint', join(VECTORS, 'checkpoints/1000'), '-proofs', 'all']);
      expect(r.json, JSON.stringify(r.json)).toMatchObject({ ok: true, size: 1000 });
      expect(r.json.partialFallbacks).toBeGreaterThan(0);
    });

    const tampers: Array<[string, (dir: string) => void]> = [
      ['a flipped byte in an entry bundle', (d) => flip(join(d, 'tile/entries/100'), 50)],
      ['a flipped byte in the final partial bundle', (d) => flip(join(d, 'tile/entries/273.p/112'), 10)],
      ['an extra entry in the final partial bundle', (d) => append(join(d, 'tile/entries/273.p/112'), Uint8Array.of(0, 1, 42))],
      ['a truncated entry bundle', (d) => truncate(join(d, 'tile/entries/007'), 1)],
      ['a missing entry bundle', (d) => rmSync(join(d, 'tile/entries/042'))],
      ['a flipped byte in a full level-0 tile', (d) => flip(join(d, 'tile/0/005'), 4000)],
      ['a flipped byte in the level-1 tile', (d) => flip(join(d, 'tile/1/000'), 100)],
      ['a flipped byte in the final partial level-0 tile', (d) => flip(join(d, 'tile/0/273.p/112'), 31)],
      ['a short level-2 tile', (d) => truncate(join(d, 'tile/2/000.p/1'), 1)],
      ['a re-signed-looking checkpoint with another root', (d) => editCheckpoint(d, (t) => t.replace('Ku03DZ', 'Ku03DY'))],
      ['a checkpoint with a larger size', (d) => editCheckpoint(d, (t) => t.replace('\n70000\n', '\n70001\n'))],
    ];
    it.each(tampers)('rejects a copy with %s', (name, tamper) => {
      const copy = copyTree(name.replace(/\W+/g, '-'));
      tamper(copy);
      const r = run(['-dir', copy, '-vkey', vkeyArg, '-proofs', '16']);
      expect(r.json.ok, JSON.stringify(r.json)).toBe(false);
      expect(r.status).toBe(1);
      rmSync(copy, { recursive: true, force: true });
    });

    it('rejects an entry rewritten consistently in its bundle, level-0 tile and level-1 tile', () => {
      // Go's TileHashReader skips authenticating some full tiles (see the comment
      // above memHashes in main.go), so this is caught by the rebuilt tree.
      const copy = copyTree('consistent-forgery');
      forgeEntry(copy, 1405);
      const r = run(['-dir', copy, '-vkey', vkeyArg, '-proofs', 'none']);
      expect(r.json.ok, JSON.stringify(r.json)).toBe(false);
      expect(r.json.error).toMatch(/entries hash to root|differs from the tile rebuilt/);
      // Also caught by inclusion proofs, whose paths cross the forged hashes.
      const proofs = run(['-dir', copy, '-vkey', vkeyArg, '-proofs', '16', '-recompute=false']);
      expect(proofs.json.error).toMatch(/CheckRecord/);
    });

    it('rejects a wrong origin, a foreign key, and an inconsistent old checkpoint', () => {
      expect(run(['-dir', TREE, '-vkey', vkeyArg, '-origin', 'example.com/other']).status).toBe(1);
      const other = generateSignerKey('vectors.tilelog.example/log');
      expect(run(['-dir', TREE, '-vkey', other.verifierKey]).status).toBe(1);
      // A validly signed size-1000 checkpoint for a different root.
      const forged = join(work, 'forged-1000');
      const signer = parseSignerKey(readFileSync(join(VECTORS, 'log.skey'), 'utf8').trim());
      const text = readFileSync(join(VECTORS, 'checkpoints/1000'), 'utf8').split('\n\n')[0]!.replace('L7uRDn', 'L7uRDo') + '\n';
      writeFileSync(forged, signNote(text, [signer]));
      const r = run(['-dir', TREE, '-vkey', vkeyArg, '-old', forged]);
      expect(r.json.ok).toBe(false);
      expect(r.json.error).toMatch(/CheckTree|inconsistent/);
    });

    it('exits 2 on usage errors', () => {
      expect(run(['-dir', TREE]).status).toBe(2);
      expect(run(['-dir', TREE, '-url', 'http://x', '-vkey', vkeyArg]).status).toBe(2);
      expect(run(['nonsense']).status).toBe(2);
    });
  });

  describe('keys', () => {
    const TEXT = 'tilelog interop\nsecond line\n';

    it('a key from generateSignerKey works in Go: Go signs the same bytes we do, and each verifies the other', () => {
      for (const name of ['tilelog.example/interop', 'tilelog.example/ключ—名前']) {
        const keys = generateSignerKey(name);
        const go = run(['keys', '-skey', keys.signerKey, '-vkey', keys.verifierKey, '-text', TEXT]);
        expect(go.json, JSON.stringify(go.json)).toMatchObject({ ok: true, name });
        const signer = parseSignerKey(keys.signerKey);
        expect(go.json.keyHash).toBe(signer.keyId.toString(16).padStart(8, '0'));
        // Ed25519 is deterministic: Go's note equals ours byte for byte.
        expect(go.json.note).toBe(signNote(TEXT, [signer]));
        expect(openNote(go.json.note as string, [parseVerifierKey(keys.verifierKey)]).verified).toHaveLength(1);
        // Our note, verified by Go's note.Open.
        const ours = run(['verify', '-vkey', keys.verifierKey, '-note', '-'], signNote(TEXT, [signer]));
        expect(ours.json, JSON.stringify(ours.json)).toMatchObject({ ok: true, text: TEXT });
      }
    });

    it('the golden log key and a cosigned checkpoint open in Go (unknown cosignature line ignored)', () => {
      const r = run(['verify', '-vkey', vkeyArg, '-note', join(VECTORS, 'cosigned-1000.checkpoint')]);
      expect(r.json).toMatchObject({ ok: true, unverified: 1 });
    });

    it('keys from Go note.GenerateKey parse, sign and verify in tilelog', () => {
      const gen = run(['keygen', '-name', 'go.example/log']);
      expect(gen.json.ok).toBe(true);
      const skey = gen.json.skey as string;
      const vkey = gen.json.vkey as string;
      const signer = parseSignerKey(skey);
      expect(signer.verifierKey).toBe(vkey);
      const verifier = parseVerifierKey(vkey);
      // Go signs, we verify; we sign, Go verifies.
      const goNote = run(['keys', '-skey', skey, '-vkey', vkey, '-text', TEXT]).json.note as string;
      expect(openNote(goNote, [verifier]).note.text).toBe(TEXT);
      const cp = `go.example/log\n1\n${Buffer.alloc(32, 1).toString('base64')}\n`;
      const ours = signNote(cp, [signer]);
      expect(openCheckpoint(ours, 'go.example/log', [verifier]).checkpoint.size).toBe(1);
      expect(run(['verify', '-vkey', vkey, '-note', '-'], ours).json.ok).toBe(true);
    });

    it('Go and tilelog agree on rejecting a key with a wrong ID', () => {
      const keys = generateSignerKey('tilelog.example/bad');
      const id = keys.verifierKey.split('+')[1]!;
      const wrong = keys.verifierKey.replace(`+${id}+`, `+${id === '00000000' ? '00000001' : '00000000'}+`);
      expect(() => parseVerifierKey(wrong)).toThrow();
      expect(run(['keys', '-skey', keys.signerKey, '-vkey', wrong]).json.ok).toBe(false);
    });
  });

  // ---- helpers ----

  function copyTree(name: string): string {
    const dest = join(work, `tree-${name}`);
    cpSync(TREE, dest, { recursive: true });
    return dest;
  }

  function runAsync(argv: string[]): Promise<Result> {
    return runTlogcheckAsync(argv[0]!, argv.slice(1));
  }
});

const sha256 = (...parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

/**
 * Changes entry `index` (< 65536) and rewrites its leaf hash in the level-0 tile
 * and that tile's hash in tile/1/000, leaving the right edge (and root) alone.
 */
function forgeEntry(dir: string, index: number): void {
  const bundlePath = join(dir, 'tile/entries', String(Math.floor(index / 256)).padStart(3, '0'));
  const bundle = readFileSync(bundlePath);
  let off = 0;
  for (let i = 0; i < index % 256; i++) off += 2 + bundle.readUInt16BE(off);
  const len = bundle.readUInt16BE(off);
  bundle[off + 2] = (bundle[off + 2] as number) ^ 0x01; // entries are 1..48 bytes
  writeFileSync(bundlePath, bundle);
  const leaf = sha256(Uint8Array.of(0), bundle.subarray(off + 2, off + 2 + len));

  const tilePath = join(dir, 'tile/0', String(Math.floor(index / 256)).padStart(3, '0'));
  const tile = readFileSync(tilePath);
  leaf.copy(tile, (index % 256) * 32);
  writeFileSync(tilePath, tile);
  let level: Buffer[] = [];
  for (let i = 0; i < 256; i++) level.push(tile.subarray(i * 32, i * 32 + 32));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha256(Uint8Array.of(1), level[i]!, level[i + 1]!));
    level = next;
  }
  const parentPath = join(dir, 'tile/1/000');
  const parent = readFileSync(parentPath);
  level[0]!.copy(parent, Math.floor(index / 256) * 32);
  writeFileSync(parentPath, parent);
}

function flip(path: string, offset: number): void {
  const b = readFileSync(path);
  b[offset] = (b[offset] as number) ^ 0x01;
  writeFileSync(path, b);
}

function append(path: string, extra: Uint8Array): void {
  writeFileSync(path, Buffer.concat([readFileSync(path), extra]));
}

function truncate(path: string, by: number): void {
  const b = readFileSync(path);
  writeFileSync(path, b.subarray(0, b.length - by));
}

function editCheckpoint(dir: string, edit: (text: string) => string): void {
  const p = join(dir, 'checkpoint');
  const before = readFileSync(p, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error('edit changed nothing');
  writeFileSync(p, after);
}

/** A static server for a tile tree; entry bundles go out gzip-encoded whatever the client asked. */
function serveDir(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(root + sep) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end('not found\n');
      return;
    }
    const body = readFileSync(path);
    if (path.includes(`${sep}entries${sep}`)) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip' }).end(gzipSync(body));
    } else {
      res.writeHead(200).end(body);
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
