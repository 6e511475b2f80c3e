// Tile GETs over HTTP (issue 14, target 3): wrk against (a) `tilelog serve`
// alone, (b) `tilelog serve --read-workers 2`, (c) nginx (2 worker processes,
// Debian's package) serving the same tiles directory, in the same run with the
// same connections, interleaved round by round. Each round GETs the log's
// full hash tiles and entry bundles in turn. Reported: req/s, p50/p99 per
// server (median of the rounds, with [min-max]), the ratios against nginx,
// and PASS/MISS against the target (workers >= 0.6x nginx, p99 <= 3 ms).
//   node --import tsx bench/tile-http.bench.ts   (after npm run build; needs wrk and nginx)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { header, median, rate, freePort, runWrk } from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const CONNECTIONS = Number(process.env.BENCH_TILE_HTTP_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.BENCH_TILE_HTTP_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_TILE_HTTP_ROUNDS ?? 5);
const WORKERS = 2;
/** 16 full tiles at level 0 and their 16 bundles (and a level-1 partial, not fetched). */
const ENTRIES = 16 * 256;
const TARGET_RATIO = 0.6;
const TARGET_P99_MS = 3;
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));

interface Load {
  rps: number;
  p50: number;
  p99: number;
  bad: number;
}


async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

function startTilelog(dir: string, port: number, workers: number): ChildProcess {
  const args = [path.join(root, 'dist/cli/main.js'), 'serve', '--listen', `127.0.0.1:${port}`, '--state', path.join(dir, 'state')];
  args.push('--tiles', path.join(dir, 'tiles'), '--origin', 'bench.tilelog.example/tiles', '--log-level', 'warn');
  if (workers > 0) args.push('--read-workers', String(workers));
  return spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** nginx with WORKERS worker processes serving dir/tiles as deploy/nginx.conf would (the same headers). */
function startNginx(dir: string, port: number): ChildProcess {
  const prefix = path.join(dir, 'nginx');
  const t = (n: string) => path.join(prefix, n);
  fs.mkdirSync(prefix, { recursive: true });
  const conf =
    `daemon off;\nworker_processes ${WORKERS};\npid ${t('nginx.pid')};\nerror_log ${t('error.log')} warn;\n` +
    `events { worker_connections 1024; }\n` +
    `http {\n  access_log off;\n  client_body_temp_path ${t('body')};\n  proxy_temp_path ${t('proxy')};\n  fastcgi_temp_path ${t('fastcgi')};\n` +
    `  uwsgi_temp_path ${t('uwsgi')};\n  scgi_temp_path ${t('scgi')};\n` +
    `  server {\n    listen 127.0.0.1:${port};\n    root ${path.join(dir, 'tiles')};\n    disable_symlinks on from=$document_root;\n` +
    `    location /tile/ {\n      default_type application/octet-stream;\n      add_header Cache-Control "public, max-age=31536000, immutable";\n` +
    `      add_header Access-Control-Allow-Origin "*";\n    }\n  }\n}\n`;
  fs.writeFileSync(t('nginx.conf'), conf);
  return spawn(NGINX!, ['-p', prefix, '-c', t('nginx.conf'), '-e', t('error.log')], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function wrk(base: string, paths: string[], seconds: number): Promise<Load> {
  const args = ['-t', '2', '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--timeout', '10s', '-s', path.join(here, 'servers/tile-paths.lua'), base, '--', ...paths];
  const j = await runWrk(args);
  return { rps: j.requests / (j.durationUs / 1e6), p50: j.p50Us / 1000, p99: j.p99Us / 1000, bad: j.errors + j.non2xx };
}

/** Adds ENTRIES entries and waits for the checkpoint covering them. */
async function fill(base: string): Promise<void> {
  let next = 0;
  const one = async () => {
    while (next < ENTRIES) {
      const i = next++;
      const r = await fetch(`${base}/add${i === ENTRIES - 1 ? '?wait=checkpoint' : ''}`, { method: 'POST', body: `bench tile entry ${i}` });
      if (!r.ok) throw new Error(`add ${i}: HTTP ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, one));
  await fetch(`${base}/add?wait=checkpoint`, { method: 'POST', body: 'bench tile last entry' });
}

const spread = (xs: number[], digits: number) => `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}]`;

export async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error !== undefined || NGINX === undefined) {
    console.log('\n# tile GETs over HTTP: skipped (needs wrk and nginx: apt-get install -y wrk nginx)');
    return;
  }
  header(
    'tile GETs over HTTP: serve, serve --read-workers 2, nginx on the same directory',
    `wrk -t2 -c${CONNECTIONS}, ${SECONDS} s per server per round, ${ROUNDS} rounds interleaved; 32 paths (16 full tiles, 16 bundles); ` +
      `the 2 cores are shared with wrk and with whatever else runs on this machine (load average now ${os.loadavg()[0]!.toFixed(1)})`,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-bench-tile-http-'));
  fs.chmodSync(dir, 0o755); // nginx's workers run as another user
  const children: ChildProcess[] = [];
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = startTilelog(dir, port, 0);
    await waitFor(`${base}/healthz`, first);
    await fill(base);
    await stop(first);
    const paths: string[] = [];
    for (let n = 0; n < ENTRIES / 256; n++) {
      const nnn = String(n).padStart(3, '0');
      paths.push(`/tile/0/${nnn}`, `/tile/entries/${nnn}`);
    }
    const nginxPort = await freePort();
    const nginx = startNginx(dir, nginxPort);
    children.push(nginx);
    await waitFor(`http://127.0.0.1:${nginxPort}${paths[0]}`, nginx);

    const results: Record<'alone' | 'workers' | 'nginx', Load[]> = { alone: [], workers: [], nginx: [] };
    const measureTilelog = async (workers: number): Promise<Load> => {
      const child = startTilelog(dir, port, workers);
      children.push(child);
      try {
        await waitFor(`${base}${paths[0]}`, child);
        await wrk(base, paths, 1); // warm-up: JIT, and every path into the workers' caches
        return await wrk(base, paths, SECONDS);
      } finally {
        await stop(child);
      }
    };
    await wrk(`http://127.0.0.1:${nginxPort}`, paths, 1);
    for (let r = 0; r < ROUNDS; r++) {
      results.alone.push(await measureTilelog(0));
      results.workers.push(await measureTilelog(WORKERS));
      results.nginx.push(await wrk(`http://127.0.0.1:${nginxPort}`, paths, SECONDS));
    }
    for (const [name, label] of [['alone', 'serve        '], ['workers', `serve --read-workers ${WORKERS}`], ['nginx', 'nginx        ']] as const) {
      const rs = results[name];
      const bad = rs.reduce((s, l) => s + l.bad, 0);
      console.log(
        `  ${label}: ${spread(rs.map((l) => l.rps / 1000), 1)}k req/s, p50 ${spread(rs.map((l) => l.p50), 2)} ms, p99 ${spread(rs.map((l) => l.p99), 2)} ms` +
          (bad > 0 ? `, ${bad} errors/non-2xx` : ''),
      );
    }
    // Ratios per round (same round, same load on the machine), then their median.
    const ratio = (name: 'alone' | 'workers') => results[name].map((l, i) => l.rps / results.nginx[i]!.rps);
    const workersRatio = ratio('workers');
    const p99 = median(results.workers.map((l) => l.p99));
    console.log(`${'serve alone / nginx'.padEnd(34)} ×${spread(ratio('alone'), 2)}   (issue 14 measured ×0.22)`);
    console.log(`${`serve --read-workers ${WORKERS} / nginx`.padEnd(34)} ×${spread(workersRatio, 2)}   target >= ${TARGET_RATIO}: ${median(workersRatio) >= TARGET_RATIO ? 'PASS' : 'MISS'}`);
    console.log(`${`read workers p99`.padEnd(34)} ${p99.toFixed(2)} ms   target <= ${TARGET_P99_MS} ms: ${p99 <= TARGET_P99_MS ? 'PASS' : 'MISS'}   (nginx p99 ${median(results.nginx.map((l) => l.p99)).toFixed(2)} ms)`);
    console.log(`  workers / alone: ×${spread(results.workers.map((l, i) => l.rps / results.alone[i]!.rps), 2)}; rates ${rate(median(results.workers.map((l) => l.rps)))}/s vs ${rate(median(results.alone.map((l) => l.rps)))}/s`);
  } finally {
    for (const c of children) await stop(c);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
