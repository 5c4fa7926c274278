// Who receives a packet, resolved through the agency directory. A document goes to every To; a
// status packet goes back to the counterpart named in its ResponseFor (the agency whose document it
// is about). Any recipient that cannot receive refuses the WHOLE packet: admitting it for some
// recipients and not others would leave the sender unsure who has it.

import type { AgencyDirectory, AgencyResolution } from '../agency/directory.ts';
import type { Packet } from '../edxml/model.ts';
import { issue } from '../errors.ts';
import type { Issue, Result } from '../errors.ts';
import type { AdmitRecipient } from '../store/queries/admit-packet.ts';

/** The route of agencies whose directory record names none: they pull from their inbox. */
export const INBOX_ROUTE_ID = 'inbox';

/** Where intake reads the directory; the gateway's cache implements it. */
export interface DirectorySource {
  /** The current snapshot (possibly cached for a few seconds). */
  directory(): Promise<AgencyDirectory>;
  /**
   * A snapshot read now, for a code the cached one does not know (just added by `edxgate agencies
   * add`); the implementation may rate-limit it and answer with the cached snapshot.
   */
  refreshDirectory(): Promise<AgencyDirectory>;
}

/** One addressed code and where it sits in the packet. */
export interface Addressee {
  readonly code: string;
  /** Element path of the code, for the issue that refuses it. */
  readonly path: string;
}

/** The codes a packet addresses, in packet order. */
export function addresseesOf(packet: Packet): readonly Addressee[] {
  if (packet.kind === 'status') return [{ code: packet.responseFor.organId, path: 'MessageHeader/ResponseFor/OrganId' }];
  return packet.header.to.map((to, i) => ({ code: to.organId, path: `MessageHeader/To[${i + 1}]/OrganId` }));
}

/**
 * Resolves every addressee; refuses with one issue per recipient that cannot receive. Two codes
 * that end at the same agency (a closed code and its successor, both listed) make one delivery: the
 * recipient would otherwise get the packet twice, and (packet, recipient) is unique in the store.
 */
export async function resolveRecipients(packet: Packet, source: DirectorySource): Promise<Result<readonly AdmitRecipient[]>> {
  const addressees = addresseesOf(packet);
  let directory = await source.directory();
  if (addressees.some((a) => directory.resolve(a.code).kind === 'unknown')) directory = await source.refreshDirectory();

  const issues: Issue[] = [];
  const byAgency = new Map<string, AdmitRecipient>();
  for (const addressee of addressees) {
    const resolution = directory.resolve(addressee.code);
    const refusal = refuse(addressee, resolution);
    if (refusal !== undefined) {
      issues.push(refusal);
      continue;
    }
    if (resolution.kind !== 'active' && resolution.kind !== 'alias') continue;
    const recipient: AdmitRecipient = {
      to: resolution.agency.code,
      routeId: resolution.agency.route ?? INBOX_ROUTE_ID,
      aliasOf: resolution.kind === 'alias' ? resolution.alias : null,
    };
    const seen = byAgency.get(recipient.to);
    // Prefer the direct address over the alias when both are listed.
    if (seen === undefined || (seen.aliasOf !== null && recipient.aliasOf === null)) byAgency.set(recipient.to, recipient);
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: [...byAgency.values()], warnings: [] };
}

function refuse(addressee: Addressee, resolution: AgencyResolution): Issue | undefined {
  const { code, path } = addressee;
  switch (resolution.kind) {
    case 'active':
    case 'alias':
      return undefined;
    case 'unknown':
      return issue('EDX_ERR_RECIPIENT_UNKNOWN', path, `The recipient ${code} is not in the agency directory.`, code);
    case 'suspended': {
      const via = resolution.path.length > 1 ? ` (${code} forwards to it)` : '';
      return issue('EDX_ERR_RECIPIENT_SUSPENDED', path, `The recipient ${resolution.agency.code}${via} is suspended.`, code);
    }
    case 'closed': {
      const via = resolution.path.length > 1 ? `, reached through ${resolution.path.join(' → ')},` : '';
      return issue('EDX_ERR_RECIPIENT_CLOSED', path, `The recipient ${resolution.agency.code}${via} is closed with no successor.`, code);
    }
  }
}
