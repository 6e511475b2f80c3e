// A lock file for one process: created with O_EXCL and holding the owner's
// pid, so a second process on the same state directory is refused while a
// lock whose process has died (SIGKILL, power loss) is taken over. Not for
// locks shared across hosts: the pid only means something on this machine.

import * as fs from 'node:fs';

export type PidLock = { readonly release: () => void } | { readonly heldBy: number };

/**
 * Takes `file` for this process: { release } on success, { heldBy: pid } when
 * a live process holds it. Errors other than "exists" (permissions, a missing
 * directory) are thrown as they are.
 */
export function takePidLock(file: string): PidLock {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return { release: () => fs.rmSync(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) return { heldBy: pid };
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  // Two takeovers lost in a row: another process is racing for it right now.
  throw new Error(`cannot take ${file}: another process keeps taking it`);
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
