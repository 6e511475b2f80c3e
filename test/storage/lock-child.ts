// Starts test/storage/lock-holder.ts as a real child process and waits until
// it holds the lock.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HOLDER = fileURLToPath(new URL('./lock-holder.ts', import.meta.url));

export async function holdLockInChild(file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('locked\n')) resolve();
      else if (out.includes('\n')) reject(new Error(`the lock holder could not take ${file}: ${out}`));
    });
    child.on('exit', (code) => reject(new Error(`the lock holder exited with ${code}: ${out}`)));
  });
  return child;
}

/** SIGKILL the child and wait until it is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}
