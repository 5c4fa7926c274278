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

/** Part of a stage's time that belongs to a later stage. */
export interface CarvedTime {
  readonly stage: IntakeStage;
  readonly ms: number;
}

/** Collects the stage timings of one packet. */
export class StageTimer {
  readonly #observer: StageObserver;
  readonly #timings: Partial<Record<IntakeStage, number>> = {};
  /** Time carved out of an earlier stage, added to these stages when they run. */
  readonly #carried: Partial<Record<IntakeStage, number>> = {};

  constructor(observer: StageObserver) {
    this.#observer = observer;
  }

  /**
   * Runs one stage, recording its duration whether it succeeds or throws. `carve` names time spent
   * inside this stage on a later one's work — decode's pass also checks the signature, so that the
   * packet crosses to an offload thread once (src/offload/packet-work.ts) — which is moved to that
   * stage. If that stage never runs (the packet is refused before it), the time is not recorded.
   */
  async run<T>(stage: IntakeStage, fn: () => T | Promise<T>, carve?: (result: T) => CarvedTime | undefined): Promise<T> {
    const started = performance.now();
    let carved: CarvedTime | undefined;
    try {
      const result = await fn();
      carved = carve?.(result);
      return result;
    } finally {
      let elapsed = performance.now() - started + (this.#carried[stage] ?? 0);
      delete this.#carried[stage];
      if (carved !== undefined) {
        const moved = Math.min(carved.ms, elapsed);
        elapsed -= moved;
        this.#carried[carved.stage] = (this.#carried[carved.stage] ?? 0) + moved;
      }
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
