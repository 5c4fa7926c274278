// What a scenario of the suite is: the traffic it offers (packet size, recipients, signing, rates,
// an urgent stream beside the ordinary one) and the acceptance targets that apply to it.
// The runner (bench/lib/scenario-runner.ts) does the rest the same way for every scenario.

import type { Priority } from '../../src/edxml/codes.ts';
import type { StoreDialect } from '../../src/store/open-store.ts';
import type { BenchReport, TargetCheck } from '../lib/report.ts';

/** One scenario. */
export interface Scenario {
  /** kebab-case, as given to --scenario. */
  readonly name: string;
  /** One line for --help and the docs. */
  readonly description: string;
  /** Packet size before signing, bytes. */
  readonly sizeBytes: number;
  readonly recipients: number;
  readonly signedByDefault: boolean;
  /** Default ordinary packets/s per database: the embedded one does a fraction of Postgres' rate. */
  readonly defaultRate: Readonly<Record<StoreDialect, number>>;
  /** An urgent stream beside the ordinary one: its default rate, cycling through `priorities`. */
  readonly urgent?: { readonly defaultRate: number; readonly priorities: readonly Exclude<Priority, 0>[] } | undefined;
  /** The p99 a saturation step must hold (--saturate), ms. */
  readonly saturationP99Ms: number;
  /** The targets, judged on the finished report. */
  targets(report: Omit<BenchReport, 'targets'>): TargetCheck[];
}
