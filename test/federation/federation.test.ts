// The federation scenario on three gateways over loopback (issue 6, acceptance): each gateway its
// own database — three Postgres databases when DATABASE_URL is set, and three PGlite ones always.

import t from 'tap';
import type { StoreDialect } from '../../src/store/open-store.ts';
import { postgresAvailable } from '../helpers/database.ts';
import { AGENCIES, formatTimeline, startFederation } from './federation-harness.ts';
import type { LinkMode } from './federation-harness.ts';
import { runScenario } from './scenario.ts';

const { P1_SENDER, P2_RECIPIENT, N_RECIPIENT } = AGENCIES;
const kinds: StoreDialect[] = postgresAvailable() ? ['postgres', 'pglite'] : ['pglite'];
// Four variants of about 10 s each when the machine is quiet; under the suite's parallel load (three
// gateways per variant, PGlite's start-up) they have taken over the default 120 s of a file.
t.setTimeout(kinds.length * 2 * 90_000);

for (const kind of kinds) {
  for (const mode of ['callback', 'poll'] as const satisfies readonly LinkMode[]) {
    t.test(`${kind}, ${mode}: P1 → N → P2 and back`, async (t) => {
      const h = await startFederation(t, { kind, mode });
      const r = await runScenario(h);
      if (process.env.EDXGATE_TEST_LOG === '1') for (const [node, events] of Object.entries(r.timelines)) t.comment(`${node}\n${formatTimeline(node as 'P1', events)}`);
      t.equal(r.postStatus, 202);
      t.same(r.posted.deliveries.map((d) => d.to).sort(), [N_RECIPIENT, P2_RECIPIENT].sort(), 'P1 queues one delivery per recipient');
      t.equal(r.received.p2.length, 1, 'P2 has one copy');
      t.equal(r.received.n.length, 1, 'N has one copy');
      t.equal(r.received.p2[0]?.sender, P1_SENDER);
      t.same(r.p1Statuses[P2_RECIPIENT], ['01', '03', '05', '06', '15'], 'P2’s statuses reach P1 in order, then its 15');
      t.same(r.p1Statuses[N_RECIPIENT], ['01'], 'N’s automatic 01 reaches P1');
      t.match(r.p1View[P2_RECIPIENT], { status: '06', recall: 'recalled' });
      t.match(r.p1View[N_RECIPIENT], { status: '01', recall: 'requested' }, 'N has not answered the recall');
      t.equal(r.recalls.p2.length, 1, 'the recall reaches P2 once');
      t.equal(r.recalls.n.length, 1, 'the recall reaches N once');
      t.equal(r.revocations.p2.length, 1, 'the revocation reaches P2 once');
      t.equal(r.revocations.n.length, 1, 'the revocation reaches N once');

      // Each hop is on the timelines: P1 delivered upstream; N received it from p1 and delivered to p2 and locally; P2 received it from N.
      const first = r.timelines;
      t.ok(first.P1.some((e) => e.type === 'delivered' && e.route === 'national' && e.recipient === P2_RECIPIENT), 'P1: delivered to P2’s agency over national');
      t.ok(first.N.some((e) => e.type === 'received' && e.route === 'p1' && e.via === 'sendEdoc'), 'N: received over p1 by sendEdoc');
      t.ok(first.N.some((e) => e.type === 'delivered' && e.route === 'p2' && e.recipient === P2_RECIPIENT), 'N: delivered over p2');
      const expectedVia = mode === 'callback' ? 'callback' : 'poll';
      t.ok(first.P2.some((e) => e.type === 'received' && e.route === 'national' && e.via === expectedVia && e.packetKind === 'document'), `P2: received from N by ${expectedVia}`);
      t.ok(first.P1.some((e) => e.type === 'received' && e.route === 'national' && e.packetKind === 'status'), 'P1: the statuses came back over national');
      t.notOk(first.P2.some((e) => e.type === 'delivered' && e.route === 'national' && e.packetKind === 'document'), 'P2 does not send the document back up for N’s agency');
      t.ok(r.revokeTimelines.P2.some((e) => e.type === 'status' && e.recallKind === 'revoke'), 'P2 opened the revocation');
      t.ok(r.revokeTimelines.N.some((e) => e.type === 'status' && e.recallKind === 'revoke'), 'N opened the revocation');
    });
  }
}
