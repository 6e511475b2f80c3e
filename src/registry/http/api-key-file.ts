// The API key file (<state>/registry-api-keys) as a live set: new keys work,
// and removed keys stop working, without a server restart. The file is polled
// (fs.watchFile: a stat per interval, which works on every filesystem and
// whether the file is appended to, rewritten or renamed over) and re-read on
// reload() (serve calls it on SIGHUP). A file that does not parse leaves the
// previous set in force: a typo must not lock every owner out, or let anyone in.

import * as fs from 'node:fs';
import { ApiKeys, type ApiKeyLookup } from './auth.js';

export interface ApiKeyFileEvents {
  /** A reload took effect: the number of keys now accepted. */
  onReload?: (size: number) => void;
  /** A reload was refused; the previous keys stay in force. */
  onError?: (message: string, err: unknown) => void;
}

export interface WatchOptions {
  /** How often the file is stat'ed (default 1000 ms). */
  intervalMs?: number;
  /** Wait this long after a change before reading, so a file being written is read whole (default 200 ms). */
  debounceMs?: number;
}

export class ApiKeyFile implements ApiKeyLookup {
  readonly file: string;
  #keys: ApiKeys;
  #events: ApiKeyFileEvents;
  #timer: NodeJS.Timeout | null = null;
  #listener: ((cur: fs.Stats, prev: fs.Stats) => void) | null = null;

  /** Reads the file now; a file that does not parse throws (the server refuses to start). */
  constructor(file: string, events: ApiKeyFileEvents = {}) {
    this.file = file;
    this.#keys = ApiKeys.fromFile(file);
    this.#events = events;
  }

  get size(): number {
    return this.#keys.size;
  }

  ownerOf(key: string): string | null {
    return this.#keys.ownerOf(key);
  }

  /** Re-reads the file; on any error keeps the current keys and reports why. True when the new set took effect. */
  reload(): boolean {
    let next: ApiKeys;
    try {
      next = ApiKeys.fromFile(this.file);
    } catch (err) {
      this.#events.onError?.(`${this.file}: ${(err as Error).message}; keeping the ${this.#keys.size} API keys loaded before (fix the file, it is re-read on change and on SIGHUP)`, err);
      return false;
    }
    this.#keys = next;
    this.#events.onReload?.(next.size);
    return true;
  }

  /** Reloads whenever the file changes, after debounceMs. Stop with close(). */
  watch(o: WatchOptions = {}): void {
    if (this.#listener !== null) return;
    const debounceMs = o.debounceMs ?? 200;
    this.#listener = () => {
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.reload();
      }, debounceMs);
      this.#timer.unref();
    };
    const watcher = fs.watchFile(this.file, { interval: o.intervalMs ?? 1000, persistent: false }, this.#listener);
    watcher.unref?.();
  }

  close(): void {
    if (this.#listener !== null) fs.unwatchFile(this.file, this.#listener);
    this.#listener = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
