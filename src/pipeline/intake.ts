// Intake: the synchronous part of a packet's way, inside the sender's request. decode → validate →
// verify → admit, each timed; the reply is given only after the admitting COMMIT, and intake never
// calls delivery — it enqueues through the store and rings the wake-up (DESIGN, The flow of a packet).
// Nothing here knows HTTP: refusals are EdxErrors with catalogued codes, the API maps them.

import { pino } from 'pino';
import type { Logger } from 'pino';
import type { ParseOptions } from '../edxml/parse.ts';
import type { ParsedPackets } from '../edxml/parsed-packets.ts';
import { validatePacket } from '../edxml/validate.ts';
import type { ValidateOptions } from '../edxml/validate.ts';
import { documentIdOf, senderOf } from '../edxml/model.ts';
import type { Packet } from '../edxml/model.ts';
import { EdxError, issue } from '../errors.ts';
import type { Issue } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { IN_THREAD } from '../offload/packet-work.ts';
import type { PacketWork } from '../offload/packet-work.ts';
import type { Store } from '../store/open-store.ts';
import { admitPacket } from '../store/queries/admit-packet.ts';
import type { AdmitRecipient, AdmittedPacket } from '../store/queries/admit-packet.ts';
import { idempotencyKey } from './idempotency.ts';
import { resolveRecipients } from './recipients.ts';
import type { DirectorySource } from './recipients.ts';
import type { AdmitTimingSink } from './admit-timings.ts';
import { StageTimer } from './stage-timer.ts';
import { actorOf } from '../tracking/state-machine.ts';
import { Tracker } from '../tracking/tracker.ts';
import type { SignatureVerdict } from '../trust/policy.ts';
import type { TrustService } from '../trust/trust-service.ts';


/** The client on whose behalf a packet is submitted. */
export interface IntakeClient {
  readonly clientId: string;
  /** The agency codes it may send as. */
  readonly agencies: readonly string[];
}

/** One submission. */
export interface IntakeRequest {
  /** The packet bytes exactly as received; they are stored and delivered unchanged. */
  readonly bytes: Buffer;
  readonly client: IntakeClient;
  /** When the request arrived: the deadline and the end-to-end latency count from here. */
  readonly receivedAt: Date;
  /** The request's logger; intake binds the packet's context (agency, documentId, packetId) to it. */
  readonly log: Logger;
  /**
   * The link to another gateway the packet came over (federation): recipients the directory routes
   * back through it are the far side's own, delivered there already, and are left out.
   */
  readonly fromRoute?: string | undefined;
}

/** One delivery as the sender's receipt lists it. */
export interface ReceiptDelivery {
  /** The agency that receives (the successor, when the sender addressed a closed code). */
  readonly to: string;
  readonly deliveryId: string;
  /** The state at admission: a receipt replayed for a duplicate is the original one. */
  readonly state: 'queued';
  /** The closed code the sender addressed, when `to` is its successor. */
  readonly aliasOf?: string | undefined;
}

/** What the sender is told: the same body for the first post and for every duplicate of it. */
export interface AdmissionReceipt {
  readonly packetId: string;
  readonly documentId: string;
  readonly deliveries: readonly ReceiptDelivery[];
  /** Tolerated deviations decode found (e.g. a quirk of the official samples). */
  readonly warnings: readonly Issue[];
  /** What the verify stage concluded about the packet's signature (for a duplicate: about this post). */
  readonly signature: SignatureVerdict;
}

/** `admitted`: new (answer 202); `duplicate`: the same packet again (answer 200, nothing created). */
export interface IntakeResult {
  readonly outcome: 'admitted' | 'duplicate';
  readonly receipt: AdmissionReceipt;
}

/** What intake needs. */
export interface IntakeDeps {
  readonly store: Pick<Store, 'db' | 'payloads'>;
  readonly directory: DirectorySource;
  readonly metrics: Pick<Metrics, 'observeStage' | 'packetsAdmitted' | 'packetsRejected' | 'packetsDuplicate'>;
  /** End-to-end budget; deadline = received + budget. */
  readonly budgetMs: number;
  /** This node's id, sent as the NOTIFY payload so this node's workers ignore their own echo. */
  readonly nodeId?: string | undefined;
  /**
   * Called after the COMMIT that admitted `packet`: the in-process wake-up of this node's workers
   * when it queued deliveries, and the metrics of the inbox deliveries it made available.
   */
  readonly onAdmitted?: ((packet?: AdmittedPacket) => void) | undefined;
  /**
   * Stores the admit stage after the fact: it ends with the COMMIT of the statement that stores the
   * other stages (src/pipeline/admit-timings.ts). Absent: admit is only observed in the histogram.
   */
  readonly admitTimings?: AdmitTimingSink | undefined;
  /** Judges signatures under each sender's policy; absent: nothing is checked (`not-checked`). */
  readonly trust?: TrustService | undefined;
  /** Tracking of statuses and business flows; intake makes its own from these deps when absent. */
  readonly tracker?: Tracker | undefined;
  /** Where the tracker intake makes logs (default: the request's logger is not reachable there). */
  readonly logger?: Logger | undefined;
  readonly parseOptions?: ParseOptions | undefined;
  /** Where decode and the signature check run (the gateway's offload pool); absent: on the calling thread. */
  readonly work?: PacketWork | undefined;
  /** Where intake leaves the model of each packet it parsed, for the forwarding signer to reuse. */
  readonly parsedPackets?: ParsedPackets | undefined;
  /** Validation options except `now`, which is the request's arrival. */
  readonly validateOptions?: Partial<Omit<ValidateOptions, 'now'>> | undefined;
}

/** The intake pipeline of one gateway. */
export class Intake {
  readonly #deps: IntakeDeps;
  readonly #tracker: Tracker;

  constructor(deps: IntakeDeps) {
    this.#deps = deps;
    this.#tracker =
      deps.tracker ??
      new Tracker({
        store: deps.store,
        directory: deps.directory,
        budgetMs: deps.budgetMs,
        logger: deps.logger ?? silentLogger(),
        nodeId: deps.nodeId,
        onAdmitted: deps.onAdmitted,
      });
  }

  /** Runs the stages; resolves once the packet is durable (or found to be a duplicate), throws EdxError on refusal. */
  async submit(request: IntakeRequest): Promise<IntakeResult> {
    try {
      return await this.#submit(request);
    } catch (error) {
      if (error instanceof EdxError) this.#deps.metrics.packetsRejected.inc({ code: error.code });
      throw error;
    }
  }

  async #submit(request: IntakeRequest): Promise<IntakeResult> {
    const deps = this.#deps;
    const timer = new StageTimer(deps.metrics);
    const { bytes, client, log } = request;

    const work = deps.work ?? IN_THREAD;
    const decoded = await timer.run('decode', async () => {
      if (bytes.byteLength === 0) {
        throw EdxError.fromIssues([issue('EDX_ERR_XML_MALFORMED', 'body', 'The request body is empty; post one edXML packet.')]);
      }
      // The signature is checked in the same pass (one crossing to an offload thread); its verdict is
      // only judged in the verify stage, after the client's authorisation.
      const pass = await work.decode(bytes, { ...deps.parseOptions, verify: deps.trust !== undefined });
      if (!pass.parsed.ok) throw EdxError.fromIssues(pass.parsed.issues);
      deps.parsedPackets?.remember(bytes, pass.parsed.value);
      return { packet: pass.parsed.value, warnings: pass.parsed.warnings, payloadRef: pass.payloadRef, signature: pass.signature };
    }, (pass) => (pass.signature === undefined ? undefined : { stage: 'verify', ms: pass.signature.ms }));
    const packet = decoded.packet;
    const sender = senderOf(packet);
    const documentId = documentIdOf(packet);
    log.setBindings({ agency: sender, documentId });

    const recipients = await timer.run('validate', async () => {
      // Authorisation first: a client must not learn how another agency's packet would be judged.
      if (!client.agencies.includes(sender)) {
        throw new EdxError(
          'EDX_ERR_AUTH_FORBIDDEN',
          `this client may send as ${client.agencies.join(', ') || 'no agency'}, not as ${sender} (the packet's From).`,
          [issue('EDX_ERR_AUTH_FORBIDDEN', 'MessageHeader/From/OrganId', `The client may not send as ${sender}.`, sender)],
        );
      }
      const found = validatePacket(packet, { ...deps.validateOptions, now: request.receivedAt });
      if (found.some((i) => i.severity === 'error')) throw EdxError.fromIssues([...decoded.warnings, ...found]);
      const resolved = await resolveRecipients(packet, deps.directory);
      if (!resolved.ok) throw EdxError.fromIssues(resolved.issues);
      // A recall (13) goes to the document's recipients, which the tracker picks (none of them is behind
      // the link it came over: that side's recipients were left out of this gateway's copy); every
      // other packet goes to the recipients resolved here.
      const pickedByTracker = packet.kind === 'status' && actorOf(packet.statusCode) === 'sender';
      const value = request.fromRoute === undefined || pickedByTracker ? resolved.value : withoutRoute(resolved.value, request.fromRoute);
      return { value, warnings: [...decoded.warnings, ...found] };
    });

    const verdict = await timer.run('verify', async (): Promise<SignatureVerdict> => {
      if (deps.trust === undefined) return { status: 'not-checked', policy: 'off' };
      const judgement = await deps.trust.judge(bytes, sender, request.receivedAt, {
        hasSignature: packet.signature !== undefined,
        check: decoded.signature?.check,
      });
      if (!judgement.accepted) {
        throw new EdxError(judgement.code, `signature of ${sender}'s packet: ${judgement.reason}`, [
          issue(judgement.code, 'edXMLEnvelope/edXMLHeader/Signature', `Under the ${judgement.verdict.policy} policy: ${judgement.reason}`),
        ]);
      }
      return judgement.verdict;
    });

    const admission = await timer.run('admit', async () => {
      // Admission stores the bytes: durable before (folder) or with (table) the COMMIT that points at them.
      const ref = decoded.payloadRef;
      const input = {
        idempotencyKey: idempotencyKey(packet),
        kind: packet.kind,
        documentId,
        sender,
        businessType: packet.kind === 'document' ? (packet.business?.businessDocType ?? null) : null,
        statusCode: packet.kind === 'status' ? packet.statusCode : null,
        priority: priorityOf(packet),
        subject: packet.kind === 'document' ? packet.header.subject : null,
        sha256: ref,
        sizeBytes: bytes.byteLength,
        payloadRef: ref,
        payload: { bytes, store: deps.store.payloads },
        clientId: client.clientId,
        receivedAt: request.receivedAt,
        budgetMs: deps.budgetMs,
        signatureVerdict: verdict.status,
        signatureDetail: { ...verdict },
        stageTimings: timer.timings(),
        recipients: recipients.value,
        notifyPayload: deps.nodeId,
        inboxAvailable: true,
      };
      // A new document is admitted by one statement (the hot path); a status, a revocation, an
      // update or a replacement acts on a tracked document and goes through the tracker's transaction.
      if (packet.kind === 'status') return this.#tracker.admitStatus(packet, input);
      const businessType = packet.business?.businessDocType ?? 0;
      if (businessType !== 0) return this.#tracker.admitBusinessDocument(packet, input);
      return { result: await admitPacket(deps.store.db, { ...input, trackDocument: true }), warnings: [] };
    });
    const admitted = admission.result;

    log.setBindings({ packetId: admitted.packet.packetId });
    const receipt = receiptOf(admitted.packet, [...recipients.warnings, ...admission.warnings], verdict);
    switch (admitted.outcome) {
      case 'admitted':
        deps.metrics.packetsAdmitted.inc({ kind: packet.kind });
        deps.onAdmitted?.(admitted.packet);
        // Only a new packet: a duplicate's row keeps the timings of its first admission.
        recordAdmit(deps.admitTimings, admitted.packet.packetId, timer.timings());
        log.info({ recipients: receipt.deliveries.length, stageTimings: timer.timings() }, 'packet admitted');
        return { outcome: 'admitted', receipt };
      case 'duplicate':
        deps.metrics.packetsDuplicate.inc({ kind: packet.kind });
        log.info('duplicate packet: answered with the original receipt');
        return { outcome: 'duplicate', receipt };
      case 'skipped':
        // Only the gateway's automatic statuses are admitted with a guard that can skip them.
        throw new Error('intake admission was skipped');
      case 'conflict':
        if (packet.kind === 'status') {
          // A status is idempotent: the same agency reporting the same status for the same document
          // again (with another timestamp, say) changes nothing and gets the first receipt.
          deps.metrics.packetsDuplicate.inc({ kind: packet.kind });
          log.info('repeated status: answered with the first receipt');
          return { outcome: 'duplicate', receipt };
        }
        throw new EdxError(
          'EDX_ERR_PACKET_CONFLICT',
          `packet ${admitted.packet.packetId} was admitted for ${sender} with DocumentId ${documentId} and other content.`,
          [
            issue(
              'EDX_ERR_PACKET_CONFLICT',
              'MessageHeader/DocumentId',
              `Packet ${admitted.packet.packetId}, admitted earlier, has this sender, DocumentId and business type but other bytes.`,
              documentId,
            ),
          ],
        );
    }
  }
}

/** The recipients not behind `routeId`; none left is a routing loop (both sides route them to each other). */
function withoutRoute(recipients: readonly AdmitRecipient[], routeId: string): readonly AdmitRecipient[] {
  const kept = recipients.filter((r) => r.routeId !== routeId);
  if (kept.length > 0) return kept;
  const codes = recipients.map((r) => r.to).join(', ');
  throw new EdxError('EDX_ERR_ROUTE_LOOP', `every recipient (${codes}) is routed back through ${routeId}, the link the packet came over.`, [
    issue('EDX_ERR_ROUTE_LOOP', 'MessageHeader/To', `This gateway routes ${codes} through ${routeId}, the link the packet came from.`, codes),
  ]);
}

function recordAdmit(sink: AdmitTimingSink | undefined, packetId: string, timings: Readonly<Record<string, number>>): void {
  const admitMs = timings['admit'];
  if (sink !== undefined && admitMs !== undefined) sink.record(packetId, admitMs);
}

function priorityOf(packet: Packet): number {
  return packet.kind === 'document' ? (packet.header.otherInfo?.priority ?? 0) : 0;
}

/** The receipt of an admitted packet, built the same way for the first post and for a duplicate. */
function receiptOf(packet: AdmittedPacket, warnings: readonly Issue[], signature: SignatureVerdict): AdmissionReceipt {
  return {
    packetId: packet.packetId,
    documentId: packet.documentId,
    deliveries: packet.deliveries.map((d) => ({
      to: d.to,
      deliveryId: d.deliveryId,
      state: 'queued',
      ...(d.aliasOf === null ? {} : { aliasOf: d.aliasOf }),
    })),
    warnings: warnings.filter((w) => w.severity === 'warning'),
    signature,
  };
}

/** A logger that writes nothing, for an intake built without one (tests). */
function silentLogger(): Logger {
  return pino({ enabled: false });
}
