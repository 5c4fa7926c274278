// urgent-under-load: ordinary 100 KB signed documents at a rate that saturates the node, and beside
// them a few urgent ones (Priority 1–4: khẩn, thượng khẩn, hỏa tốc, hỏa tốc hẹn giờ, in turn) — the
// latency of the urgent ones, which workers claim first (DESIGN, The 5-second budget). The default
// ordinary rate is above what the 2-core machine delivers for signed 100 KB packets; raise --rate on
// a bigger one until "completed/s" falls below "offered".

import { ms } from '../lib/stats.ts';
import type { Scenario } from './scenario.ts';

export const urgentUnderLoad: Scenario = {
  name: 'urgent-under-load',
  description: 'urgent 100 KB signed documents (Priority 1–4) while ordinary ones saturate the node',
  sizeBytes: 100 * 1024,
  recipients: 1,
  signedByDefault: true,
  defaultRate: { postgres: 150, pglite: 30 },
  urgent: { defaultRate: 4, priorities: [1, 2, 3, 4] },
  saturationP99Ms: 250,
  targets(report) {
    const urgent = report.gateway.streams?.urgent;
    const budget = 5000;
    return [
      {
        name: 'urgent packets inside the 5 s budget while ordinary ones saturate the node',
        applies: urgent !== undefined,
        met: urgent !== undefined && urgent.endToEnd.max <= budget && urgent.failed === 0 && urgent.missing === 0,
        measured: urgent === undefined ? '–' : `urgent p99 ${ms(urgent.endToEnd.p99)} ms, max ${ms(urgent.endToEnd.max)} ms, ${urgent.failed} failed, ${urgent.missing} missing`,
      },
    ];
  },
};
