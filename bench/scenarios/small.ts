// small: 5 KB documents to one webhook recipient — the per-packet overhead, and (with --saturate)
// the target of ≥ 1,500 packets/s at saturation with p99 ≤ 250 ms on real Postgres.
// Unsigned by default: the target does not ask for signatures, and at 1,500/s signing every packet
// in the generator (0.3 ms each) would take most of a core from the machine under test.

import type { Scenario } from './scenario.ts';

export const small: Scenario = {
  name: 'small',
  description: '5 KB documents, one webhook recipient (with --saturate: the ≥ 1,500/s at p99 ≤ 250 ms target)',
  sizeBytes: 5 * 1024,
  recipients: 1,
  signedByDefault: false,
  defaultRate: { postgres: 200, pglite: 50 },
  saturationP99Ms: 250,
  targets(report) {
    const sat = report.saturation;
    const applies = report.database === 'postgres' && sat !== undefined && sat.p99LimitMs <= 250;
    return [
      {
        name: '5 KB: ≥ 1,500 packets/s at saturation with p99 ≤ 250 ms (Postgres)',
        applies,
        met: applies && (sat?.maxSustainedRate ?? 0) >= 1500,
        measured: sat === undefined ? 'no saturation ramp' : `max sustained ${sat.maxSustainedRate ?? 0}/s at p99 ≤ ${sat.p99LimitMs} ms (limited by the ${sat.limitedBy})`,
      },
    ];
  },
};
