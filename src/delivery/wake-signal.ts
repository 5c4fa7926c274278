// The in-process wake-up of delivery workers. One wake-up wakes ONE idle worker: every admission
// rings it, and waking every worker each time made each of them run an empty claim query — with
// four workers that was most of the gateway's and Postgres's CPU per packet at 100/s
// (docs/benchmarks.md). A worker that claims a full batch wakes the next one itself, so a burst
// still spreads over all workers.
//
// A wake-up that finds no worker waiting is kept as a permit (up to `maxPermits`), and the next
// wait returns at once: a wake that lands while a worker is between an empty claim and its wait is
// not lost (it would otherwise cost a whole sweep interval, the entire 5-second budget). Permits
// are capped because each one costs at most one claim query: more permits than workers buy nothing.

/** A wake-up signal shared by the workers of one node. */
export class WakeSignal {
  #permits = 0;
  readonly #maxPermits: number;
  /** Waiting workers, oldest first: the longest idle is woken first. */
  readonly #waiters: (() => void)[] = [];

  /** `maxPermits`: wake-ups kept while no worker waits (the number of workers is right). */
  constructor(maxPermits = 1) {
    this.#maxPermits = Math.max(1, maxPermits);
  }

  /** Wake-ups kept for the next waits. */
  get permits(): number {
    return this.#permits;
  }

  /** Wakes one waiting worker, or keeps a permit for the next wait. */
  wakeOne(): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter();
    else if (this.#permits < this.#maxPermits) this.#permits++;
  }

  /** Wakes every waiting worker and fills the permits (shutdown; many deliveries requeued at once). */
  wakeAll(): void {
    const waiters = this.#waiters.splice(0);
    for (const resolve of waiters) resolve();
    this.#permits = this.#maxPermits;
  }

  /** Resolves `woken` on a wake-up (at once if a permit is kept), or `timeout` after `timeoutMs`. */
  wait(timeoutMs: number): Promise<'woken' | 'timeout'> {
    if (this.#permits > 0) {
      this.#permits--;
      return Promise.resolve('woken');
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve('woken');
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(done);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve('timeout');
      }, Math.max(0, timeoutMs));
      this.#waiters.push(done);
    });
  }
}
