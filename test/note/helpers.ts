// Shared test helpers for test/note and test/interop (not a test file itself).
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { isTilelogError } from '../../src/errors.js';

/** The golden vectors directory, test/golden/ (a copy of the independent implementation's vectors). */
export const VECTORS = new URL('../golden/', import.meta.url);

export function vectorText(path: string): string {
  return readFileSync(new URL(path, VECTORS), 'utf8');
}

export function vectorLine(path: string): string {
  return vectorText(path).trim();
}

/** Asserts fn throws a TilelogError with the given code, and returns it. */
export function expectCode(fn: () => unknown, code: string): Error {
  try {
    fn();
  } catch (err) {
    expect(isTilelogError(err), String(err)).toBe(true);
    expect((err as { code: string }).code, String(err)).toBe(code);
    return err as Error;
  }
  throw new Error(`expected a TilelogError ${code}, but nothing was thrown`);
}
