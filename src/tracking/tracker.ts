// The write side of document tracking. Intake hands it the packets that act on a tracked
// document — status packets, and revocations, updates and replacements — and it admits each one
// together with its effect, in ONE transaction: the (document, recipient) rows concerned are locked,
// the state machine decides, and the packet, the new states, the events and any packets the
// gateway sends in answer commit together or not at all. Concurrent statuses for one document
// (50 receivers answering at once) serialise on their own rows only.
//
// It also sends the automatic 01 (đã đến) when a document reaches a recipient — the push was
// accepted, or the inbox item acknowledged — and sweeps up any 01 a crash left unsent.

import type { Logger } from 'pino';
import type { AgencyDirectory } from '../agency/directory.ts';
import { STATUS_MEANINGS } from '../edxml/codes.ts';
import type { DocumentPacket, Organization, StatusPacket } from '../edxml/model.ts';
import { EdxError, issue, warning } from '../errors.ts';
import type { Issue } from '../errors.ts';
import { idempotencyKey } from '../pipeline/idempotency.ts';
import { INBOX_ROUTE_ID } from '../pipeline/recipients.ts';
import type { DirectorySource } from '../pipeline/recipients.ts';
import type { Database, RecallKind } from '../store/database.ts';
import type { Store } from '../store/open-store.ts';
import { payloadRef } from '../store/payloads.ts';
import { admitPacket, findAdmitted } from '../store/queries/admit-packet.ts';
import type { AdmitPacketInput, AdmitPacketResult, AdmitRecipient, AdmittedPacket } from '../store/queries/admit-packet.ts';
import {
  documentExists,
  insertEvents,
  insertLink,
  lockDocumentRecipients,
  pendingArrivalOf,
  pendingArrivals,
  updateRecipientState,
  withdrawUnpulledDelivery,
} from '../store/queries/tracking.ts';
import type { LockedRecipient, NewEvent } from '../store/queries/tracking.ts';
import type { Kysely } from 'kysely';
import { actorOf, applyStatus, requestRecall } from './state-machine.ts';
import type { ProcessingStatus, RecipientState, Transition } from './state-machine.ts';
import { automaticStatusBytes, automaticStatusPacket } from './status-packets.ts';
import type { AutomaticStatusCode } from './status-packets.ts';

/** An admission as intake prepared it, before the recipients are known. */
export type AdmitBase = Omit<AdmitPacketInput, 'recipients'>;

/** What a tracked admission produced. */
export interface TrackedAdmission {
  readonly result: AdmitPacketResult;
  /** Deviations accepted (e.g. a referenced document this gateway never carried). */
  readonly warnings: readonly Issue[];
}

/** What the tracker needs. */
export interface TrackerDeps {
  readonly store: Pick<Store, 'db' | 'payloads'>;
  readonly directory: DirectorySource;
  readonly budgetMs: number;
  readonly logger: Logger;
  readonly nodeId?: string | undefined;
  /**
   * Rung after a COMMIT that admitted the gateway's automatic statuses: with the packet when there
   * is one (an inbox delivery needs no wake-up), without when a transaction admitted several.
   */
  readonly onAdmitted?: ((packet?: AdmittedPacket) => void) | undefined;
  readonly clock?: (() => Date) | undefined;
}

/** The tracker of one gateway node. */
export class Tracker {
  readonly #deps: TrackerDeps;
  readonly #clock: () => Date;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(deps: TrackerDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? (() => new Date());
  }

  /**
   * Admits a status packet and applies it. 01–06, 15 and 16 come from a recipient of the document
   * and go back to its sender; 13 comes from the sender and goes to the recipient it names in
   * ResponseFor, or to every recipient when it names none of them. Throws EdxError on refusal.
   */
  async admitStatus(packet: StatusPacket, base: AdmitBase): Promise<TrackedAdmission> {
    const code = packet.statusCode;
    const actor = actorOf(code);
    const from = packet.from.organId;
    const documentId = packet.responseFor.documentId;
    const documentSender = actor === 'sender' ? from : packet.responseFor.organId;
    // A re-post is answered with the first receipt even if the document has moved on since (the 06
    // re-sent after a recall was agreed is still the same 06, not an illegal transition).
    const earlier = await findAdmitted(this.#deps.store.db, base.idempotencyKey, base.sha256);
    if (earlier !== undefined) return { result: earlier, warnings: [] };
    const directory = await this.#deps.directory.directory();
    const automatic: AutomaticAdmission[] = [];

    const result = await this.#deps.store.db.transaction().execute(async (trx) => {
      const rows = await lockDocumentRecipients(trx, { documentId, sender: documentSender }, actor === 'recipient' ? [from] : undefined);
      if (rows === undefined) {
        const hint = actor === 'recipient' ? `sent by ${documentSender} (ResponseFor/OrganId)` : `sent by ${from}`;
        throw refusal('EDX_ERR_STATUS_UNKNOWN_DOCUMENT', 'MessageHeader/ResponseFor/DocumentId', `No document ${documentId} ${hint} has passed through this gateway.`, documentId);
      }
      let targets: LockedRecipient[];
      let recipients: AdmitRecipient[];
      if (actor === 'recipient') {
        const own = rows[0];
        if (own === undefined) {
          throw refusal(
            'EDX_ERR_STATUS_NOT_A_RECIPIENT',
            'MessageHeader/From/OrganId',
            `${from} is not a recipient of document ${documentId} from ${documentSender}; only its recipients report its status.`,
            from,
          );
        }
        targets = [own];
        recipients = [routeTo(directory, documentSender)];
      } else {
        if (rows.length === 0) throw refusal('EDX_ERR_STATUS_UNKNOWN_DOCUMENT', 'MessageHeader/ResponseFor/DocumentId', `Document ${documentId} has no recipients to recall it from.`, documentId);
        const named = rows.find((r) => r.recipient === packet.responseFor.organId);
        targets = named === undefined ? rows : [named];
        recipients = targets.map((r) => ({ to: r.recipient, routeId: r.routeId }));
      }

      const transitions = targets.map((row) => ({ row, transition: applyStatus(stateOf(row), code, actor) }));
      for (const { row, transition } of transitions) {
        if (!transition.ok) {
          throw refusal(transition.code, 'MessageHeader/StatusCode', `Status ${code} from ${from} for ${row.recipient}: ${transition.reason}`, code);
        }
      }

      const admitted = await admitPacket(trx, { ...base, recipients });
      if (admitted.outcome !== 'admitted') return admitted;
      const packetId = admitted.packet.packetId;
      const events: NewEvent[] = [];
      for (const { row, transition } of transitions) {
        if (!transition.ok) continue;
        await this.#apply(trx, row, transition, {
          reason: packet.description ?? null,
          recallKind: 'recall',
        });
        events.push(statusEvent(row, code, transition, { packetId, agency: from, reason: packet.description, staff: packet.staffInfo }));
      }
      await insertEvents(trx, events);
      if (code === '13') {
        for (const { row, transition } of transitions) {
          if (transition.ok && transition.change === 'recall-requested') {
            const answered = await this.#withdrawAndAnswer(trx, directory, row, 'recall', packetId);
            if (answered !== undefined) automatic.push(answered);
          }
        }
      }
      return admitted;
    });
    if (result.outcome === 'admitted' && automatic.length > 0) this.#afterCommit(automatic);
    return { result, warnings: [] };
  }

  /**
   * Admits a revocation (1), update (2) or replacement (3) and records what it does to the
   * documents it names. A revocation opens a recall at each recipient it is addressed to (they
   * answer 15 or 16) and withdraws the copies not yet taken. A referenced document this gateway
   * never carried is accepted with a warning: it may have travelled another way before.
   */
  async admitBusinessDocument(packet: DocumentPacket, input: AdmitPacketInput): Promise<TrackedAdmission> {
    const type = packet.business?.businessDocType ?? 0;
    const sender = packet.header.from.organId;
    const documentId = packet.header.documentId;
    const directory = await this.#deps.directory.directory();
    const warnings: Issue[] = [];
    const automatic: AutomaticAdmission[] = [];

    const result = await this.#deps.store.db.transaction().execute(async (trx) => {
      const admitted = await admitPacket(trx, { ...input, trackDocument: type !== 1 });
      if (admitted.outcome !== 'admitted') return admitted;
      const packetId = admitted.packet.packetId;

      if (type === 1) {
        const addressed = admitted.packet.deliveries.map((d) => d.to);
        const rows = await lockDocumentRecipients(trx, { documentId, sender }, addressed);
        if (rows === undefined) {
          warnings.push(unknownReference('MessageHeader/DocumentId', documentId, 'revoked'));
          return admitted;
        }
        await insertLink(trx, { documentId, sender, relation: 'revoked', byDocumentId: documentId, byPacketId: packetId });
        const events: NewEvent[] = [
          { type: 'linked', packetId, documentId, agency: sender, data: { relation: 'revoked', byDocumentId: documentId, byPacketId: packetId, recipients: rows.map((r) => r.recipient) } },
        ];
        const opened: LockedRecipient[] = [];
        for (const row of rows) {
          const transition = requestRecall(stateOf(row), 'revoke');
          if (!transition.ok || transition.change !== 'recall-requested') continue;
          await this.#apply(trx, row, transition, { reason: packet.business?.businessDocReason ?? null, recallKind: 'revoke' });
          events.push(statusEvent(row, null, transition, { packetId, agency: sender, reason: packet.business?.businessDocReason, kind: 'revoke' }));
          opened.push(row);
        }
        await insertEvents(trx, events);
        for (const row of opened) {
          const answered = await this.#withdrawAndAnswer(trx, directory, row, 'revoke', packetId);
          if (answered !== undefined) automatic.push(answered);
        }
        return admitted;
      }

      const references =
        type === 2
          ? [{ documentId: packet.business?.documentId, path: 'TraceHeaderList/Bussiness/DocumentId', relation: 'updated' as const }]
          : packet.business?.replacements.map((r, i) => ({
              documentId: r.documentId,
              path: `TraceHeaderList/Bussiness/ReplacementInfoList/ReplacementInfo[${i + 1}]/DocumentId`,
              relation: 'replaced' as const,
            })) ?? [];
      const seen = new Set<string>();
      const events: NewEvent[] = [];
      for (const ref of references) {
        if (ref.documentId === undefined || ref.documentId === '' || seen.has(ref.documentId)) continue;
        seen.add(ref.documentId);
        if (!(await documentExists(trx, ref.documentId, sender))) {
          warnings.push(unknownReference(ref.path, ref.documentId, ref.relation));
          continue;
        }
        await insertLink(trx, { documentId: ref.documentId, sender, relation: ref.relation, byDocumentId: documentId, byPacketId: packetId });
        events.push(
          { type: 'linked', packetId, documentId: ref.documentId, agency: sender, data: { relation: ref.relation, byDocumentId: documentId, byPacketId: packetId } },
          { type: 'linked', packetId, documentId, agency: sender, data: { relation: ref.relation === 'updated' ? 'updates' : 'replaces', documentId: ref.documentId } },
        );
      }
      await insertEvents(trx, events);
      return admitted;
    });
    if (result.outcome === 'admitted' && automatic.length > 0) this.#afterCommit(automatic);
    return { result, warnings };
  }

  /**
   * A document reached a recipient (webhook 2xx, or inbox ack): sends 01 to its sender on the
   * recipient's behalf, unless the recipient reported a status already or the copy was recalled.
   * One statement (admitPacket's `arrival` guard): the packet, the row's 01 and its event, or
   * nothing. `known` saves a read when the caller has the delivery at hand. Never throws: a
   * failure is logged and the arrival sweep sends the 01 later.
   */
  async arrived(deliveryId: string, known?: ArrivedDelivery): Promise<void> {
    try {
      const delivery = known ?? (await pendingArrivalOf(this.#deps.store.db, deliveryId));
      if (delivery === undefined) return;
      const directory = await this.#deps.directory.directory();
      const at = this.#clock();
      const input = { code: '01' as const, recipient: organizationOf(directory, delivery.recipient), documentSender: delivery.sender, documentId: delivery.documentId, at };
      const packet = automaticStatusPacket(input);
      const bytes = automaticStatusBytes(input);
      const ref = payloadRef(bytes);
      const admitted = await admitPacket(this.#deps.store.db, {
        ...automaticAdmission(packet, bytes, ref, at, this.#deps),
        recipients: [routeTo(directory, delivery.sender)],
        arrival: {
          deliveryId,
          event: {
            code: '01',
            meaning: STATUS_MEANINGS['01'],
            recipient: delivery.recipient,
            sender: delivery.sender,
            previous: null,
            change: 'advance',
            automatic: true,
          },
        },
      });
      if (admitted.outcome === 'admitted') this.#deps.onAdmitted?.(admitted.packet);
    } catch (error) {
      this.#deps.logger.warn({ err: error, deliveryId }, 'automatic 01 not sent yet; the arrival sweep will retry');
    }
  }

  /** Sends the 01s a crash or a failure left unsent. Returns how many deliveries were looked at. */
  async sweepArrivals(options: { readonly olderThanMs?: number; readonly limit?: number } = {}): Promise<number> {
    const pending = await pendingArrivals(this.#deps.store.db, { olderThanMs: options.olderThanMs ?? 10_000, limit: options.limit ?? 100 });
    for (const deliveryId of pending) await this.arrived(deliveryId);
    return pending.length;
  }

  /** Runs the arrival sweep every `intervalMs` (one sweep at a time). */
  start(intervalMs: number): void {
    if (this.#sweepTimer !== undefined) return;
    this.#sweepTimer = setInterval(() => {
      this.#sweeping ??= this.sweepArrivals()
        .then(() => undefined)
        .catch((error: unknown) => this.#deps.logger.warn({ err: error }, 'arrival sweep failed'))
        .finally(() => {
          this.#sweeping = undefined;
        });
    }, intervalMs);
    this.#sweepTimer.unref();
  }

  /** Stops the sweep and waits for one in progress. */
  async stop(): Promise<void> {
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    await this.#sweeping;
  }

  async #apply(
    trx: Kysely<Database>,
    row: LockedRecipient,
    transition: Extract<Transition, { ok: true }>,
    context: { readonly reason: string | null; readonly recallKind: RecallKind },
  ): Promise<void> {
    if (transition.change === 'repeat' || transition.change === 'stale') return;
    const next = transition.next;
    const statusChanged = transition.change === 'advance';
    await updateRecipientState(trx, {
      documentId: row.documentId,
      sender: row.sender,
      recipient: row.recipient,
      statusCode: next.statusCode,
      statusChanged,
      statusReason: statusChanged && next.statusCode === '02' ? context.reason : null,
      recallState: next.recallState,
      recallKind: next.recallKind ?? (transition.change === 'recall-requested' ? context.recallKind : null),
      recallChange: transition.change === 'recall-requested' ? 'requested' : transition.change === 'recall-answered' ? 'answered' : undefined,
      recallReason: transition.change === 'recall-requested' ? context.reason : undefined,
    });
  }

  /**
   * After a recall or revocation opened at `row`: if the recipient had not taken the document yet,
   * withdraws it and answers 15 on its behalf (it never saw the document, so it is cancelled).
   */
  async #withdrawAndAnswer(
    trx: Kysely<Database>,
    directory: AgencyDirectory,
    row: LockedRecipient,
    by: RecallKind,
    packetId: string,
  ): Promise<AutomaticAdmission | undefined> {
    if (!(await withdrawUnpulledDelivery(trx, row.deliveryId))) return undefined;
    const events: NewEvent[] = [
      { type: 'withdrawn', packetId, deliveryId: row.deliveryId, documentId: row.documentId, agency: row.sender, data: { deliveryId: row.deliveryId, recipient: row.recipient, by } },
    ];
    const answered = await this.#admitAutomatic(trx, directory, row, '15');
    const requested: RecipientState = { statusCode: asProcessing(row.statusCode), recallState: 'requested', recallKind: by };
    const transition = applyStatus(requested, '15', 'recipient');
    if (transition.ok) {
      await this.#apply(trx, { ...row, recallState: 'requested', recallKind: by }, transition, { reason: null, recallKind: by });
      events.push(
        statusEvent({ ...row, recallState: 'requested' }, '15', transition, {
          packetId: answered?.packetId ?? null,
          agency: row.recipient,
          automatic: true,
        }),
      );
    }
    await insertEvents(trx, events);
    return answered;
  }

  /** Admits a status the gateway sends on `row.recipient`'s behalf; undefined when its key is taken. */
  async #admitAutomatic(trx: Kysely<Database>, directory: AgencyDirectory, row: LockedRecipient, code: AutomaticStatusCode): Promise<AutomaticAdmission | undefined> {
    const at = this.#clock();
    const input = { code, recipient: organizationOf(directory, row.recipient), documentSender: row.sender, documentId: row.documentId, at };
    const packet = automaticStatusPacket(input);
    const bytes = automaticStatusBytes(input);
    const ref = payloadRef(bytes);
    const admitted = await admitPacket(trx, { ...automaticAdmission(packet, bytes, ref, at, this.#deps), recipients: [routeTo(directory, row.sender)] });
    if (admitted.outcome !== 'admitted') return undefined;
    return { packetId: admitted.packet.packetId };
  }

  #afterCommit(_answered: readonly AutomaticAdmission[]): void {
    this.#deps.onAdmitted?.();
  }
}

/** The delivery an arrival is about: its document and parties. */
export interface ArrivedDelivery {
  readonly documentId: string;
  /** The document's sender. */
  readonly sender: string;
  readonly recipient: string;
}

/** The admission of a status the gateway writes itself, but its recipients. */
function automaticAdmission(
  packet: StatusPacket,
  bytes: Buffer,
  ref: string,
  at: Date,
  deps: Pick<TrackerDeps, 'store' | 'budgetMs' | 'nodeId'>,
): Omit<AdmitPacketInput, 'recipients'> {
  return {
    idempotencyKey: idempotencyKey(packet),
    kind: 'status',
    documentId: packet.responseFor.documentId,
    sender: packet.from.organId,
    businessType: null,
    statusCode: packet.statusCode,
    priority: 0,
    subject: null,
    sha256: ref,
    sizeBytes: bytes.byteLength,
    payloadRef: ref,
    payload: { bytes, store: deps.store.payloads },
    clientId: null,
    receivedAt: at,
    budgetMs: deps.budgetMs,
    signatureVerdict: 'unsigned',
    signatureDetail: { status: 'unsigned', policy: 'off', reason: "written by this gateway on the recipient's behalf" },
    stageTimings: {},
    notifyPayload: deps.nodeId,
    inboxAvailable: true,
  };
}

/** A packet the gateway admitted on a recipient's behalf. */
interface AutomaticAdmission {
  readonly packetId: string;
}

function stateOf(row: LockedRecipient): RecipientState {
  return { statusCode: asProcessing(row.statusCode), recallState: row.recallState, recallKind: row.recallKind };
}

function asProcessing(code: string | null): ProcessingStatus | null {
  return code === '01' || code === '02' || code === '03' || code === '04' || code === '05' || code === '06' ? code : null;
}

/** The route that reaches `code` now; the inbox when the directory no longer knows it. */
function routeTo(directory: AgencyDirectory, code: string): AdmitRecipient {
  const resolution = directory.resolve(code);
  if (resolution.kind === 'active' || resolution.kind === 'alias') {
    return { to: resolution.agency.code, routeId: resolution.agency.route ?? INBOX_ROUTE_ID, aliasOf: resolution.kind === 'alias' ? resolution.alias : null };
  }
  return { to: code, routeId: INBOX_ROUTE_ID };
}

/** The From of a status the gateway writes for `code`: its name from the directory. */
function organizationOf(directory: AgencyDirectory, code: string): Organization {
  const resolution = directory.resolve(code);
  const name = resolution.kind === 'unknown' ? code : resolution.agency.name;
  return { organId: code, organizationInCharge: name, organName: name };
}

function statusEvent(
  row: LockedRecipient,
  code: string | null,
  transition: Extract<Transition, { ok: true }>,
  context: {
    readonly packetId: string | null;
    readonly agency: string;
    readonly reason?: string | undefined;
    readonly staff?: StatusPacket['staffInfo'];
    readonly automatic?: boolean;
    readonly kind?: RecallKind;
  },
): NewEvent {
  const data: Record<string, unknown> = {
    code,
    meaning: code === null ? null : (STATUS_MEANINGS[code as keyof typeof STATUS_MEANINGS] ?? null),
    recipient: row.recipient,
    sender: row.sender,
    previous: transition.change === 'recall-requested' || transition.change === 'recall-answered' ? row.recallState : row.statusCode,
    change: transition.change,
    packetId: context.packetId,
  };
  if (context.reason !== undefined && context.reason !== '') data['reason'] = context.reason;
  if (context.staff !== undefined) data['staff'] = context.staff;
  if (context.automatic === true) data['automatic'] = true;
  if (context.kind !== undefined) data['kind'] = context.kind;
  return { type: 'status', packetId: context.packetId, deliveryId: row.deliveryId, documentId: row.documentId, agency: context.agency, data };
}

function refusal(code: Parameters<typeof issue>[0], path: string, message: string, value: string): EdxError {
  return new EdxError(code, message, [issue(code, path, message, value)]);
}

function unknownReference(path: string, documentId: string, relation: string): Issue {
  return warning(
    'EDX_ERR_DOCUMENT_REFERENCE_UNKNOWN',
    path,
    `The ${relation} document ${documentId} has not passed through this gateway; the packet is delivered, but no history links to it.`,
    documentId,
  );
}
