// The golden exchange of spec/WITNESS.md, regenerated deterministically
// (fixed witness key, fixed clock, the PROTOCOLS.md 9.6 log) and compared
// byte for byte with every `<!-- golden:NAME -->` block of that page.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { fromBase64Strict, toHex } from '../../src/merkle/index.js';
import { openNote, parseCosignatureVerifierKey, parseVerifierKey } from '../../src/note/index.js';
import { originHash } from '../../src/witness/index.js';
import { repoRoot } from '../merkle/helpers.js';
import { body, openTestWitness, SIGSUM_ORIGIN, SIGSUM_PROOFS, SIGSUM_VKEY, sigsumNote, WITNESS_KEY } from './helpers.js';

const CLOCK = 1_700_000_000;
const page = fs.readFileSync(path.join(repoRoot, 'spec/WITNESS.md'), 'utf8');

function goldenBlocks(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of page.matchAll(/<!-- golden:([a-z0-9-]+) -->\n```[a-z]*\n([\s\S]*?)```/g)) out.set(m[1]!, m[2]!);
  return out;
}

describe('spec/WITNESS.md golden exchange', () => {
  test('every golden block matches a fresh deterministic run', async () => {
    const w = openTestWitness({ logs: [[SIGSUM_ORIGIN, SIGSUM_VKEY]], now: () => CLOCK });
    try {
      const request1 = body(0, [], sigsumNote(1));
      const res1 = await w.post(request1);
      expect(res1.status).toBe(200);
      const request2 = body(1, SIGSUM_PROOFS['1-3'], sigsumNote(3));
      const res2 = await w.post(request2);
      expect(res2.status).toBe(200);
      const stale = await w.post(body(1, SIGSUM_PROOFS['1-5'], sigsumNote(5)));
      expect(stale.status).toBe(409);
      expect(stale.headers.get('content-type')).toBe('text/x.tlog.size');
      const monitoringPath = `/${originHash(SIGSUM_ORIGIN)}/checkpoint`;
      const monitoring = await (await w.app.request(monitoringPath)).text();

      const want: Record<string, string> = {
        'witness-vkey': `${WITNESS_KEY.verifierKey}\n`,
        'log-vkey': `${SIGSUM_VKEY}\n`,
        'request-1': request1,
        'response-1': await res1.text(),
        'request-2': request2,
        'response-2': await res2.text(),
        'response-409': await stale.text(),
        monitoring,
      };
      const blocks = goldenBlocks();
      expect([...blocks.keys()].sort()).toEqual(Object.keys(want).sort());
      for (const [name, text] of Object.entries(want)) expect(blocks.get(name), name).toBe(text);
      expect(page).toContain(`GET ${monitoringPath}`);

      // The lines verify, and carry the fixed clock.
      const v = parseCosignatureVerifierKey(WITNESS_KEY.verifierKey);
      const opened = openNote(monitoring, [parseVerifierKey(SIGSUM_VKEY), v]);
      expect(opened.verified).toHaveLength(2);
      expect(v.timestamp(opened.verified[1]!.signature)).toBe(CLOCK);
      const raw = fromBase64Strict(want['response-1']!.trim().split(' ').pop()!);
      expect(toHex(raw.subarray(0, 12))).toBe('82584aea000000006553f100');
    } finally {
      w.close();
    }
  });
});
