// The adapter conformance suite: what the delivery layer relies on, checked the same way for every
// adapter. An adapter's test file calls runAdapterConformance with a factory that builds the adapter
// for a test recipient behaving a given way; the suite never knows how that recipient is made.

import { createHash, randomUUID } from 'node:crypto';
import type { Test } from 'tap';
import {
  hasPull,
  isDeliveryResult,
  type Adapter,
  type DeliveryRequest,
  type DeliveryResult,
} from '../../src/adapters/contract.ts';
import { EdxError } from '../../src/errors.ts';

/** How the test recipient behind an adapter behaves. */
export type RecipientBehaviour =
  | 'ok' // takes the packet
  | 'failing' // answers with a transient failure (e.g. HTTP 500)
  | 'unreachable' // nobody listens (connection refused)
  | 'slow' // takes longer than any deadline
  | 'refusing'; // refuses the packet for good (e.g. HTTP 404)

/** The outcome the contract demands for each behaviour. */
export const EXPECTED_OUTCOME: Readonly<Record<RecipientBehaviour, DeliveryResult['outcome']>> = {
  ok: 'accepted',
  failing: 'retry',
  unreachable: 'retry',
  slow: 'retry',
  refusing: 'rejected',
};

/** Builds a fresh, not yet started adapter whose recipient behaves as asked. */
export type MakeAdapter = (recipient: RecipientBehaviour) => Adapter | Promise<Adapter>;

/** What the adapter's test file tells the suite about its recipients. */
export interface ConformanceScenario {
  /** Behaviours besides `ok` the adapter can meet (a pull adapter has no remote side: none). */
  readonly behaviours: readonly Exclude<RecipientBehaviour, 'ok'>[];
  /** Delivery ids the recipients received since the last call, in arrival order; push adapters only. */
  readonly takeReceivedIds?: (() => readonly string[]) | undefined;
  /** The clock the adapters were given; deadlines are set against it. Default: the real clock. */
  readonly clock?: (() => Date) | undefined;
}

/** A small document packet as the delivery layer would hand it over. */
export function sampleRequest(clock: () => Date, overrides: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return {
    deliveryId: randomUUID(),
    packetId: randomUUID(),
    // Non-ASCII on purpose: Vietnamese notations reach every adapter.
    documentId: '000.00.15.H47,2025/03/05,123/SLĐTBXH-VP',
    kind: 'document',
    sender: '000.00.15.H47',
    recipient: '000.01.15.H47',
    priority: 0,
    edxml: Buffer.from(
      '<?xml version="1.0" encoding="UTF-8"?>\n<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">' +
        '<edXML:edXMLHeader><edXML:MessageHeader><edXML:Subject>Về việc thử nghiệm</edXML:Subject></edXML:MessageHeader>' +
        '</edXML:edXMLHeader></edXML:edXMLEnvelope>\n',
      'utf8',
    ),
    deadline: new Date(clock().getTime() + 5000),
    attempt: 1,
    ...overrides,
  };
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Runs the conformance checks for one adapter as a tap subtest named `name`. */
export function runAdapterConformance(
  t: Test,
  name: string,
  makeAdapter: MakeAdapter,
  scenario: ConformanceScenario,
): Promise<unknown> {
  const clock = scenario.clock ?? ((): Date => new Date());
  return t.test(`${name}: adapter conformance`, async (t) => {
    const made: Adapter[] = [];
    const make = async (recipient: RecipientBehaviour): Promise<Adapter> => {
      const adapter = await makeAdapter(recipient);
      made.push(adapter);
      return adapter;
    };
    const started = async (recipient: RecipientBehaviour): Promise<Adapter> => {
      const adapter = await make(recipient);
      await adapter.start();
      return adapter;
    };
    // Drop what earlier subtests left in the recipients' log.
    const takeIds = (): readonly string[] | undefined => scenario.takeReceivedIds?.();
    t.teardown(async () => {
      await Promise.all(made.map((adapter) => adapter.close()));
    });

    t.test('has a kind and the four methods', async (t) => {
      const adapter = await make('ok');
      t.type(adapter.kind, 'string');
      t.not(adapter.kind, '');
      for (const method of ['start', 'deliver', 'health', 'close'] as const) t.type(adapter[method], 'function', method);
    });

    t.test('lifecycle: start and close are idempotent, health follows, closed is final', async (t) => {
      const adapter = await make('ok');
      t.equal((await adapter.health()).ok, false, 'not ok before start');
      await adapter.start();
      await adapter.start();
      t.equal((await adapter.health()).ok, true, 'ok once started (twice)');
      await adapter.close();
      await adapter.close();
      const closed = await adapter.health();
      t.equal(closed.ok, false, 'not ok once closed (twice)');
      t.type(closed.detail, 'string', 'says why');
      const error = await adapter.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      t.ok(error instanceof EdxError && error.code === 'EDX_ERR_ADAPTER_NOT_RUNNING', 'start after close: EdxError EDX_ERR_ADAPTER_NOT_RUNNING');
      const never = await make('ok');
      await never.close();
      t.equal((await never.health()).ok, false, 'close without start is fine');
    });

    t.test('deliver before start or after close: a catalogued retry, not a throw', async (t) => {
      const adapter = await make('ok');
      const before = await adapter.deliver(sampleRequest(clock));
      t.ok(isDeliveryResult(before), 'a DeliveryResult');
      t.match(before, { outcome: 'retry', code: 'EDX_ERR_ADAPTER_NOT_RUNNING' });
      await adapter.start();
      await adapter.close();
      const after = await adapter.deliver(sampleRequest(clock));
      t.ok(isDeliveryResult(after), 'a DeliveryResult');
      t.match(after, { outcome: 'retry', code: 'EDX_ERR_ADAPTER_NOT_RUNNING' });
      t.same(takeIds() ?? [], [], 'nothing reached the recipient');
    });

    t.test('a normal packet is accepted, documents and statuses alike, bytes untouched', async (t) => {
      const adapter = await started('ok');
      for (const kind of ['document', 'status'] as const) {
        const request = sampleRequest(clock, { kind });
        const digest = sha256(request.edxml);
        const result = await adapter.deliver(request);
        t.ok(isDeliveryResult(result), `${kind}: a DeliveryResult`);
        t.equal(result.outcome, 'accepted', `${kind}: accepted`);
        // The delivery layer tells "available" from "delivered" by this flag alone.
        if (result.outcome === 'accepted') {
          t.equal(result.awaitsAck === true, hasPull(adapter), `${kind}: awaitsAck exactly when the adapter pulls`);
        }
        t.equal(sha256(request.edxml), digest, `${kind}: the packet bytes are unchanged`);
        const ids = takeIds();
        if (ids) t.same(ids, [request.deliveryId], `${kind}: the recipient got it once`);
      }
    });

    t.test('a late delivery (deadline passed) still gets a real try', async (t) => {
      const adapter = await started('ok');
      const request = sampleRequest(clock, { deadline: new Date(clock().getTime() - 60_000), attempt: 4 });
      t.match(await adapter.deliver(request), { outcome: 'accepted' });
      const ids = takeIds();
      if (ids) t.same(ids, [request.deliveryId]);
    });

    t.test('the delivery id is passed through unchanged across retries', async (t) => {
      const first = sampleRequest(clock);
      const ids: string[] = [];
      if (scenario.behaviours.includes('failing')) {
        const failing = await started('failing');
        t.match(await failing.deliver(first), { outcome: 'retry' }, 'attempt 1 fails');
        ids.push(first.deliveryId);
      }
      const ok = await started('ok');
      for (const attempt of [2, 3]) {
        t.match(await ok.deliver({ ...first, attempt }), { outcome: 'accepted' }, `attempt ${attempt}`);
        ids.push(first.deliveryId);
      }
      const received = takeIds();
      if (received) t.same(received, ids, 'the recipient saw the same id on every attempt');
    });

    t.test('concurrent deliveries each get their own result', async (t) => {
      const adapter = await started('ok');
      const requests = Array.from({ length: 8 }, () => sampleRequest(clock));
      const results = await Promise.all(requests.map((request) => adapter.deliver(request)));
      t.ok(results.every((r) => r.outcome === 'accepted'), 'all accepted');
      const received = takeIds();
      if (received) t.same([...received].sort(), requests.map((r) => r.deliveryId).sort(), 'each id once');
    });

    for (const behaviour of scenario.behaviours) {
      t.test(`a recipient that is ${behaviour}: ${EXPECTED_OUTCOME[behaviour]}, never a throw`, async (t) => {
        const adapter = await started(behaviour);
        // A slow recipient must be cut off by the deadline: give it one that is already close.
        const deadline = new Date(clock().getTime() + (behaviour === 'slow' ? 100 : 5000));
        const result = await adapter.deliver(sampleRequest(clock, { deadline }));
        t.ok(isDeliveryResult(result), 'a DeliveryResult with a catalogued code');
        t.equal(result.outcome, EXPECTED_OUTCOME[behaviour]);
        if (result.outcome !== 'accepted') t.not(result.reason, '', 'says why');
        t.equal((await adapter.health()).ok, true, 'a failing recipient does not make the adapter unhealthy');
        takeIds();
      });
    }

    t.test('close lets a delivery already in flight finish with a result', async (t) => {
      const adapter = await started('ok');
      const request = sampleRequest(clock);
      const delivering = adapter.deliver(request);
      await adapter.close();
      t.match(await delivering, { outcome: 'accepted' });
      const ids = takeIds();
      if (ids) t.same(ids, [request.deliveryId]);
    });
  });
}
