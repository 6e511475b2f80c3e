#!/usr/bin/env node
// The tilelog command: dispatches to src/cli/<verb>.ts.

import { useEd25519Operations } from '../note/ed25519.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './common.js';
import { nodeEd25519 } from './node-ed25519.js';
import { packageVersion } from './version.js';

const VERBS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  serve: { summary: 'run a log server (tiles, checkpoints, proofs, adds)', load: () => import('./serve.js') },
  keygen: { summary: 'make a signing key for a log', load: () => import('./keygen.js') },
  add: { summary: 'add entries to a log', load: () => import('./add.js') },
  proof: { summary: 'fetch and verify an inclusion or consistency proof', load: () => import('./proof.js') },
  audit: { summary: 'recompute a whole log from its tiles and check it', load: () => import('./audit.js') },
  verify: { summary: 'check a proof bundle offline with pinned keys', load: () => import('./verify.js') },
  witness: { summary: 'run a witness that cosigns consistent checkpoints of other logs', load: () => import('./witness.js') },
  registry: { summary: 'API keys and reindex for the agent name registry (serve --registry)', load: () => import('./registry.js') },
  ca: { summary: "admin keys and intermediate rotation for the registry's CA (serve --registry-ca)", load: () => import('./ca-command.js') },
  tiles: { summary: "copy a log's public tree between directories and buckets, verifying it", load: () => import('./tiles.js') },
  monitor: { summary: 'watch a log: verify, prove consistency, audit every entry, alert on lies', load: () => import('./monitor.js') },
};

const USAGE = `Usage: tilelog <command> [flags]

tilelog is a transparency log: an append-only, verifiable Merkle tree served as
C2SP tlog-tiles with signed checkpoints.

Commands:
${Object.entries(VERBS)
  .map(([name, v]) => `  ${name.padEnd(8)} ${v.summary}`)
  .join('\n')}

Run 'tilelog <command> --help' for a command's flags;
'tilelog --version' prints the version.
`;

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    (verb === undefined ? process.stderr : process.stdout).write(USAGE);
    return verb === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (verb === '--version' || verb === '-V') {
    const version = packageVersion();
    if (version === undefined) {
      process.stderr.write('tilelog: cannot find the package.json of tilelog above this script to read its version\n');
      return EXIT_FAILURE;
    }
    process.stdout.write(`tilelog ${version}\n`);
    return EXIT_OK;
  }
  const entry = Object.hasOwn(VERBS, verb) ? VERBS[verb] : undefined;
  if (entry === undefined) {
    process.stderr.write(`tilelog: unknown command ${JSON.stringify(verb)}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  // OpenSSL's Ed25519 for keys and signatures: the same bytes as noble's, without its first-use cost (note/ed25519.ts).
  useEd25519Operations(nodeEd25519);
  const mod = await entry.load();
  return mod.run(rest);
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
