// Evidence on disk: one directory per alert, <state>/evidence/<time>-<code>/,
// written under a temporary name and renamed into place, so a directory that
// exists is complete. It holds:
//   alert.json              the AlertReport (as posted to the webhook)
//   <role>.checkpoint       each signed note involved, byte for byte
//   proof.txt               a failing proof, one base64 hash per line
//   <file>                  raw tiles and bundles (named after their paths)

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { toBase64 } from '../merkle/index.js';
import { fileNameFor, type AlertReport, type MonitorAlert } from './alert.js';

/** `2026-07-22T10:15:00.123Z` -> `20260722T101500.123Z` (sorts by time, no colons). */
export function compactTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '');
}

/** Writes the evidence of alert; returns the directory's absolute path. */
export async function saveEvidence(stateDir: string, alert: MonitorAlert, report: Omit<AlertReport, 'evidencePath'>, at: Date): Promise<string> {
  const root = path.resolve(stateDir, 'evidence');
  await fs.mkdir(root, { recursive: true });
  const base = `${compactTime(at)}-${alert.code}`;
  let dir = path.join(root, base);
  for (let i = 2; await exists(dir); i++) dir = path.join(root, `${base}-${i}`);
  const tmp = `${dir}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp);
  const full: AlertReport = { ...report, evidencePath: dir };
  const write = (name: string, data: Uint8Array | string) => fs.writeFile(path.join(tmp, name), data);
  await write('alert.json', `${JSON.stringify(full, null, 2)}\n`);
  for (const [role, note] of Object.entries(alert.evidence.checkpoints ?? {})) await write(`${fileNameFor(role)}.checkpoint`, note);
  if (alert.evidence.proof !== undefined) await write('proof.txt', alert.evidence.proof.map((h) => `${toBase64(h)}\n`).join(''));
  const used = new Set(['alert.json', 'proof.txt']);
  for (const f of alert.evidence.files ?? []) {
    let name = fileNameFor(f.name);
    while (used.has(name)) name = `_${name}`;
    used.add(name);
    await write(name, f.data);
  }
  await fs.rename(tmp, dir);
  return dir;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}
