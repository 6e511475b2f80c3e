import { describe, expect, it } from 'vitest';
import { plural } from '../../src/cli/common.js';

describe('plural', () => {
  it('uses the singular for exactly 1 and the plural otherwise, including 0', () => {
    expect(plural(1, 'agent')).toBe('1 agent');
    expect(plural(0, 'agent')).toBe('0 agents');
    expect(plural(2, 'submitter key')).toBe('2 submitter keys');
    expect(plural(1, 'entry', 'entries')).toBe('1 entry');
    expect(plural(3, 'entry', 'entries')).toBe('3 entries');
  });
});
