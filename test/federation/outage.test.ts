// Upstream outage (issue 6, acceptance): N is stopped for 60 s while P1 keeps accepting documents for
// agencies behind it; when N returns everything is delivered, nothing is lost, and each receiver
// sees each document once — one delivery id, one packet — after dedupe by delivery id.
//
// N is stopped abruptly (StopOptions.abrupt): an outage is not a planned restart, and cutting the
// connections in flight is what makes the far sides retry work that may already be committed
// (a sendEdoc whose OK never reached P1, an updateStatus that never reached P2's poller).
//
// Variants: each one holds the outage for its full minute. Postgres (three databases) when
// DATABASE_URL is set, with P2 polling N — the poller has to recover; PGlite otherwise, with N
// pushing to P2's callback — N's workers have to reach P2 again after the restart.
// EDXGATE_OUTAGE_MS shortens the outage for local iteration only (default 60 s, the figure).

import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { DeliveryState } from '../../src/store/database.ts';
import type { StoreDialect } from '../../src/store/open-store.ts';
import { waitFor } from '../api/gateway-fixture.ts';
import { postgresAvailable } from '../helpers/database.ts';
import { AGENCIES, deliveriesOf, federationDocument, office, startFederation } from './federation-harness.ts';
import type { FederationHarness, InboxItem, LinkMode, Office } from './federation-harness.ts';

const { P1_SENDER, P2_RECIPIENT, N_RECIPIENT } = AGENCIES;
const RECIPIENTS = [P2_RECIPIENT, N_RECIPIENT] as const;

const OUTAGE_MS = Number(process.env.EDXGATE_OUTAGE_MS ?? 60_000);
/** One document from P1's office every half second for the whole outage (~120). */
const POST_EVERY_MS = 500;
/** Safety net for the recovery (not a speed assertion): everything delivered and confirmed by then. */
const RECOVERY_WAIT_MS = 180_000;

// Both variants whenever Postgres is reachable. The PGlite/callback one once failed under the full
// suite's load: after N returned, P1's circuit of national stayed open for good, because every
// half-open trial was a late delivery and got only the 250 ms floor, which a just-restarted N under
// load could not answer in. Late deliveries now get a whole budget (deliveryTimeoutMs).
const variants: readonly { readonly kind: StoreDialect; readonly mode: LinkMode }[] = postgresAvailable()
  ? [
      { kind: 'postgres', mode: 'poll' },
      { kind: 'pglite', mode: 'callback' },
    ]
  : [{ kind: 'pglite', mode: 'callback' }];

// Each variant: ~10 s to start, the outage, then the recovery; the file's budget covers both variants.
t.setTimeout(variants.length * (OUTAGE_MS + RECOVERY_WAIT_MS + 60_000));

const isDocument = (i: InboxItem): boolean => i.kind === 'document' && (i.businessType ?? 0) === 0;

/** The documents in a receiver's inbox (acknowledged ones included). */
async function documentsIn(receiver: Office): Promise<readonly InboxItem[]> {
  return (await receiver.inbox({ all: true })).filter(isDocument);
}

/** The status code P1 shows for each recipient of a document. */
async function statusesAtP1(sender: Office, documentId: string): Promise<Readonly<Record<string, string | null>> | undefined> {
  const view = await sender.document(documentId, P1_SENDER);
  if (view.status !== 200) return undefined;
  return Object.fromEntries(view.body.recipients.map((r) => [r.recipient, r.status?.code ?? null]));
}

/** P1's deliveries of the given packets: counted by state, how many were retried, and their last errors (counted, numbers elided). */
async function p1StatesOf(
  h: FederationHarness,
  packetIds: ReadonlySet<string>,
): Promise<{ readonly states: Partial<Record<DeliveryState, number>>; readonly retried: number; readonly lastErrors: Readonly<Record<string, number>> }> {
  const states: Partial<Record<DeliveryState, number>> = {};
  const lastErrors: Record<string, number> = {};
  let retried = 0;
  for (const recipient of RECIPIENTS) {
    for (const d of await deliveriesOf(h.p1, { recipient })) {
      if (!packetIds.has(d.packetId)) continue;
      states[d.state] = (states[d.state] ?? 0) + 1;
      if (d.attempts > 1 && d.lastError !== null) retried++;
      if (d.state !== 'delivered' && d.lastError !== null) {
        const error = d.lastError.replace(/\d+/g, 'N').slice(0, 160);
        lastErrors[error] = (lastErrors[error] ?? 0) + 1;
      }
    }
  }
  return { states, retried, lastErrors };
}

for (const { kind, mode } of variants) {
  t.test(`${kind}, ${mode}: N stopped for ${OUTAGE_MS / 1000} s while P1 keeps accepting`, async (t) => {
    const h = await startFederation(t, { kind, mode });
    const sender = office(h.p1, P1_SENDER);
    const p2 = office(h.p2, P2_RECIPIENT);
    const n = office(h.n, N_RECIPIENT);

    // The path works before the outage: one document to both, taken, and both 01s back at P1.
    const first = await sender.post(federationDocument(P1_SENDER, [...RECIPIENTS]));
    t.equal(first.status, 202, 'P1 accepts the first document');
    const firstId = first.body.documentId;
    for (const receiver of [p2, n]) {
      const copy = await waitFor(`the first document in ${receiver.agency}'s inbox`, async () => (await documentsIn(receiver)).find((i) => i.documentId === firstId), 30_000);
      t.equal(await receiver.ack(copy.deliveryId), 200, `${receiver.agency} takes the first document`);
    }
    await waitFor('both 01s of the first document at P1', async () => {
      const s = await statusesAtP1(sender, firstId);
      return s !== undefined && RECIPIENTS.every((r) => s[r] === '01');
    }, 30_000);

    // The outage.
    await h.n.stop({ abrupt: true });
    const outageStarted = Date.now();
    const posted: { readonly documentId: string; readonly packetId: string }[] = [];
    const refused: string[] = [];
    let midCheck: Awaited<ReturnType<typeof p1StatesOf>> | undefined;
    for (let i = 0; ; i++) {
      // On a fixed schedule, so slow posts do not thin the traffic; a post behind schedule goes at
      // once, and the outage lasts until the last one (at least OUTAGE_MS).
      const at = outageStarted + i * POST_EVERY_MS;
      if (at >= outageStarted + OUTAGE_MS) break;
      await sleep(Math.max(0, at - Date.now()));
      const reply = await sender.post(federationDocument(P1_SENDER, [...RECIPIENTS]));
      if (reply.status === 202) posted.push({ documentId: reply.body.documentId, packetId: reply.body.packetId });
      else refused.push(`post ${i}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
      // Half-way: what P1 holds for N's side is waiting and being retried, not given up.
      if (midCheck === undefined && Date.now() - outageStarted >= OUTAGE_MS / 2) midCheck = await p1StatesOf(h, new Set(posted.map((p) => p.packetId)));
    }
    const outageIds = new Set(posted.map((p) => p.packetId));
    const atEnd = await p1StatesOf(h, outageIds);
    const circuitDuringOutage = h.p1.app().gateway.delivery.status().circuits['national'];
    const outageMs = Date.now() - outageStarted;

    t.same(refused, [], 'P1 answered 202 to every post while N was down');
    t.equal(posted.length, Math.ceil(OUTAGE_MS / POST_EVERY_MS), `P1 accepted ${posted.length} documents during the ${Math.round(outageMs / 1000)} s outage`);
    t.comment(`outage: ${posted.length} documents posted to P1 in ${outageMs} ms; P1's circuit of national: ${JSON.stringify(circuitDuringOutage)}`);
    for (const [when, check] of [
      ['half-way through the outage', midCheck],
      ['at the end of the outage', atEnd],
    ] as const) {
      t.ok(check !== undefined, `P1's deliveries were read ${when}`);
      if (check === undefined) continue;
      t.comment(`P1's deliveries ${when}: ${JSON.stringify(check.states)}, ${check.retried} retried`);
      t.equal((check.states.dead ?? 0) + (check.states.delivered ?? 0) + (check.states.withdrawn ?? 0), 0, `${when}, none of P1's deliveries to N's side is dead, delivered or withdrawn`);
      t.ok(check.retried > 0, `${when}, P1 is retrying its deliveries to N's side`);
    }
    t.equal((atEnd.states.queued ?? 0) + (atEnd.states.delivering ?? 0), 2 * posted.length, 'at the end of the outage, P1 holds every delivery (two per document) queued or in an attempt');

    // N returns on the same port and database.
    await h.n.start();
    const returned = Date.now();
    const expected = new Set([firstId, ...posted.map((p) => p.documentId)]);
    const missing = async (receiver: Office): Promise<number> => {
      const seen = new Set((await documentsIn(receiver)).map((i) => i.documentId));
      return [...expected].filter((id) => !seen.has(id)).length;
    };
    let left = { p2: expected.size, n: expected.size };
    try {
      await waitFor(
        'every document in both inboxes',
        async () => {
          left = { p2: await missing(p2), n: await missing(n) };
          if (left.p2 + left.n === 0) return true;
          await sleep(250);
          return false;
        },
        RECOVERY_WAIT_MS,
      );
    } catch (error) {
      throw new Error(`${RECOVERY_WAIT_MS / 1000} s after N returned, documents still missing: ${left.p2} in P2's inbox, ${left.n} in N's (of ${expected.size}); P1's deliveries: ${JSON.stringify(await p1StatesOf(h, outageIds))}`, { cause: error });
    }
    const deliveredMs = Date.now() - returned;
    t.comment(`recovery: every document in both inboxes ${deliveredMs} ms after N returned`);

    // Each receiver: one delivery id per document, one packet per delivery id.
    const inboxes = { p2: await documentsIn(p2), n: await documentsIn(n) };
    for (const [name, items] of Object.entries(inboxes)) {
      const packetsOf = new Map<string, Set<string>>();
      const deliveriesOfDocument = new Map<string, Set<string>>();
      for (const i of items) {
        (packetsOf.get(i.deliveryId) ?? packetsOf.set(i.deliveryId, new Set()).get(i.deliveryId))?.add(i.packetId);
        (deliveriesOfDocument.get(i.documentId) ?? deliveriesOfDocument.set(i.documentId, new Set()).get(i.documentId))?.add(i.deliveryId);
      }
      t.same([...packetsOf].filter(([, packets]) => packets.size > 1), [], `${name}: no delivery id is listed with two packets`);
      t.same([...expected].filter((id) => deliveriesOfDocument.get(id)?.size !== 1), [], `${name}: every document posted is there exactly once after dedupe by delivery id`);
      t.same([...deliveriesOfDocument.keys()].filter((id) => !expected.has(id)), [], `${name}: nothing else arrived`);
    }

    // The receivers take them; each gateway's automatic 01 goes back to P1 through N.
    for (const [receiver, items] of [
      [p2, inboxes.p2],
      [n, inboxes.n],
    ] as const) {
      const ids = new Set<string>();
      for (const i of items) if (i.state === 'available' && !ids.has(i.deliveryId)) ids.add(i.deliveryId);
      const notTaken: string[] = [];
      for (const id of ids) {
        const status = await receiver.ack(id);
        if (status !== 200) notTaken.push(`${id}: HTTP ${status}`);
      }
      t.same(notTaken, [], `${receiver.agency} takes every document`);
    }
    const unconfirmed = new Set(posted.map((p) => p.documentId));
    try {
      await waitFor(
        'both 01s of every document at P1',
        async () => {
          for (const id of [...unconfirmed]) {
            const s = await statusesAtP1(sender, id);
            if (s !== undefined && RECIPIENTS.every((r) => s[r] === '01')) unconfirmed.delete(id);
          }
          if (unconfirmed.size === 0) return true;
          await sleep(250);
          return false;
        },
        RECOVERY_WAIT_MS,
      );
    } catch (error) {
      throw new Error(`${RECOVERY_WAIT_MS / 1000} s after the acks, ${unconfirmed.size} of ${posted.length} documents still lack a 01 from both recipients at P1`, { cause: error });
    }
    t.comment(`statuses: every 01 back at P1 ${Date.now() - returned} ms after N returned`);
    t.equal(unconfirmed.size, 0, 'P1 shows 01 from both recipients for every document');

    // Nothing was given up anywhere, and nothing is left behind.
    for (const node of h.nodes) {
      t.same((await deliveriesOf(node, { state: 'dead' })).map((d) => `${d.recipient}: ${d.lastError ?? ''}`), [], `nothing dead-lettered on ${node.name}`);
    }
    await waitFor('P1 and N to have no delivery left queued', async () => {
      for (const node of [h.p1, h.n]) {
        const pending = [...(await deliveriesOf(node, { state: 'queued' })), ...(await deliveriesOf(node, { state: 'delivering' }))];
        if (pending.length > 0) return false;
      }
      return true;
    }, 30_000);
    t.equal(h.p1.app().gateway.delivery.status().circuits['national']?.state ?? 'closed', 'closed', 'P1’s circuit of national is closed again');
  });
}
