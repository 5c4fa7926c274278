// fan-out: one 100 KB signed document to 20 recipients, each behind its own webhook route (as 20
// receiving systems are) — the gateway admits one packet and makes 20 deliveries, each re-signed.
// End to end is the post → the LAST recipient's receipt; each delivery's latency is shown too.

import type { Scenario } from './scenario.ts';

export const fanOut: Scenario = {
  name: 'fan-out',
  description: '100 KB signed documents, each to 20 webhook recipients',
  sizeBytes: 100 * 1024,
  recipients: 20,
  signedByDefault: true,
  defaultRate: { postgres: 10, pglite: 2 },
  saturationP99Ms: 250,
  targets: () => [],
};
