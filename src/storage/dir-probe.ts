// probeWritable(dir): can dir take a write right now? Writes a dotfile of
// `bytes` (default 64 KiB, the largest entry), fsyncs it and removes it. A
// full disk, a read-only remount or an I/O error throws with its errno code
// (ENOSPC, EROFS, EIO, ...). The dotfile is never a public path, so a tiles
// directory served as it is never shows it.

import { randomBytes } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import * as nodePath from 'node:path';

export async function probeWritable(dir: string, bytes = 64 * 1024): Promise<void> {
  const file = nodePath.join(dir, `.tilelog-probe-${randomBytes(6).toString('hex')}`);
  try {
    const fh = await open(file, 'wx', 0o600);
    try {
      await fh.writeFile(new Uint8Array(bytes));
      await fh.sync();
    } finally {
      await fh.close();
    }
  } finally {
    await unlink(file).catch(() => undefined);
  }
}
