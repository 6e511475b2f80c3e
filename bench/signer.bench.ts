// Checkpoint signing through PKCS#11 (SoftHSM2, CKM_EDDSA) beside the same
// key in a file (in-process Ed25519), in the same run:
//   1. latency of signing one checkpoint note (signTreeHead), p50 and p99;
//   2. the publishing rate of a log that signs one checkpoint per entry
//      (add, then wait for its checkpoint, one at a time), which is where a
//      slower signer would show;
//   3. the CA's ECDSA P-256 signature (CaSigner.sign, as for an OCSP
//      response: a 512-byte TBS, DER signature out) through PKCS#11
//      (CKM_ECDSA, then verified in process) beside a PKCS#8 file key.
// The token lives in a temporary directory with its own SOFTHSM2_CONF.
// Needs softhsm2 (apt-get install softhsm2) and the pkcs11js package.
//
//   node --import tsx bench/signer.bench.ts      (BENCH_SIGNATURES, BENCH_CHECKPOINTS)
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSigner, type CaSigner } from '../src/ca/signer.js';
import { openTokenCaSigner } from '../src/ca/token-signer.js';
import { generatePkcs11EcdsaKey } from '../src/hsm/pkcs11-ecdsa.js';
import { importPkcs11Key } from '../src/hsm/pkcs11-keygen.js';
import { Pkcs11Module } from '../src/hsm/pkcs11-module.js';
import { openFileLog } from '../src/log/index.js';
import { signTreeHead } from '../src/log/publisher.js';
import { nodeEd25519 } from '../src/cli/node-ed25519.js';
import { nobleEd25519, useEd25519Operations } from '../src/note/ed25519.js';
import { noteSigner, seedSigner, type Ed25519Signer, type Signer } from '../src/note/index.js';
import { header, line, median, quantile } from './util.js';

const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 2000);
const CHECKPOINTS = Number(process.env.BENCH_CHECKPOINTS ?? 300);
const RUNS = 3;
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const ORIGIN = 'bench.tilelog.example/log';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function latenciesMs(signer: Ed25519Signer, n: number): number[] {
  const root = new Uint8Array(32);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    root[i & 31] = i & 0xff;
    const t0 = process.hrtime.bigint();
    signTreeHead(ORIGIN, i + 1, root, signer);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

async function caLatenciesMs(signer: CaSigner, n: number): Promise<number[]> {
  const tbs = new Uint8Array(512);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    tbs[i & 511] = i & 0xff;
    const t0 = process.hrtime.bigint();
    await signer.sign(tbs);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

async function publishRate(signer: Ed25519Signer, dir: string): Promise<number> {
  const log = await openFileLog({ origin: ORIGIN, signer, stateDir: path.join(dir, 'state'), tilesDir: path.join(dir, 'tiles'), logger: quiet, checkpointIntervalMs: 0 });
  try {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < CHECKPOINTS; i++) {
      const { index } = await log.add(new TextEncoder().encode(`entry ${i} ${dir}`));
      await log.waitForCheckpoint(index);
    }
    return CHECKPOINTS / (Number(process.hrtime.bigint() - t0) / 1e9);
  } finally {
    await log.close();
  }
}

export async function main(): Promise<void> {
  if (!fs.existsSync(MODULE)) {
    console.log(`\n# checkpoint signing: PKCS#11 vs file key\nskipped: ${MODULE} is missing (apt-get install softhsm2)`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-signer-bench-'));
  try {
    const tokens = path.join(dir, 'tokens');
    fs.mkdirSync(tokens);
    const conf = path.join(dir, 'softhsm2.conf');
    fs.writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    process.env.SOFTHSM2_CONF = conf;
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--pin', '1234', '--so-pin', '5678'], { stdio: 'ignore' });
    fs.writeFileSync(path.join(dir, 'pin'), '1234\n', { mode: 0o600 });
    const seed = new Uint8Array(32).fill(3);
    const token = noteSigner(ORIGIN, await importPkcs11Key(`pkcs11:token=bench;object=log?module-path=${MODULE}&pin-source=file:${path.join(dir, 'pin')}`, seed), 0x01);
    // The file key as `tilelog serve` signs with it: the CLI installs node:crypto's Ed25519 (src/cli/node-ed25519.ts).
    useEd25519Operations(nodeEd25519);
    const file = noteSigner(ORIGIN, seedSigner(seed), 0x01);
    // And through noble, the library's default (browser-safe), for reference.
    const nobleSeed: Signer = { algorithm: 'Ed25519', publicKey: nobleEd25519.publicKey(seed), description: 'noble', sign: nobleEd25519.signer(seed) };
    const fileNoble = noteSigner(ORIGIN, nobleSeed, 0x01);

    header('checkpoint signing: PKCS#11 (SoftHSM2) vs the same key in a file', `${SIGNATURES} signatures per run, ${RUNS} runs; ${CHECKPOINTS} checkpoints per log`);
    latenciesMs(file, 200);
    latenciesMs(fileNoble, 200);
    latenciesMs(token, 200); // warm-up
    const f: number[] = [];
    const fn: number[] = [];
    const t: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      f.push(...latenciesMs(file, SIGNATURES));
      fn.push(...latenciesMs(fileNoble, SIGNATURES));
      t.push(...latenciesMs(token, SIGNATURES));
    }
    for (const [q, label] of [
      [0.5, 'p50'],
      [0.99, 'p99'],
    ] as const) {
      const tq = quantile(t, q);
      const fq = quantile(f, q);
      line(`sign checkpoint ${label} pkcs11`, `${(tq * 1000).toFixed(0)} µs`, 'file key', `${(fq * 1000).toFixed(0)} µs`, tq / fq);
      const nq = quantile(fn, q);
      line(`sign checkpoint ${label} file key, noble`, `${(nq * 1000).toFixed(0)} µs`, 'node:crypto', `${(fq * 1000).toFixed(0)} µs`, nq / fq);
    }
    const rates = { file: [] as number[], token: [] as number[] };
    for (let r = 0; r < RUNS; r++) {
      rates.file.push(await publishRate(file, path.join(dir, `file-${r}`)));
      rates.token.push(await publishRate(token, path.join(dir, `token-${r}`)));
    }
    const tr = median(rates.token);
    const fr = median(rates.file);
    line('publish 1 entry/checkpoint pkcs11', `${tr.toFixed(0)} cp/s`, 'file key', `${fr.toFixed(0)} cp/s`, tr / fr);

    const caUri = `pkcs11:token=bench;object=ca?module-path=${MODULE}&pin-source=file:${path.join(dir, 'pin')}`;
    (await generatePkcs11EcdsaKey(caUri)).close();
    const caToken = await openTokenCaSigner(caUri);
    const caFile = (await generateSigner()).signer;
    header('CA signing (ECDSA P-256): PKCS#11 (SoftHSM2) vs a key file', `${SIGNATURES} signatures per run, ${RUNS} runs`);
    await caLatenciesMs(caFile, 200);
    await caLatenciesMs(caToken, 200); // warm-up
    const cf: number[] = [];
    const ct: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      cf.push(...(await caLatenciesMs(caFile, SIGNATURES)));
      ct.push(...(await caLatenciesMs(caToken, SIGNATURES)));
    }
    for (const [q, label] of [
      [0.5, 'p50'],
      [0.99, 'p99'],
    ] as const) {
      const tq = quantile(ct, q);
      const fq = quantile(cf, q);
      line(`CA sign ECDSA ${label} pkcs11`, `${(tq * 1000).toFixed(0)} µs`, 'file key', `${(fq * 1000).toFixed(0)} µs`, tq / fq);
    }
  } finally {
    Pkcs11Module.finalizeAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
