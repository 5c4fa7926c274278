// Times the stages of one packet's way through intake. Every stage's elapsed time goes to the
// stage histogram and into the packet's stage_timings, so a slow packet can be explained afterwards
// (DESIGN, The 5-second budget: "Each stage records its elapsed time").

import { performance } from 'node:perf_hooks';

/** The intake stages, in the order they run. */
export const INTAKE_STAGES = ['decode', 'validate', 'verify', 'admit'] as const;
/** One intake stage. */
export type IntakeStage = (typeof INTAKE_STAGES)[number];

/** Where stage durations are reported (the gateway's metrics). */
export interface StageObserver {
  observeStage(stage: IntakeStage, elapsedMs: number): void;
}

/** Collects the stage timings of one packet. */
export class StageTimer {
  readonly #observer: StageObserver;
  readonly #timings: Partial<Record<IntakeStage, number>> = {};

  constructor(observer: StageObserver) {
    this.#observer = observer;
  }

  /** Runs one stage, recording its duration whether it succeeds or throws. */
  async run<T>(stage: IntakeStage, fn: () => T | Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      const elapsed = performance.now() - started;
      // Microsecond resolution is plenty and keeps the stored JSON short.
      this.#timings[stage] = Math.round(elapsed * 1000) / 1000;
      this.#observer.observeStage(stage, elapsed);
    }
  }

  /** The milliseconds per stage recorded so far. */
  timings(): Readonly<Record<string, number>> {
    return { ...this.#timings };
  }
}
