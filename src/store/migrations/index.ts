// The numbered migrations, listed statically: a file-system provider would need the .ts sources at
// run time and a different path once compiled; a static list works the same under tsx, tap and dist.
// Add a migration as `NNNN_what.ts` and list it here; never edit or renumber a released one.

import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.ts';
import * as m0002 from './0002_tracking.ts';
import * as m0003 from './0003_trust.ts';
import * as m0004 from './0004_axis.ts';
import * as m0005 from './0005_federation.ts';
import * as m0006 from './0006_recipient_index.ts';

/** Every migration by name; names sort in the order they run. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_initial': m0001,
  '0002_tracking': m0002,
  '0003_trust': m0003,
  '0004_axis': m0004,
  '0005_federation': m0005,
  '0006_recipient_index': m0006,
};
