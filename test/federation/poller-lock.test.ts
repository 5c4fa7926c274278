// One poller per upstream across all nodes (issue 6): two gateway nodes on one Postgres database
// share an upstream; only the node holding the upstream's advisory lock polls it, and when that node
// stops or loses its database session, the other takes over. Postgres only: PGlite is one process
// on one folder, i.e. one node, and its lock is trivially held.

import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { buildApp } from '../../src/app.ts';
import type { EdxApp } from '../../src/app.ts';
import { newClientToken } from '../../src/gateway/demo-seed.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { putRoutePattern, putUpstreamRoute } from '../../src/store/queries/federation-links.ts';
import { postgresAvailable, testDatabase } from '../helpers/database.ts';
import { listenOnLoopback } from '../helpers/loopback.ts';

const LOCK_NAME = 'edxgate:axis-poller:national';
/** Safety nets only: the loser retries the lock every 5 s (LOCK_CHECK_MS). */
const TAKEOVER_WAIT_MS = 20_000;

async function waitUntil(done: () => boolean | Promise<boolean>, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(message());
    await sleep(50);
  }
}

if (!postgresAvailable()) {
  t.comment('no DATABASE_URL: the poller lock is a Postgres advisory lock; PGlite is one node');
} else {
  t.test('two nodes, one upstream: one polls it, and the other takes over when it stops', async (t) => {
    // The upstream: answers every list with nothing waiting, and counts the lists.
    let lists = 0;
    const upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url?.endsWith('/getReceivedEdocList') === true) lists++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ status: 'OK', ErrorCode: '0', ErrorDesc: 'Thành công', data: [] }));
      });
    });
    const upstreamUrl = await listenOnLoopback(t, upstream);

    const db = await testDatabase(t, { kind: 'postgres', config: { log: { level: 'silent' }, axisClient: { poll: true, pollIntervalMs: 100, callTimeoutMs: 2000 } } });
    await putUpstreamRoute(db.store.db, { id: 'national', url: `${upstreamUrl}/axis`, systemid: 'p1.gateway', secret: 'upstream-secret-0123456789', tokenHash: newClientToken().hash });
    await putRoutePattern(db.store.db, { pattern: '*', routeId: 'national' });

    const logger = createLogger({ log: { level: 'silent' } });
    const nodes: EdxApp[] = [];
    for (const store of [db.store, await db.openAnother()]) {
      const app = await buildApp(db.config, { store, logger, processMetrics: false, startWorkers: true });
      nodes.push(app);
      await app.ready();
    }
    const closed = new Set<EdxApp>();
    t.teardown(async () => {
      for (const app of nodes) if (!closed.has(app)) await app.close();
    });
    const pollingNodes = (): EdxApp[] => nodes.filter((app) => !closed.has(app) && app.gateway.federation.polling().includes('national'));

    await waitUntil(() => pollingNodes().length === 1, TAKEOVER_WAIT_MS, () => 'no node took the upstream');
    const holder = pollingNodes()[0];
    // Both nodes keep trying the lock every few seconds; across that span the upstream still has one poller.
    const seenTwo: number[] = [];
    const before = lists;
    for (let i = 0; i < 60; i++) {
      if (pollingNodes().length !== 1) seenTwo.push(pollingNodes().length);
      await sleep(100);
    }
    t.same(seenTwo, [], 'exactly one node polls the upstream at every look over 6 s');
    t.ok(lists > before, `the holder polls (${lists - before} lists in 6 s)`);
    // One poller lists at most twice per interval (its edoc and status loops): 120 lists in 6 s at
    // 100 ms; a second poller would double it. A slow machine lists less, never more.
    t.ok(lists - before <= 180, `no more lists than one poller makes (${lists - before} in 6 s; two pollers: ~240)`);

    // The holder stops (shutdown releases the lock): the other node takes the upstream.
    if (holder === undefined) throw new Error('unreachable: one node polls');
    await holder.close();
    closed.add(holder);
    await waitUntil(() => pollingNodes().length === 1, TAKEOVER_WAIT_MS, () => 'the remaining node did not take the upstream over');
    t.not(pollingNodes()[0], holder, 'the other node polls now');
    const afterTakeover = lists;
    await waitUntil(() => lists > afterTakeover, 5000, () => 'the new holder does not poll');
    t.pass('the new holder polls the upstream');
  });
}
