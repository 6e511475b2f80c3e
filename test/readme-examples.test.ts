// The README's examples run as written. A fenced block opts in with
// `runnable=<group>` after its language (```sh runnable=registry, ```ts
// runnable=ca); every other block is documentation only. Every ```ts block
// must opt in, or say why not with `no-run=<reason>`, so a new TypeScript
// example cannot go untested by accident.
//
// Per group, in README order: the sh blocks are joined into one bash script
// (set -euo pipefail) and run; then each ts block is imported, with
// `tilelog/<x>` pointed at src/<x>/index.ts (the test checks package.json
// exports the same entry), and each `console.log(...); // <expected>` must
// print <expected>. To stay apart from a reader's own walk-through and from
// parallel tests, the walk-through directories (/tmp/tilelog-<group>) are
// replaced by a temporary directory and each port the group names
// (`127.0.0.1:<port>`, `--port <port>`) by a free one of its own; `tilelog`
// runs the CLI bundled from src/ (test/global-setup.ts). TMPDIR is a directory
// of the run too, so what the walk-through puts there (the PostgreSQL test
// server's cluster) is found and killed with the rest if the script fails.
//
// A group that needs more than Node and curl names it in NEEDS: without it
// the group FAILS under CI and is skipped, with the reason, elsewhere.
// One group alone: npx vitest run test/readme-examples.test.ts -t 'the pg walk-through'
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CLI_BUNDLE, REPO_ROOT } from './cli-bundle.js';
import { localPgUnavailable } from './support/postgres-cluster.js';
import { freePort } from './support/free-port.js';

interface Block {
  lang: string;
  group: string | null;
  noRun: string | null;
  code: string;
  line: number;
}

/** The fenced blocks of a markdown text, with their info strings parsed. */
export function fencedBlocks(md: string): Block[] {
  const out: Block[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)?(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    const info = open[2] ?? '';
    out.push({
      lang: open[1] ?? '',
      group: /\brunnable=(\S+)/.exec(info)?.[1] ?? null,
      noRun: /\bno-run=(.+)$/.exec(info)?.[1]?.trim() ?? null,
      code: body.join('\n') + '\n',
      line: start + 1,
    });
  }
  return out;
}

const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const BLOCKS = fencedBlocks(README);
const GROUPS = [...new Set(BLOCKS.flatMap((b) => (b.group === null ? [] : [b.group])))];
const PKG = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string> };
/** Why a group's walk-through cannot run on this machine, or null (see the header). */
const NEEDS: Record<string, () => string | null> = { pg: localPgUnavailable };
/**
 * How long a group's script may run (a limit for hangs, not a measure): the
 * pg walk-through starts eight servers and waits out a lease, about 40 s on
 * an idle 2-core machine and twice that under load.
 */
const SCRIPT_LIMIT_MS: Record<string, number> = { pg: 240_000 };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});


/** The ports a group's blocks name, as `127.0.0.1:<port>` or `--port <port>`. */
function portsNamed(codes: string[]): string[] {
  return [...new Set(codes.flatMap((c) => [...c.matchAll(/(?:127\.0\.0\.1:|--port )(\d{2,5})\b/g)].map((m) => m[1]!)))];
}

/**
 * The walk-through's fixed directory and ports, made private to this run:
 * `/tmp/tilelog-<group>` becomes `dir`, and each port a key of `ports` its value.
 */
function localize(code: string, group: string, dir: string, ports: ReadonlyMap<string, number>): string {
  let out = code.replaceAll(`/tmp/tilelog-${group}`, dir);
  out = out.replace(/(127\.0\.0\.1:|--port )(\d{2,5})\b/g, (m, prefix: string, p: string) => {
    const to = ports.get(p);
    return to === undefined ? m : `${prefix}${to}`;
  });
  return out;
}

/**
 * The pids of processes with an argument or their working directory under
 * `root` (a directory unique to this run): the walk-through's servers
 * (`npm --prefix <root>/repo run` starts the test servers in <root>/repo).
 */
function processesUnder(root: string): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.startsWith(root)) || fs.readlinkSync(`/proc/${name}/cwd`).startsWith(root)) pids.push(Number(name));
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return pids;
}

/**
 * Runs a bash script in its own process group, with job control on as in an
 * interactive shell (so `kill %1` reaches the server a background `tilelog`
 * function started); kills the group, and every server still running with an
 * argument under `root` (job control gives each background job a process
 * group of its own, and PostgreSQL detaches from its starter, so a script
 * that failed midway leaves them), when done.
 */
function runBash(script: string, env: NodeJS.ProcessEnv, root: string, timeoutMs: number): Promise<{ code: number | null; out: string; stop: () => void }> {
  const child = spawn('bash', ['-c', `set -m -euo pipefail\n${script}`], { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  const kill = () => {
    for (const pid of [-child.pid!, ...processesUnder(root)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  const timer = setTimeout(kill, timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      killGroup(); // what the script left in its own group; a server it left running stays until stop()
      resolve({ code, out, stop: kill });
    }),
  );
}

describe('README examples', () => {
  it('every TypeScript block opts in (runnable=<group>) or out (no-run=<reason>)', () => {
    const ts = BLOCKS.filter((b) => b.lang === 'ts');
    expect(ts.length).toBeGreaterThan(0);
    for (const b of ts) expect(b.group !== null || b.noRun !== null, `README.md:${b.line}: a ts block without runnable= or no-run=`).toBe(true);
    expect(GROUPS).toEqual(expect.arrayContaining(['sdk', 'witness', 'cosigning', 'registry', 'ca', 's3', 'pg']));
  });

  it('the parser reads info strings (self-check)', () => {
    const b = fencedBlocks('x\n```sh runnable=g\necho hi\n```\n```ts no-run=needs a witness\nx;\n```\n```\nplain\n```\n');
    expect(b.map((x) => [x.lang, x.group, x.noRun, x.code])).toEqual([
      ['sh', 'g', null, 'echo hi\n'],
      ['ts', null, 'needs a witness', 'x;\n'],
      ['', null, null, 'plain\n'],
    ]);
  });

  for (const group of GROUPS) {
    const missing = NEEDS[group]?.() ?? null;
    if (missing !== null && !process.env.CI) {
      it.skip(`the ${group} walk-through runs as written (skipped: ${missing})`, () => undefined);
      continue;
    }
    it(`the ${group} walk-through runs as written`, async () => {
      if (missing !== null) throw new Error(`the ${group} walk-through: ${missing}; CI must install it (.ci/run)`);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tilelog-readme-${group}-`));
      dirs.push(dir);
      // The PostgreSQL server user must reach its cluster under dir/tmp.
      fs.chmodSync(dir, 0o755);
      const tmp = path.join(dir, 'tmp');
      fs.mkdirSync(tmp, { mode: 0o755 });
      // TILELOG_REPO as the README's first line expects it: <repo>/dist/cli/main.js is the CLI.
      const repo = path.join(dir, 'repo');
      fs.mkdirSync(path.join(repo, 'dist/cli'), { recursive: true });
      fs.writeFileSync(path.join(repo, 'dist/cli/main.js'), `await import(${JSON.stringify(pathToFileURL(CLI_BUNDLE).href)});\n`);
      // npm --prefix "$TILELOG_REPO" run s3-test-server (pg-test-server): the real scripts, run on the repository's test/ and node_modules/.
      const scripts = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
      const servers = Object.fromEntries(Object.entries(scripts).filter(([name]) => name.endsWith('-test-server')));
      fs.writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ name: 'tilelog-readme', private: true, type: 'module', scripts: servers }));
      for (const d of ['test', 'node_modules']) fs.symlinkSync(path.join(REPO_ROOT, d), path.join(repo, d));
      const work = path.join(dir, 'walk');
      const blocks = BLOCKS.filter((b) => b.group === group);
      const ports = new Map<string, number>();
      for (const p of portsNamed(blocks.map((b) => b.code))) {
        let free = await freePort();
        while ([...ports.values()].includes(free)) free = await freePort();
        ports.set(p, free);
      }
      const sh = blocks.filter((b) => b.lang === 'sh').map((b) => localize(b.code, group, work, ports));
      const r = await runBash(sh.join('\n'), { TILELOG_REPO: repo, TMPDIR: tmp }, dir, SCRIPT_LIMIT_MS[group] ?? 100_000);
      try {
        await runTsBlocks(r, blocks, group, work, ports);
      } finally {
        r.stop();
      }
    }, (SCRIPT_LIMIT_MS[group] ?? 100_000) + 20_000);
  }
});

/** The ends of the servers' logs (*.log) in the walk-through's directory, for a failure message. */
function serverLogs(work: string): string {
  const names = fs.existsSync(work) ? fs.readdirSync(work).filter((n) => n.endsWith('.log')) : [];
  return names.map((n) => `\n${n}:\n${fs.readFileSync(path.join(work, n), 'utf8').slice(-3000)}`).join('');
}

async function runTsBlocks(r: { code: number | null; out: string }, blocks: Block[], group: string, work: string, ports: ReadonlyMap<string, number>): Promise<void> {
  expect(r.code, r.out + serverLogs(work)).toBe(0);

  for (const b of blocks.filter((x) => x.lang === 'ts')) {
    let code = localize(b.code, group, work, ports);
    code = code.replace(/from '(tilelog\/(\w+))'/g, (_m, spec: string, sub: string) => {
      expect(PKG.exports[`./${sub}`], `package.json exports ${spec}`).toBe(`./dist/${sub}/index.js`);
      return `from ${JSON.stringify(path.join(REPO_ROOT, 'src', sub, 'index.ts'))}`;
    });
    const file = path.join(REPO_ROOT, '.tmp', `readme-${group}-${b.line}.ts`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, code);
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void printed.push(a.map(String).join(' ')));
    try {
      await import(pathToFileURL(file).href);
    } finally {
      spy.mockRestore();
      fs.rmSync(file, { force: true });
    }
    const expected = [...code.matchAll(/console\.log\(.*\);\s*\/\/ (.+)$/gm)].map((m) => m[1]!.trim());
    expect(expected.length, `README.md:${b.line}: a ts example states what it prints`).toBeGreaterThan(0);
    expect(printed, `README.md:${b.line}`).toEqual(expected);
  }
}
