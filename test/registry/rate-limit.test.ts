// RateLimiter: a burst, then a wait in whole seconds; at the key bound the
// least recently active key is forgotten, never one that keeps knocking (a
// throttled client cannot get a fresh burst by spraying other keys until its
// own is evicted).
import { describe, expect, test } from 'vitest';
import { RateLimiter } from '../../src/registry/http/rate-limit.js';

describe('RateLimiter', () => {
  test('burst, then the seconds until the next token; refills with time', () => {
    let now = 0;
    const rl = new RateLimiter({ ratePerMinute: 60, burst: 2, nowMs: () => now });
    expect([rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([0, 0, 1]);
    now += 1000;
    expect(rl.take('a')).toBe(0);
    expect(rl.take('b')).toBe(0); // another key has its own bucket
  });

  test('at the bound the least recently active key goes; a throttled key that keeps knocking stays throttled', () => {
    let now = 0;
    const rl = new RateLimiter({ ratePerMinute: 1, burst: 1, maxKeys: 2, nowMs: () => now });
    expect(rl.take('attacker')).toBe(0);
    expect(rl.take('x1')).toBe(0);
    for (let i = 2; i < 50; i++) {
      now += 10;
      expect(rl.take('attacker')).toBeGreaterThan(0); // still empty: knocking keeps it the most recent
      expect(rl.take(`x${i}`)).toBe(0); // evicts the previous x key, not the attacker's
    }
    expect(rl.take('x1')).toBe(0); // x1 was forgotten: a fresh bucket
  });

  test('refuses a bad configuration', () => {
    expect(() => new RateLimiter({ ratePerMinute: 0 })).toThrow(/ratePerMinute/);
    expect(() => new RateLimiter({ burst: 0 })).toThrow(/burst/);
  });
});
