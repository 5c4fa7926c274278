// Timestamps on the wire are Vietnam time with an explicit offset (+07:00), the time every office
// system and the standard's own timestamps use; the database keeps UTC instants.

import { VIETNAM_OFFSET_MS } from '../edxml/dates.ts';

/** ISO 8601 with milliseconds in Vietnam time, e.g. `2025-03-05T14:03:07.120+07:00`. */
export function vietnamIso(date: Date): string {
  return new Date(date.getTime() + VIETNAM_OFFSET_MS).toISOString().replace('Z', '+07:00');
}

/** vietnamIso for a value that may be absent. */
export function vietnamIsoOrNull(date: Date | null | undefined): string | null {
  return date === null || date === undefined ? null : vietnamIso(date);
}
