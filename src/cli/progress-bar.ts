// A one-line progress bar on a terminal's stderr, redrawn in place; on anything else (a pipe, a
// file, a CI log) it draws nothing, so output meant for programs stays clean.

import type { CliIo } from './command.ts';

/** Least time between two redraws: a terminal needs no more, and a fast run would flood it. */
const REDRAW_INTERVAL_MS = 100;
const DEFAULT_COLUMNS = 80;
const BAR_MIN = 10;
const BAR_MAX = 40;

/** A progress bar over `total` steps. */
export class ProgressBar {
  readonly #io: CliIo;
  readonly #total: number;
  readonly #enabled: boolean;
  #lastDrawMs = -Infinity;
  #drawn = false;

  constructor(io: CliIo, total: number) {
    this.#io = io;
    this.#total = total;
    this.#enabled = io.stderrIsTTY === true;
  }

  /** Redraws with `done` steps finished and a short status text, unless it drew very recently. */
  update(done: number, status: string, force = false): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (!force && now - this.#lastDrawMs < REDRAW_INTERVAL_MS) return;
    this.#lastDrawMs = now;
    this.#drawn = true;
    this.#io.stderr(`\r${this.#line(done, status)}\x1b[K`);
  }

  /** Erases the bar, leaving the cursor at the start of an empty line. */
  clear(): void {
    if (!this.#enabled || !this.#drawn) return;
    this.#io.stderr('\r\x1b[K');
    this.#drawn = false;
  }

  #line(done: number, status: string): string {
    const columns = this.#io.stderrColumns ?? DEFAULT_COLUMNS;
    const count = `${done}/${this.#total}`;
    // Room for "[bar] count status" within the terminal, so the line never wraps (a wrapped line
    // cannot be redrawn with \r).
    const width = Math.max(BAR_MIN, Math.min(BAR_MAX, columns - count.length - status.length - 5));
    const filled = this.#total === 0 ? width : Math.round((done / this.#total) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count} ${status}`;
    return line.length < columns ? line : line.slice(0, Math.max(0, columns - 1));
  }
}
