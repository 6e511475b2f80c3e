// The growth chart's line is a step: the size holds from one checkpoint to
// the next and jumps at the next one. Walking the path's commands for random
// checkpoint series, every segment is horizontal or vertical, the horizontal
// one after point i stays at y_i until x_{i+1}, and the line visits every
// point; a diagonal (the old polyline) fails the walk.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stepPath } from '../../src/explorer/chart.js';

type Pt = readonly [number, number];

/** The path's segments; throws on any command other than M (first), H and V. */
function segments(d: string): Array<[Pt, Pt]> {
  const cmds = d.trim().split(/\s+/);
  const m = /^M(-?[\d.]+),(-?[\d.]+)$/.exec(cmds[0] ?? '');
  if (m === null) throw new Error(`path must start with M: ${d}`);
  let at: Pt = [Number(m[1]), Number(m[2])];
  const out: Array<[Pt, Pt]> = [];
  for (const c of cmds.slice(1)) {
    const v = Number(c.slice(1));
    const next: Pt = c[0] === 'H' ? [v, at[1]] : c[0] === 'V' ? [at[0], v] : (() => { throw new Error(`not a step command: ${c}`); })();
    out.push([at, next]);
    at = next;
  }
  return out;
}

const round = (v: number) => Number(v.toFixed(1));

describe('stepPath', () => {
  it('holds each y until the next x, then jumps: only horizontal and vertical segments through every point', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 })), { minLength: 1, maxLength: 40 }), (raw) => {
        const pts = [...raw].sort((a, b) => a[0] - b[0]).map(([x, y]) => [x / 10, y / 10] as const);
        const segs = segments(stepPath(pts));
        expect(segs).toHaveLength(2 * (pts.length - 1));
        for (let i = 0; i + 1 < pts.length; i++) {
          const [h, v] = [segs[2 * i]!, segs[2 * i + 1]!];
          expect(h).toEqual([[round(pts[i]![0]), round(pts[i]![1])], [round(pts[i + 1]![0]), round(pts[i]![1])]]);
          expect(v).toEqual([[round(pts[i + 1]![0]), round(pts[i]![1])], [round(pts[i + 1]![0]), round(pts[i + 1]![1])]]);
        }
      }),
    );
  });

  it('a single point is a bare move; no points, an empty path', () => {
    expect(stepPath([[1, 2]])).toBe('M1.0,2.0');
    expect(stepPath([])).toBe('');
  });
});
