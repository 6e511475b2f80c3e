// Progress on stderr: a redrawn bar with a rate when stderr is a TTY,
// otherwise one plain line every few seconds (logs and CI stay readable).

export interface ProgressOptions {
  total: number;
  unit: string; // e.g. "entries"
  stream?: NodeJS.WriteStream;
  /** Seconds between lines when not a TTY (default 5). */
  lineIntervalS?: number;
  /** Never print (e.g. --quiet / --json). */
  silent?: boolean;
}

export class Progress {
  readonly #total: number;
  readonly #unit: string;
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #intervalMs: number;
  readonly #silent: boolean;
  readonly #start = performance.now();
  // The first line is due an interval after the start, not after the
  // process's time origin (which could make the very first update draw).
  #lastDraw = this.#start;
  #done = 0;
  /** done as last drawn; -1: nothing drawn yet. */
  #drawn = -1;

  constructor({ total, unit, stream = process.stderr, lineIntervalS = 5, silent = false }: ProgressOptions) {
    this.#total = total;
    this.#unit = unit;
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
    this.#intervalMs = this.#tty ? 100 : lineIntervalS * 1000;
    this.#silent = silent;
  }

  /** Records that done of total units are finished; redraws when due. */
  update(done: number): void {
    this.#done = done;
    if (this.#silent) return;
    const now = performance.now();
    if (now - this.#lastDraw < this.#intervalMs) return;
    this.#lastDraw = now;
    this.#draw(now, false);
  }

  /**
   * Draws the final state and ends the bar's line. A plain line already
   * drawn for the final count is not printed again (a TTY bar is redrawn in
   * place, so it is, to end its line).
   */
  finish(): void {
    if (this.#silent) return;
    if (!this.#tty && this.#drawn === this.#done) return;
    this.#draw(performance.now(), true);
  }

  #draw(now: number, final: boolean): void {
    this.#drawn = this.#done;
    const seconds = Math.max((now - this.#start) / 1000, 1e-3);
    const rate = this.#done / seconds;
    const fraction = this.#total === 0 ? 1 : this.#done / this.#total;
    const pct = `${(fraction * 100).toFixed(1).padStart(5)}%`;
    const counts = `${this.#done.toLocaleString('en-US')}/${this.#total.toLocaleString('en-US')} ${this.#unit}`;
    const speed = `${formatRate(rate)} ${this.#unit}/s`;
    if (this.#tty) {
      const width = 30;
      const filled = Math.round(fraction * width);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
      const eta = rate > 0 && !final ? `  ETA ${Math.ceil((this.#total - this.#done) / rate)}s` : '';
      this.#stream.write(`\r${bar} ${pct} ${counts}  ${speed}${eta}\x1b[K${final ? '\n' : ''}`);
    } else {
      this.#stream.write(`${pct} ${counts} (${speed}, ${seconds.toFixed(1)} s)\n`);
    }
  }
}

function formatRate(rate: number): string {
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)}M`;
  if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)}k`;
  return rate.toFixed(0);
}
