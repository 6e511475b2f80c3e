// Tree size over time as a small inline SVG step chart. The x axis is time
// when every point has one, else the order of the checkpoints. The size is
// known only at checkpoints and holds until the next one, so the line is a
// step: flat while the log is idle, vertical where a checkpoint grew it (a
// straight line between checkpoints would show growth that never happened).

import type { CheckpointPoint } from './api.js';
import { h, svg } from './dom.js';

const W = 640;
const H = 220;
const PAD = { left: 64, right: 16, top: 12, bottom: 36 };

function label(x: number, y: number, text: string, anchor: 'start' | 'middle' | 'end'): SVGElement {
  return svg('text', { x, y, 'text-anchor': anchor }, text);
}

function timeLabel(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * The SVG path of a step line through points (x ascending): from each point
 * horizontally to the next one's x, then vertically to its y. Only M, H and
 * V commands, so no segment is diagonal; n points give 2(n − 1) segments.
 */
export function stepPath(points: ReadonlyArray<readonly [x: number, y: number]>): string {
  if (points.length === 0) return '';
  const f = (v: number) => v.toFixed(1);
  const [first, ...rest] = points;
  return [`M${f(first![0])},${f(first![1])}`, ...rest.map(([x, y]) => `H${f(x)} V${f(y)}`)].join(' ');
}

export function sizeChart(points: readonly CheckpointPoint[]): Element {
  if (points.length === 0) return h('p', { class: 'muted', id: 'chart-empty' }, 'No checkpoint history yet.');
  const byTime = points.every((p) => p.time !== null);
  const xs = points.map((p, i) => (byTime ? p.time! : i));
  const ys = points.map((p) => p.size);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [0, Math.max(...ys, 1)];
  const sx = (x: number) => PAD.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const coords = points.map((_, i) => [sx(xs[i]!), sy(ys[i]!)] as const);
  const bottom = H - PAD.bottom;
  return svg(
    'svg',
    { class: 'chart', id: 'size-chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `tree size from ${ys[0]} to ${ys[ys.length - 1]}` },
    svg('line', { class: 'axis', x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: bottom }),
    svg('line', { class: 'axis', x1: PAD.left, y1: bottom, x2: W - PAD.right, y2: bottom }),
    label(PAD.left - 6, sy(y1) + 4, String(y1), 'end'),
    label(PAD.left - 6, bottom, '0', 'end'),
    label(PAD.left, H - 12, byTime ? timeLabel(x0) : 'oldest', 'start'),
    label(W - PAD.right, H - 12, byTime ? timeLabel(x1) : 'latest', 'end'),
    svg('path', { class: 'line', d: stepPath(coords) }),
    ...points.map((p, i) =>
      svg('circle', { class: 'dot', cx: sx(xs[i]!).toFixed(1), cy: sy(ys[i]!).toFixed(1), r: 2.5 }, svg('title', {}, `size ${p.size}${p.time !== null ? ` at ${timeLabel(p.time)}` : ''}`)),
    ),
  );
}
