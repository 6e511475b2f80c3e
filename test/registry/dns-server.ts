// Starts fixtures/dns-server.cjs (dns2, UDP, 127.0.0.1) in a child process.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../log/helpers.js';

export interface Zone {
  records?: Record<string, string[]>;
  drop?: string[];
  /** TTL per name (default 60). */
  ttls?: Record<string, number>;
  /** With it, NXDOMAIN and NODATA carry an SOA with this TTL and MINIMUM. */
  negativeTtl?: number;
  /** Names answered with TC set and nothing else over UDP, in full over TCP. */
  truncate?: string[];
}

export interface TestDns {
  /** "127.0.0.1:<port>" for Resolver.setServers. */
  server: string;
  setZone(z: Zone): void;
  close(): Promise<void>;
}

export async function startDns(zone: Zone = {}): Promise<TestDns> {
  const tmp = tempDir('tilelog-dns-');
  const file = path.join(tmp.dir, 'zone.json');
  const setZone = (z: Zone) => fs.writeFileSync(file, JSON.stringify(z));
  setZone(zone);
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'fixtures/dns-server.cjs'), file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line!) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`dns server exited with ${code}`)));
  });
  return {
    server: `127.0.0.1:${port}`,
    setZone,
    async close() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      tmp.cleanup();
    },
  };
}
