import { describe, expect, it } from 'vitest';
import { closestName, parseFlags, plural, UsageError } from '../../src/cli/common.js';

describe('plural', () => {
  it('uses the singular for exactly 1 and the plural otherwise, including 0', () => {
    expect(plural(1, 'agent')).toBe('1 agent');
    expect(plural(0, 'agent')).toBe('0 agents');
    expect(plural(2, 'submitter key')).toBe('2 submitter keys');
    expect(plural(1, 'entry', 'entries')).toBe('1 entry');
    expect(plural(3, 'entry', 'entries')).toBe('3 entries');
  });
});

describe('did you mean', () => {
  const flags = ['listen', 'state', 'tiles', 'origin', 'key', 'log-level', 'no-dedup', 'witness', 'witness-quorum'];

  it('names the flag one or two typos away, and nothing for a far or ambiguous one', () => {
    expect(closestName('lisen', flags)).toBe('listen');
    expect(closestName('tiels', flags)).toBe('tiles'); // a swap
    expect(closestName('witness-quroum', flags)).toBe('witness-quorum');
    expect(closestName('loglevel', flags)).toBe('log-level');
    expect(closestName('database', flags)).toBeNull();
    expect(closestName('ke', flags)).toBeNull(); // too short to guess
  });

  it('parseFlags adds the suggestion to the usage error', () => {
    const options = { listen: { type: 'string' }, state: { type: 'string' } } as const;
    expect(() => parseFlags(['--lisen', 'x'], options)).toThrow(UsageError);
    expect(() => parseFlags(['--lisen', 'x'], options)).toThrow(/Unknown option '--lisen'; did you mean --listen\?/);
    expect(() => parseFlags(['--bogus'], options)).toThrow(/^Unknown option '--bogus'\.?$/);
  });
});
