// The timeouts a postgres:// URL may carry (applied by tilelog itself, so
// the pool's settings and the client's call deadline agree), and the call
// deadline's bounds. Pure functions: no server needed.

import { describe, expect, test } from 'vitest';
import { callDeadlineMs, urlTimeouts } from '../../src/storage/pg-connect.js';

describe('postgres URL timeouts and the call deadline', () => {
  test('statement_timeout (ms) and connect_timeout (s) are taken out of the URL; everything else stays', () => {
    const r = urlTimeouts('postgres://u:p@db.example:5433/logs?statement_timeout=1500&application_name=x&connect_timeout=2');
    expect(r.statementTimeoutMs).toBe(1500);
    expect(r.connectTimeoutMs).toBe(2000);
    const u = new URL(r.connectionString);
    expect([...u.searchParams.keys()]).toEqual(['application_name']);
    expect(`${u.username}:${u.password}@${u.host}${u.pathname}`).toBe('u:p@db.example:5433/logs');
  });

  test('a URL without them is passed through unchanged', () => {
    const url = 'postgresql://tilelog@127.0.0.1:5432/db?host=/run/pg';
    expect(urlTimeouts(url)).toEqual({ connectionString: url });
  });

  test.each(['abc', '-1', '1.5', ''])('statement_timeout=%j is a LOG_CONFIG error naming the parameter', (bad) => {
    expect(() => urlTimeouts(`postgres://h/db?statement_timeout=${bad}`)).toThrow(
      expect.objectContaining({ code: 'LOG_CONFIG', message: expect.stringContaining('statement_timeout') }),
    );
  });

  test('the deadline is the server limit plus half of it, within [500 ms, 5 s]; none without a server limit', () => {
    expect(callDeadlineMs(0)).toBe(0);
    expect(callDeadlineMs(400)).toBe(900);
    expect(callDeadlineMs(3000)).toBe(4500);
    expect(callDeadlineMs(30_000)).toBe(35_000);
  });
});
