// LruMap: least-recently-used order under get/set/delete/shift, checked against a
// naive model (an array in use order) over random operations.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LruMap } from '../src/lru-map.js';

describe('LruMap', () => {
  test('get and set make an entry the newest; shift takes the oldest', () => {
    const m = new LruMap<string, number>();
    expect(m.shift()).toBeUndefined();
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    expect(m.get('a')).toBe(1); // order now b, c, a
    m.set('b', 20); // order now c, a, b
    expect(m.get('x')).toBeUndefined();
    expect(m.size).toBe(3);
    expect(m.shift()).toEqual(['c', 3]);
    expect(m.shift()).toEqual(['a', 1]);
    expect(m.has('b')).toBe(true);
    expect(m.shift()).toEqual(['b', 20]);
    expect(m.size).toBe(0);
    expect(m.shift()).toBeUndefined();
    m.set('d', 4); // usable again once emptied
    expect(m.shift()).toEqual(['d', 4]);
  });

  test('matches a naive model over random operations', () => {
    // Shifts are rarer than gets and sets, so the map holds several entries whose order matters.
    const op = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 9 }) }), weight: 4 },
      { arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 9 }), value: fc.integer() }), weight: 4 },
      { arbitrary: fc.record({ kind: fc.constant('shift' as const) }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 9 }) }), weight: 1 },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const m = new LruMap<number, number>();
        let model: [number, number][] = []; // oldest first
        for (const o of ops) {
          if (o.kind === 'get') {
            const i = model.findIndex(([k]) => k === o.key);
            expect(m.get(o.key)).toBe(i < 0 ? undefined : model[i]![1]);
            if (i >= 0) model = [...model.slice(0, i), ...model.slice(i + 1), model[i]!];
          } else if (o.kind === 'set') {
            model = [...model.filter(([k]) => k !== o.key), [o.key, o.value]];
            m.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            expect(m.delete(o.key)).toBe(model.some(([k]) => k === o.key));
            model = model.filter(([k]) => k !== o.key);
          } else {
            expect(m.shift()).toEqual(model.shift());
          }
          expect(m.size).toBe(model.length);
        }
        while (model.length > 0) expect(m.shift()).toEqual(model.shift());
        expect(m.shift()).toBeUndefined();
      }),
    );
  });
});
