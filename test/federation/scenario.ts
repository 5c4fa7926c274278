// The federation scenario (issue 6): an office system in P1 sends one document to an agency in P2
// and one in N; both receive it; 01 (both), 03, 05 and 06 (P2) flow back to P1; a recall (13) from
// P1 reaches both and P2 answers 15; a second document is revoked and the revocation reaches both.
// It only acts and waits; the test asserts on what it returns, the demo prints it.

import { waitFor } from '../api/gateway-fixture.ts';
import { AGENCIES, federationDocument, federationStatus, office } from './federation-harness.ts';
import type { FederationHarness, InboxItem, NodeName, Office, TimelineItem } from './federation-harness.ts';

const { P1_SENDER, P2_RECIPIENT, N_RECIPIENT } = AGENCIES;

/** What the scenario saw. */
export interface ScenarioResult {
  /** The first document (statuses and the recall). */
  readonly documentId: string;
  /** The second document (revoked). */
  readonly revokedDocumentId: string;
  /** What P1 answered for the first document. */
  readonly postStatus: number;
  readonly posted: { readonly packetId: string; readonly deliveries: readonly { readonly to: string }[] };
  /** The copies of the first document in the receivers' inboxes. */
  readonly received: { readonly p2: readonly InboxItem[]; readonly n: readonly InboxItem[] };
  /** P1's view of each recipient of the first document at the end: status code and recall state. */
  readonly p1View: Readonly<Record<string, { readonly status: string | null; readonly recall: string }>>;
  /** The status codes P1 recorded for the first document, per recipient, in the order they applied. */
  readonly p1Statuses: Readonly<Record<string, readonly string[]>>;
  /** The revocation as each receiver's inbox lists it. */
  readonly revocations: { readonly p2: readonly InboxItem[]; readonly n: readonly InboxItem[] };
  /** The recall (13) as each receiver's inbox lists it. */
  readonly recalls: { readonly p2: readonly InboxItem[]; readonly n: readonly InboxItem[] };
  /** Each node's timeline of the first document. */
  readonly timelines: Readonly<Record<NodeName, readonly TimelineItem[]>>;
  /** Each receiving node's timeline of the revoked document. */
  readonly revokeTimelines: Readonly<Record<NodeName, readonly TimelineItem[]>>;
}

/** Options of runScenario. */
export interface ScenarioOptions {
  /** Called at each step (the demo prints it). */
  readonly step?: ((text: string) => void) | undefined;
  /** The longest wait of one step (a safety net, not a timing assertion). */
  readonly timeoutMs?: number | undefined;
}

async function statusAt(sender: Office, documentId: string, recipient: string): Promise<{ status: string | null; recall: string } | undefined> {
  const view = await sender.document(documentId, P1_SENDER);
  if (view.status !== 200) return undefined;
  const row = view.body.recipients.find((r) => r.recipient === recipient);
  return row === undefined ? undefined : { status: row.status?.code ?? null, recall: row.recall.state };
}

async function itemsOf(receiver: Office, documentId: string, predicate: (i: InboxItem) => boolean): Promise<readonly InboxItem[]> {
  return (await receiver.inbox({ all: true })).filter((i) => i.documentId === documentId && predicate(i));
}

/** Runs the scenario on a started federation. */
export async function runScenario(h: FederationHarness, options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const step = options.step ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const sender = office(h.p1, P1_SENDER);
  const p2 = office(h.p2, P2_RECIPIENT);
  const n = office(h.n, N_RECIPIENT);
  const wait = <T>(what: string, check: () => Promise<T | undefined | false>): Promise<T> => waitFor(what, check, timeoutMs);

  step(`P1: ${P1_SENDER} sends a document to ${P2_RECIPIENT} (P2) and ${N_RECIPIENT} (N)`);
  const posted = await sender.post(federationDocument(P1_SENDER, [P2_RECIPIENT, N_RECIPIENT]));
  if (posted.status !== 202) throw new Error(`P1 refused the document: HTTP ${posted.status} ${JSON.stringify(posted.body)}`);
  const documentId = posted.body.documentId;

  const isDocument = (i: InboxItem): boolean => i.kind === 'document' && (i.businessType ?? 0) === 0;
  const p2Copy = await wait('the document in P2', async () => (await itemsOf(p2, documentId, isDocument))[0]);
  const nCopy = await wait('the document in N', async () => (await itemsOf(n, documentId, isDocument))[0]);
  step('P2 and N office systems take it (ack): each gateway sends the automatic 01 back');
  await p2.ack(p2Copy.deliveryId);
  await n.ack(nCopy.deliveryId);
  await wait('01 from P2 at P1', async () => (await statusAt(sender, documentId, P2_RECIPIENT))?.status === '01');
  await wait('01 from N at P1', async () => (await statusAt(sender, documentId, N_RECIPIENT))?.status === '01');

  for (const code of ['03', '05', '06'] as const) {
    step(`P2: ${P2_RECIPIENT} reports ${code}`);
    const reply = await p2.post(federationStatus(P2_RECIPIENT, P1_SENDER, documentId, code));
    if (reply.status !== 202) throw new Error(`P2 refused status ${code}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
    await wait(`${code} from P2 at P1`, async () => (await statusAt(sender, documentId, P2_RECIPIENT))?.status === code);
  }

  step(`P1: ${P1_SENDER} asks for the document back (13)`);
  const recall = await sender.post(federationStatus(P1_SENDER, P1_SENDER, documentId, '13', 'Văn bản ban hành nhầm, đề nghị trả lại'));
  if (recall.status !== 202) throw new Error(`P1 refused the recall: HTTP ${recall.status} ${JSON.stringify(recall.body)}`);
  const isRecall = (i: InboxItem): boolean => i.kind === 'status' && i.statusCode === '13';
  const p2Recall = await wait('the recall in P2', async () => (await itemsOf(p2, documentId, isRecall))[0]);
  await wait('the recall in N', async () => (await itemsOf(n, documentId, isRecall))[0]);
  await p2.ack(p2Recall.deliveryId);
  step(`P2: ${P2_RECIPIENT} agrees (15)`);
  const agreed = await p2.post(federationStatus(P2_RECIPIENT, P1_SENDER, documentId, '15'));
  if (agreed.status !== 202) throw new Error(`P2 refused its 15: HTTP ${agreed.status} ${JSON.stringify(agreed.body)}`);
  await wait('15 from P2 at P1', async () => (await statusAt(sender, documentId, P2_RECIPIENT))?.recall === 'recalled');

  step(`P1: a second document to both, then its revocation (BussinessDocType 1)`);
  const number = `${Date.now() % 1_000_000}`;
  const second = await sender.post(federationDocument(P1_SENDER, [P2_RECIPIENT, N_RECIPIENT], { number, subject: 'V/v văn bản sẽ bị thu hồi' }));
  if (second.status !== 202) throw new Error(`P1 refused the second document: HTTP ${second.status}`);
  const revokedDocumentId = second.body.documentId;
  await wait('the second document in P2', async () => (await itemsOf(p2, revokedDocumentId, isDocument))[0]);
  await wait('the second document in N', async () => (await itemsOf(n, revokedDocumentId, isDocument))[0]);
  const revocation = await sender.post(federationDocument(P1_SENDER, [P2_RECIPIENT, N_RECIPIENT], { number, subject: 'V/v văn bản sẽ bị thu hồi', revokes: true }));
  if (revocation.status !== 202) throw new Error(`P1 refused the revocation: HTTP ${revocation.status} ${JSON.stringify(revocation.body)}`);
  const isRevocation = (i: InboxItem): boolean => i.kind === 'document' && i.businessType === 1;
  const p2Revocation = await wait('the revocation in P2', async () => {
    const found = await itemsOf(p2, revokedDocumentId, isRevocation);
    return found.length > 0 ? found : undefined;
  });
  const nRevocation = await wait('the revocation in N', async () => {
    const found = await itemsOf(n, revokedDocumentId, isRevocation);
    return found.length > 0 ? found : undefined;
  });

  // Everything has flowed; read the final views.
  const p1Timeline = await sender.timeline(documentId, P1_SENDER);
  const p1Statuses: Record<string, string[]> = {};
  for (const e of p1Timeline) {
    if (e.type !== 'status' || e.code === undefined || e.recipient === undefined || e.change === 'stale' || e.change === 'repeat') continue;
    // The recipients' own statuses: the sender's 13 is recorded per recipient too, but it is P1's, not theirs.
    if (e.agency !== e.recipient) continue;
    (p1Statuses[e.recipient] ??= []).push(e.code);
  }
  const p1View: Record<string, { status: string | null; recall: string }> = {};
  for (const recipient of [P2_RECIPIENT, N_RECIPIENT]) {
    const at = await statusAt(sender, documentId, recipient);
    if (at !== undefined) p1View[recipient] = at;
  }
  return {
    documentId,
    revokedDocumentId,
    postStatus: posted.status,
    posted: posted.body,
    received: { p2: await itemsOf(p2, documentId, isDocument), n: await itemsOf(n, documentId, isDocument) },
    p1View,
    p1Statuses,
    revocations: { p2: p2Revocation, n: nRevocation },
    recalls: { p2: await itemsOf(p2, documentId, isRecall), n: await itemsOf(n, documentId, isRecall) },
    timelines: { P1: p1Timeline, N: await n.timeline(documentId, P1_SENDER), P2: await p2.timeline(documentId, P1_SENDER) },
    revokeTimelines: {
      P1: await sender.timeline(revokedDocumentId, P1_SENDER),
      N: await n.timeline(revokedDocumentId, P1_SENDER),
      P2: await p2.timeline(revokedDocumentId, P1_SENDER),
    },
  };
}
