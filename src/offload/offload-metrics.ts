// What the offload pool shows on /metrics: whether its threads are up, and how many packet steps
// they took. A node whose steps all run on the event loop (no thread started, or every packet under
// OFFLOAD_MIN_BYTES) gets none of the thread's relief, and this is where an operator sees it.

import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { OffloadPool } from './offload-pool.ts';

export function registerOffloadMetrics(registry: Registry, pool: Pick<OffloadPool, 'stats' | 'readyThreads'>): void {
  new Gauge({
    name: 'edxgate_offload_threads',
    help: 'Offload threads ready to parse, verify and sign packets beside the event loop',
    registers: [registry],
    collect() {
      this.set(pool.readyThreads);
    },
  });
  new Counter({
    name: 'edxgate_offload_steps_total',
    help: 'Packet steps (parse with hash and signature check, signing) run on an offload thread (where="thread") or on the event loop (where="event_loop": outside OFFLOAD_MIN_BYTES..OFFLOAD_MAX_BYTES, or no thread ready)',
    labelNames: ['where'] as const,
    registers: [registry],
    collect() {
      const { offloaded, onEventLoop } = pool.stats();
      this.reset();
      this.inc({ where: 'thread' }, offloaded);
      this.inc({ where: 'event_loop' }, onEventLoop);
    },
  });
}
