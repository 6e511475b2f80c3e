// Drives s3-log-child.ts from a test: spawn, read its lines, send commands,
// wait for lines with deadlines, signal it (SIGSTOP/SIGCONT/SIGKILL).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { generateSignerKey } from '../../src/note/keys.js';
import { repoRoot } from '../log/helpers.js';

export const CHILD_ORIGIN = 'crash.tilelog.example/log';
export const childKey = generateSignerKey(CHILD_ORIGIN, new Uint8Array(32).fill(9));
const CHILD = path.join(repoRoot, 'test/crash/s3-log-child.ts');

export interface ChildTarget {
  stateDir: string;
  endpoint: string;
  bucket: string;
  prefix: string;
  writer: string;
  /** Add entries until killed (run number in their names). */
  continuous?: number;
}

export class LogChild {
  readonly proc: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  #exitCode: number | null | undefined;

  constructor(readonly target: ChildTarget) {
    const args = [CHILD, target.stateDir, target.endpoint, target.bucket, target.prefix, target.writer];
    if (target.continuous !== undefined) args.push('--continuous', String(target.continuous));
    this.proc = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.proc.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) =>
      this.proc.on('exit', (code) => {
        this.#exitCode = code;
        resolve(code);
      }),
    );
  }

  /** Complete lines printed so far. */
  get lines(): string[] {
    return this.stdout.slice(0, this.stdout.lastIndexOf('\n') + 1).split('\n').filter((l) => l.length > 0);
  }

  /** The first complete line matching re (from line `from` on), waiting up to ms. */
  async line(re: RegExp, ms = 30_000, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (const l of this.lines.slice(from)) {
        const m = re.exec(l);
        if (m !== null) return m;
      }
      if (this.#exitCode !== undefined) throw new Error(`${this.target.writer} exited (${this.#exitCode}) before printing ${re}; stderr:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`${this.target.writer}: no line ${re} within ${ms} ms; stdout:\n${this.stdout.slice(-2000)}\nstderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async ready(): Promise<string> {
    await this.line(/^ready$/);
    return (await this.line(/^http (\S+)$/))[1]!;
  }

  send(command: string): void {
    this.proc.stdin.write(`${command}\n`);
  }

  /** Runs `add tag count` and returns the largest index acknowledged. */
  async add(tag: string, count: number): Promise<number> {
    const from = this.lines.length;
    this.send(`add ${tag} ${count}`);
    const m = await this.line(new RegExp(`^(done|error) ${tag} (\\S+)(.*)$`), 30_000, from);
    if (m[1] === 'error') throw new Error(`${this.target.writer} add ${tag}: ${m[2]}${m[3]}`);
    return Number(m[2]);
  }

  /** Waits until a published checkpoint covers index; returns its size. */
  async waitFor(tag: string, index: number): Promise<number> {
    const from = this.lines.length;
    this.send(`wait ${tag} ${index}`);
    const m = await this.line(new RegExp(`^(waited|error) ${tag} (\\S+)(.*)$`), 40_000, from);
    if (m[1] === 'error') throw new Error(`${this.target.writer} wait ${tag}: ${m[2]}${m[3]}`);
    return Number(m[2]);
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }

  async stop(): Promise<void> {
    if (this.#exitCode !== undefined) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}
