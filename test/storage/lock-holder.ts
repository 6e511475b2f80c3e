// A child process that takes a state lock and holds it until killed:
//   node --import tsx test/storage/lock-holder.ts <lock file>
// Prints "locked" once it holds the lock, "busy <pid>" if it could not.
import { takeStateLock } from '../../src/storage/state-lock.js';

const lock = takeStateLock(process.argv[2]!);
if ('heldBy' in lock) {
  process.stdout.write(`busy ${lock.heldBy}\n`);
  process.exit(1);
}
process.stdout.write('locked\n');
setInterval(() => undefined, 60_000);
