// large: 20 MB documents (a scanned dossier) to one webhook recipient — throughput in bytes, the
// time a big body takes through intake and delivery, and the gateway's peak memory. Unsigned by
// default (the size is the point; --signed adds the signature path: two SHA-256 passes over 20 MB).

import type { Scenario } from './scenario.ts';

export const large: Scenario = {
  name: 'large',
  description: '20 MB documents, one webhook recipient (peak memory, bytes per second)',
  sizeBytes: 20 * 1024 * 1024,
  recipients: 1,
  signedByDefault: false,
  defaultRate: { postgres: 1, pglite: 0.5 },
  saturationP99Ms: 5000,
  targets: () => [],
};
