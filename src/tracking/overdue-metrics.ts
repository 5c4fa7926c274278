// The overdue gauge of /metrics: how many (document, recipient) items are overdue right now, by
// reason (docs/reports.md; the same rules as GET /v1/overdue). Read from the database at scrape
// time, like the queue gauges: the value is a fact of the database, shared by every node.

import type { Kysely } from 'kysely';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Database } from '../store/database.ts';
import { countOverdue } from '../store/queries/overdue.ts';
import type { OverdueCounts } from '../store/queries/overdue.ts';
import { DEFAULT_SERVICE_LEVEL, WorkingCalendar } from './working-day.ts';
import type { ServiceLevelOptions } from './working-day.ts';

/** Options of registerOverdueGauge. */
export interface OverdueGaugeOptions {
  readonly db: Kysely<Database>;
  /** The working-day calendar (default DEFAULT_SERVICE_LEVEL); use serviceLevelOf(config). */
  readonly serviceLevel?: ServiceLevelOptions | undefined;
  /** The clock; default the system clock. */
  readonly now?: (() => Date) | undefined;
  /** Called when a scrape cannot read the counts (the gauge then keeps its previous values). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** The gauge's name. */
export const OVERDUE_GAUGE_NAME = 'edxgate_overdue_documents';

/** Registers `edxgate_overdue_documents{reason="unconfirmed|urgent_late"}` on `registry`. */
export function registerOverdueGauge(registry: Registry, options: OverdueGaugeOptions): Gauge<'reason'> {
  const calendar = WorkingCalendar.of(options.serviceLevel ?? DEFAULT_SERVICE_LEVEL);
  const now = options.now ?? (() => new Date());
  return new Gauge({
    name: OVERDUE_GAUGE_NAME,
    help: 'Documents overdue per recipient: receipt not confirmed (03/02) by the end of the working day of delivery (unconfirmed), urgent documents not delivered within the budget (urgent_late)',
    labelNames: ['reason'] as const,
    registers: [registry],
    async collect() {
      let counts: OverdueCounts;
      try {
        counts = await countOverdue(options.db, { now: now(), calendar });
      } catch (error) {
        // A failing read must not fail the whole /metrics scrape; /health reports the database.
        options.onError?.(error);
        return;
      }
      this.set({ reason: 'unconfirmed' }, counts.unconfirmed);
      this.set({ reason: 'urgent_late' }, counts.urgentLate);
    },
  });
}
