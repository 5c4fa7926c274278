// A circuit breaker per route: after K consecutive failures the route is left alone for a cooldown
// (its deliveries are rescheduled, not attempted), then one trial call decides whether it closes
// again. It spares a receiver that is down from a retry storm and spares the workers from spending
// their time on timeouts, while deliveries to healthy routes go on.

/** closed: calls go through; open: none do; half-open: one trial call at a time. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Tuning of a breaker. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** How long an open circuit stays open before a trial call. */
  readonly cooldownMs: number;
  /** Milliseconds now; default Date.now. */
  readonly now?: (() => number) | undefined;
  /** Told about every state change (for logs). */
  readonly onStateChange?: ((from: CircuitState, to: CircuitState) => void) | undefined;
}

/** Whether a call may go ahead; when not, how long until it is worth asking again. */
export type CircuitPermit = { readonly allowed: true; readonly trial: boolean } | { readonly allowed: false; readonly retryInMs: number };

/** Longest wait told to callers while a half-open trial is in flight. */
const TRIAL_WAIT_MS = 1000;

/** The breaker of one route. */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  readonly #onStateChange: ((from: CircuitState, to: CircuitState) => void) | undefined;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trialInFlight = false;

  constructor(options: CircuitBreakerOptions) {
    this.#threshold = Math.max(1, options.failureThreshold);
    this.#cooldownMs = Math.max(0, options.cooldownMs);
    this.#now = options.now ?? Date.now;
    this.#onStateChange = options.onStateChange;
  }

  /** The current state; an open circuit whose cooldown has passed reads as half-open. */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#cooldownMs) this.#set('half-open');
    return this.#state;
  }

  /** Consecutive failures since the last success. */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** Asks to make a call. Every allowed call must end in exactly one of success, failure or release. */
  acquire(): CircuitPermit {
    switch (this.state) {
      case 'closed':
        return { allowed: true, trial: false };
      case 'open':
        return { allowed: false, retryInMs: Math.max(0, this.#openedAt + this.#cooldownMs - this.#now()) };
      case 'half-open':
        if (this.#trialInFlight) return { allowed: false, retryInMs: Math.min(this.#cooldownMs, TRIAL_WAIT_MS) };
        this.#trialInFlight = true;
        return { allowed: true, trial: true };
    }
  }

  /** The receiver answered: the circuit closes (a success proves the route works, trial or not). */
  success(): void {
    this.#failures = 0;
    this.#trialInFlight = false;
    this.#set('closed');
  }

  /** The call failed transiently: counts towards opening; a failed trial re-opens for another cooldown. */
  failure(): void {
    this.#failures++;
    const state = this.state;
    if (state === 'half-open') {
      this.#trialInFlight = false;
      this.#open();
    } else if (state === 'closed' && this.#failures >= this.#threshold) {
      this.#open();
    }
  }

  /** An allowed call was not made after all (e.g. the adapter is shutting down): frees the trial slot. */
  release(): void {
    this.#trialInFlight = false;
  }

  #open(): void {
    this.#openedAt = this.#now();
    this.#set('open');
  }

  #set(next: CircuitState): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    this.#onStateChange?.(previous, next);
  }
}
