// Crash safety, end to end: the gateway runs as a real child process and is SIGKILLed while 1,000
// packets are being posted and delivered to a webhook served by this test. After a restart on the
// same database:
//   - every packet that got a 202 reaches the webhook; a redelivery carries the same delivery id, so
//     after deduping by delivery id every id is seen exactly once, and always with the same packet;
//   - nothing is half-written: every packet row has its delivery and its payload, and a packet whose
//     post got no reply either does not exist or exists completely (and is then delivered too);
//   - re-posting the packets that got no reply answers 202 (it was never admitted) or 200 (it was:
//     the original receipt) — never 409 or 500.
// To make the redelivery certain rather than likely, the receiver stops answering just before the
// kill: the deliveries it holds were received but never acknowledged, so they must come again.
// Runs on the database the environment selects (Postgres with DATABASE_URL, and PGlite always).

import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { Test } from 'tap';
import { Agent, request } from 'undici';
import { seedDemoIfEmpty } from '../../src/gateway/demo-seed.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store, StoreDialect } from '../../src/store/open-store.ts';
import { makeDocument } from '../api/gateway-fixture.ts';
import { postgresAvailable, testDatabase } from '../helpers/database.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { startGatewayProcess } from './helpers/gateway-process.ts';
import type { GatewayProcess } from './helpers/gateway-process.ts';
import { startWebhookRecorder } from './helpers/webhook-recorder.ts';
import type { WebhookRecorder } from './helpers/webhook-recorder.ts';

const SENDER = '000.00.15.H47';
const RECIPIENT = '000.02.15.H47';
const ROUTE_SECRET = 'crash-safety-route-secret-0123456789';
const TOTAL = 1000;
/** The kill comes once this many posts have been answered 202, with more in flight. */
const KILL_AFTER_ACCEPTED = 400;
const CONCURRENCY = 16;
/** Safety nets only (a hung gateway fails with a message instead of hitting tap's timeout). */
const DELIVERED_WITHIN_MS = 60_000;

/** The gateway's config: a 1 s lease so the restarted node reclaims the dead node's deliveries quickly, fast retries. */
const GATEWAY_ENV = {
  LOG_LEVEL: 'warn',
  DELIVERY_LEASE_MS: '1000',
  RETRY_BASE_MS: '20',
  RETRY_MAX_MS: '200',
  SWEEP_INTERVAL_MS: '500',
  CIRCUIT_FAILURE_THRESHOLD: '1000',
  CIRCUIT_COOLDOWN_MS: '200',
  SHUTDOWN_TIMEOUT_MS: '5000',
  // What a sender refused after the restart (the workers catching up) waits before posting again.
  OVERLOAD_RETRY_AFTER_S: '1',
};

interface Receipt {
  readonly packetId: string;
  readonly documentId: string;
  readonly deliveries: readonly { readonly to: string; readonly deliveryId: string }[];
}

type PostOutcome =
  | { readonly kind: 'answered'; readonly status: number; readonly receipt: Receipt | undefined; readonly body: string }
  | { readonly kind: 'no-reply'; readonly error: string };

interface TestPacket {
  readonly index: number;
  readonly documentId: string;
  readonly bytes: Buffer;
  readonly sha256: string;
}

const kinds: StoreDialect[] = postgresAvailable() ? ['postgres', 'pglite'] : ['pglite'];
if (!postgresAvailable()) t.comment('DATABASE_URL is not set: the Postgres run is skipped');

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function makePackets(): TestPacket[] {
  return Array.from({ length: TOTAL }, (_, index) => {
    const number = String(index + 1);
    const bytes = makeDocument({ from: SENDER, to: [RECIPIENT], number, subject: `V/v kiểm thử an toàn khi sập, gói ${number}` });
    return { index, documentId: `${SENDER},2025/03/05,${number}/SLĐTBXH-VP`, bytes, sha256: sha256(bytes) };
  });
}

/** How many 503s (overloaded: nothing admitted, retry after N s) a sender sits out before giving up. */
const OVERLOAD_RETRIES = 60;

async function post(agent: Agent, url: string, token: string, bytes: Buffer): Promise<PostOutcome> {
  try {
    // A well-behaved sender: after a restart the workers first catch up with what waited while the
    // node was down, and until then the gateway refuses new packets with 503 and Retry-After.
    for (let refusals = 0; ; refusals++) {
      const response = await request(`${url}/v1/packets`, {
        dispatcher: agent,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' },
        body: bytes,
      });
      const body = await response.body.text();
      if (response.statusCode === 503 && refusals < OVERLOAD_RETRIES) {
        await sleep(Number(response.headers['retry-after'] ?? 1) * 1000);
        continue;
      }
      return answered(response.statusCode, body);
    }
  } catch (error) {
    // The connection died with the gateway (or was refused after it): the sender got no answer.
    return { kind: 'no-reply', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

function answered(status: number, body: string): PostOutcome {
  const receipt = status === 200 || status === 202 ? (JSON.parse(body) as Receipt) : undefined;
  return { kind: 'answered', status, receipt, body: body.slice(0, 500) };
}

/** Posts packets from `queue` with CONCURRENCY loops until the queue is empty or `stop()` says so. */
async function postAll(
  queue: readonly TestPacket[],
  send: (packet: TestPacket) => Promise<PostOutcome>,
  onOutcome: (packet: TestPacket, outcome: PostOutcome) => void,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const loop = async (): Promise<void> => {
    while (!stop() && next < queue.length) {
      const packet = queue[next++];
      if (packet === undefined) return;
      onOutcome(packet, await send(packet));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
}

/** Polls until `done()`; throws `message()` after `timeoutMs` (a safety net, not an assertion on speed). */
async function waitUntil(done: () => boolean | Promise<boolean>, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(message());
    await sleep(20);
  }
}

interface PacketRow {
  readonly id: string;
  readonly document_id: string;
  readonly payload_ref: string;
  readonly sha256: string;
  readonly deliveries: readonly { readonly id: string; readonly state: string }[];
}

/**
 * Every posted (document) packet row with its deliveries. The status packets the gateway writes
 * itself — the automatic 01 of each pushed document — are not the test's posts; they are only
 * checked for orphans here, with every other row.
 */
async function packetRows(store: Store): Promise<Map<string, PacketRow>> {
  const all = await store.db.selectFrom('packets').select(['id', 'kind', 'document_id', 'payload_ref', 'sha256']).execute();
  const packets = all.filter((p) => p.kind === 'document');
  const deliveries = await store.db.selectFrom('deliveries').select(['id', 'packet_id', 'state']).execute();
  const byPacket = new Map<string, { id: string; state: string }[]>();
  for (const d of deliveries) {
    const list = byPacket.get(d.packet_id) ?? [];
    list.push({ id: d.id, state: d.state });
    byPacket.set(d.packet_id, list);
  }
  const rows = new Map<string, PacketRow>();
  for (const p of packets) rows.set(p.document_id, { ...p, deliveries: byPacket.get(p.id) ?? [] });
  // A delivery whose packet row is missing would be half-written the other way round.
  const known = new Set(all.map((p) => p.id));
  const orphans = deliveries.filter((d) => !known.has(d.packet_id));
  if (orphans.length > 0) throw new Error(`${orphans.length} delivery rows have no packet row`);
  return rows;
}

/** Checks that every packet row is whole: its one delivery, its payload readable and equal to what was posted. */
async function checkWhole(t: Test, store: Store, rows: ReadonlyMap<string, PacketRow>, posted: ReadonlyMap<string, TestPacket>, when: string): Promise<void> {
  let whole = 0;
  const broken: string[] = [];
  for (const row of rows.values()) {
    const sent = posted.get(row.document_id);
    let payloadOk = false;
    try {
      payloadOk = sha256(await store.payloads.get(row.payload_ref)) === sent?.sha256;
    } catch (error) {
      broken.push(`${row.document_id}: payload ${row.payload_ref}: ${String(error)}`);
    }
    if (row.deliveries.length !== 1) broken.push(`${row.document_id}: ${row.deliveries.length} deliveries`);
    else if (payloadOk && row.sha256 === sent?.sha256) whole++;
    else broken.push(`${row.document_id}: payload or hash differs from what was posted`);
  }
  t.same(broken.slice(0, 10), [], `${when}: every packet row has its delivery and its payload (${broken.length} broken)`);
  t.equal(whole, rows.size, `${when}: ${rows.size} packet rows, all whole`);
}

/** Opens the store the child uses, for inspection while the child is not running (PGlite allows one process). */
async function inspect<T>(db: TestDatabase, fn: (store: Store) => Promise<T>): Promise<T> {
  if (db.kind === 'postgres') return fn(db.store);
  const store = await openStore(db.config);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

for (const kind of kinds) {
  t.test(`SIGKILL while ${TOTAL} packets are posted and delivered, then restart (${kind})`, async (t) => {
    const started = Date.now();
    const receiver: WebhookRecorder = await startWebhookRecorder(t, ROUTE_SECRET);
    const db = await testDatabase(t, { kind, name: 'crash_safety' });
    const seeded = await seedDemoIfEmpty(db.store.db);
    const token = seeded?.find((c) => c.agency === SENDER)?.token;
    if (token === undefined) throw new Error('the demo seed did not create the sender client');
    await db.store.db.insertInto('routes').values({ id: 'webhook-crash', kind: 'webhook', url: receiver.url, secret: ROUTE_SECRET }).execute();
    await db.store.db.updateTable('agencies').set({ route_id: 'webhook-crash' }).where('code', '=', RECIPIENT).execute();
    // PGlite is one process per folder: the child opens it from now on (the helper's close at teardown is then a no-op).
    if (kind === 'pglite') await db.store.close();
    const env: Record<string, string> = { ...GATEWAY_ENV, ...(db.databaseUrl === undefined ? { DATA_DIR: db.dataDir } : { DATABASE_URL: db.databaseUrl }) };

    const packets = makePackets();
    const byDocument = new Map(packets.map((p) => [p.documentId, p]));
    const agent = new Agent({ connections: CONCURRENCY });
    t.teardown(() => agent.close());
    let gateway: GatewayProcess = await startGatewayProcess({ env });
    // Runs before the database teardown (registered earlier; teardowns run last-in first-out).
    t.teardown(() => gateway.kill());

    // Phase 1: post until KILL_AFTER_ACCEPTED posts got their 202, then kill the gateway with posts in flight.
    const firstRun = new Map<number, PostOutcome>();
    let accepted = 0;
    let stopPosting = false;
    let reachedKillPoint: () => void = () => undefined;
    const killPoint = new Promise<void>((resolve) => {
      reachedKillPoint = resolve;
    });
    const firstUrl = gateway.url;
    const posting = postAll(
      packets,
      (p) => post(agent, firstUrl, token, p.bytes),
      (p, outcome) => {
        firstRun.set(p.index, outcome);
        if (outcome.kind === 'answered' && outcome.status === 202 && ++accepted === KILL_AFTER_ACCEPTED) reachedKillPoint();
      },
      () => stopPosting,
    );
    await Promise.race([killPoint, posting.then(() => Promise.reject(new Error(`all posts ended before ${KILL_AFTER_ACCEPTED} were accepted`)))]);
    receiver.hold();
    await waitUntil(() => receiver.held().length > 0, 20_000, () => `no delivery reached the webhook after the hold; gateway output:\n${gateway.output()}`);
    stopPosting = true; // the posts in flight stay in flight: the kill cuts them off
    const killed = await gateway.kill();
    t.equal(killed.signal, 'SIGKILL', 'the gateway was SIGKILLed');
    await posting;
    receiver.release();
    const heldAtKill = receiver.held().map((r) => r.deliveryId);

    const accepted1 = new Map<string, Receipt>(); // documentId → receipt
    const noReply: TestPacket[] = [];
    const unexpected: string[] = [];
    for (const [index, outcome] of firstRun) {
      const p = packets[index];
      if (p === undefined) continue;
      if (outcome.kind === 'no-reply') noReply.push(p);
      else if (outcome.status === 202 && outcome.receipt !== undefined) accepted1.set(p.documentId, outcome.receipt);
      else unexpected.push(`${p.documentId}: HTTP ${outcome.status} ${outcome.body}`);
    }
    t.same(unexpected, [], 'before the kill, every answered post was a 202');
    t.ok(noReply.length > 0, `the kill cut ${noReply.length} posts off without a reply`);
    const unposted = packets.filter((p) => !firstRun.has(p.index));
    t.comment(`before the kill: ${accepted1.size} × 202, ${noReply.length} without reply, ${unposted.length} not yet posted; ${heldAtKill.length} deliveries held unanswered`);

    // The crash state, as the dead node left it.
    const committedWithoutReply = new Set<string>();
    await inspect(db, async (store) => {
      const rows = await packetRows(store);
      await checkWhole(t, store, rows, byDocument, 'after the kill');
      const missing202: string[] = [];
      for (const [documentId, receipt] of accepted1) {
        const row = rows.get(documentId);
        if (row?.id !== receipt.packetId || row.deliveries[0]?.id !== receipt.deliveries[0]?.deliveryId) missing202.push(documentId);
      }
      t.same(missing202, [], 'every 202 is in the database with the packet and delivery ids of its receipt');
      for (const p of noReply) if (rows.has(p.documentId)) committedWithoutReply.add(p.documentId);
      t.notOk(
        unposted.some((p) => rows.has(p.documentId)),
        'no packet that was never posted exists',
      );
      t.equal(rows.size, accepted1.size + committedWithoutReply.size, 'the database holds the 202s and the committed-but-unanswered posts, nothing else');
      const leased = [...rows.values()].filter((r) => r.deliveries[0]?.state === 'delivering').length;
      t.comment(`after the kill: ${rows.size} packets; ${committedWithoutReply.size} committed without a reply; ${leased} deliveries leased by the dead node`);
    });

    // Phase 2: restart on the same database; re-post the unanswered, post the rest.
    gateway = await startGatewayProcess({ env });
    const secondUrl = gateway.url;
    const secondRun = new Map<string, PostOutcome>();
    await postAll(
      [...noReply, ...unposted],
      (p) => post(agent, secondUrl, token, p.bytes),
      (p, outcome) => secondRun.set(p.documentId, outcome),
    );
    const bad: string[] = [];
    const finalReceipts = new Map<string, Receipt>(accepted1);
    for (const p of noReply) {
      const outcome = secondRun.get(p.documentId);
      // Committed before the kill → the original receipt (200); not committed → admitted now (202).
      const expected = committedWithoutReply.has(p.documentId) ? 200 : 202;
      if (outcome?.kind !== 'answered' || outcome.status !== expected || outcome.receipt === undefined) {
        bad.push(`${p.documentId}: expected ${expected}, got ${outcome?.kind === 'answered' ? `HTTP ${outcome.status} ${outcome.body}` : (outcome?.error ?? 'nothing')}`);
      } else finalReceipts.set(p.documentId, outcome.receipt);
    }
    t.same(bad, [], 're-posting an unanswered packet answers 200 if it had been committed, 202 if not — never 409 or 500');
    const badNew: string[] = [];
    for (const p of unposted) {
      const outcome = secondRun.get(p.documentId);
      if (outcome?.kind !== 'answered' || outcome.status !== 202 || outcome.receipt === undefined) badNew.push(p.documentId);
      else finalReceipts.set(p.documentId, outcome.receipt);
    }
    t.same(badNew, [], 'the packets not posted before the kill are admitted after the restart');
    t.equal(finalReceipts.size, TOTAL, `all ${TOTAL} packets hold a receipt`);

    // Every receipt's delivery reaches the webhook (the held ones and the dead node's leases after their expiry).
    const expectedIds = new Map<string, string>(); // deliveryId → packetId
    for (const r of finalReceipts.values()) for (const d of r.deliveries) expectedIds.set(d.deliveryId, r.packetId);
    const missing = (): string[] => [...expectedIds.keys()].filter((id) => !receiver.deliveryIds().has(id));
    await waitUntil(
      () => missing().length === 0,
      DELIVERED_WITHIN_MS,
      () => `${missing().length} of ${expectedIds.size} deliveries never reached the webhook within ${DELIVERED_WITHIN_MS} ms after the restart (e.g. ${missing().slice(0, 3).join(', ')}); gateway output:\n${gateway.output()}`,
    );
    const stopped = await gateway.stop();
    t.same(stopped, { code: 0, signal: null }, 'the restarted gateway shuts down gracefully');

    // What the receiver saw, deduped by delivery id.
    const seen = new Map<string, { packetIds: Set<string>; bodies: Set<string>; count: number }>();
    for (const r of receiver.received) {
      const entry = seen.get(r.deliveryId) ?? { packetIds: new Set<string>(), bodies: new Set<string>(), count: 0 };
      entry.packetIds.add(r.packetId);
      entry.bodies.add(r.bodySha256);
      entry.count++;
      seen.set(r.deliveryId, entry);
    }
    t.equal(receiver.received.filter((r) => !r.signatureOk).length, 0, 'every webhook request is signed with the route secret');
    t.same(
      [...seen.keys()].filter((id) => !expectedIds.has(id)),
      [],
      'no delivery id reached the webhook that no receipt names',
    );
    t.equal(seen.size, TOTAL, `after dedupe by delivery id: exactly ${TOTAL} deliveries, one per packet`);
    const inconsistent = [...seen].filter(([id, e]) => e.packetIds.size !== 1 || e.bodies.size !== 1 || !e.packetIds.has(expectedIds.get(id) ?? ''));
    t.same(inconsistent.map(([id]) => id), [], 'every request of one delivery id carries the same packet and the same bytes');
    const shaOfPacket = new Map([...finalReceipts].map(([documentId, r]) => [r.packetId, byDocument.get(documentId)?.sha256]));
    t.same(
      receiver.received.filter((r) => shaOfPacket.get(r.packetId) !== r.bodySha256).map((r) => r.deliveryId),
      [],
      'every delivered body is exactly the posted packet',
    );
    const redelivered = [...seen.values()].filter((e) => e.count > 1).length;
    t.ok(
      heldAtKill.every((id) => (seen.get(id)?.count ?? 0) >= 2),
      `the ${heldAtKill.length} deliveries in flight at the kill came again with the same delivery id`,
    );

    // The final state: every packet whole and delivered.
    await inspect(db, async (store) => {
      const rows = await packetRows(store);
      t.equal(rows.size, TOTAL, `${TOTAL} packets in the database`);
      await checkWhole(t, store, rows, byDocument, 'at the end');
      const undelivered = [...rows.values()].filter((r) => r.deliveries.some((d) => d.state !== 'delivered'));
      t.equal(undelivered.length, 0, 'every delivery is recorded delivered');
    });
    t.comment(
      `${kind}: ${receiver.received.length} webhook requests for ${seen.size} deliveries (${redelivered} delivered more than once); ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });
}
