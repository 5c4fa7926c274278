// The in-process wake-up of delivery workers. A worker reads the generation before it claims and
// waits "since" that generation, so a wake-up that lands between an empty claim and the wait is not
// lost (it would otherwise cost a whole sweep interval, the entire 5-second budget).

/** A wake-up signal shared by the workers of one node. */
export class WakeSignal {
  #generation = 0;
  readonly #waiters = new Set<() => void>();

  /** Increases on every wake(). */
  get generation(): number {
    return this.#generation;
  }

  /** Wakes every waiting worker, and makes the next wait of every other worker return at once. */
  wake(): void {
    this.#generation++;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const resolve of waiters) resolve();
  }

  /** Resolves `woken` on a wake() after generation `since` (at once if one happened), or `timeout`. */
  wait(since: number, timeoutMs: number): Promise<'woken' | 'timeout'> {
    if (this.#generation !== since) return Promise.resolve('woken');
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve('woken');
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(done);
        resolve('timeout');
      }, Math.max(0, timeoutMs));
      this.#waiters.add(done);
    });
  }
}
