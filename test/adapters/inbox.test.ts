import t from 'tap';
import pino from 'pino';
import { hasPull, type AdapterDeps } from '../../src/adapters/contract.ts';
import { InboxAdapter } from '../../src/adapters/inbox/inbox-adapter.ts';
import { runAdapterConformance, sampleRequest } from './conformance.ts';

const deps: AdapterDeps = { logger: pino({ level: 'silent' }), clock: () => new Date() };
const route = { id: 'route-inbox', kind: 'inbox' };

// An inbox has no remote side: no recipient can be down, slow or refusing, so only the common checks run.
await runAdapterConformance(t, 'inbox', () => new InboxAdapter(route, deps), { behaviours: [] });

t.test('inbox: has the pull capability; accepted means available, awaiting the ack', async (t) => {
  const adapter = new InboxAdapter(route, deps);
  t.ok(hasPull(adapter));
  await adapter.start();
  const request = sampleRequest(deps.clock);
  t.same(await adapter.deliver(request), {
    outcome: 'accepted',
    awaitsAck: true,
    detail: 'available in the inbox of 000.01.15.H47',
  });
  await adapter.close();
});
