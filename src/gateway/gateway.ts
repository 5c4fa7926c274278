// The gateway of one node, without HTTP: the store, the directory cache, authentication, intake, the
// delivery workers and the metrics, wired together. app.ts puts the HTTP API in front of it; tests
// and the CLI's in-process mode can use it directly.

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { DeliveryService } from '../delivery/delivery-service.ts';
import { ParsedPackets } from '../edxml/parsed-packets.ts';
import type { WorkersStatus } from '../delivery/delivery-service.ts';
import { createLogger } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import type { Metrics } from '../observability/metrics.ts';
import { AdmitTimings } from '../pipeline/admit-timings.ts';
import { Intake } from '../pipeline/intake.ts';
import { migrateToLatest, migrationStatus } from '../store/migrate.ts';
import { openStore } from '../store/open-store.ts';
import { queuedAny } from '../store/queries/admit-packet.ts';
import type { AdmittedPacket } from '../store/queries/admit-packet.ts';
import type { Store } from '../store/open-store.ts';
import { queueStats } from '../store/queries/queue-stats.ts';
import { EventDispatcher } from '../tracking/event-dispatcher.ts';
import { registerOverdueGauge } from '../tracking/overdue-metrics.ts';
import { Tracker } from '../tracking/tracker.ts';
import { serviceLevelOf } from '../tracking/working-day.ts';
import { registerCertificateExpiryGauge } from '../trust/expiry-metrics.ts';
import { ForwardSigner } from '../trust/forward-signer.ts';
import { OffloadPool } from '../offload/offload-pool.ts';
import { registerOffloadMetrics } from '../offload/offload-metrics.ts';
import { TrustService } from '../trust/trust-service.ts';
import { Backpressure } from './backpressure.ts';
import { ClientAuth } from './client-auth.ts';
import { DirectoryCache } from './directory-cache.ts';
import { Federation } from './federation.ts';

/** How a gateway is put together; every field is optional. */
export interface GatewayOptions {
  /** An open store to use (the caller keeps ownership and closes it); default: open the one the config names. */
  readonly store?: Store | undefined;
  /** The root logger; default: a pino logger on stdout at the config's level. */
  readonly logger?: Logger | undefined;
  /** Apply pending migrations when opening (default true). */
  readonly migrate?: boolean | undefined;
  /** Directory snapshot lifetime (default 5 s). */
  readonly directoryTtlMs?: number | undefined;
  /** Export Node process metrics (default true; tests running many gateways turn it off). */
  readonly processMetrics?: boolean | undefined;
  /** [0, 1) for retry jitter; default Math.random. */
  readonly random?: (() => number) | undefined;
}

/** What /health reports. */
export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly checks: {
    readonly database: { readonly ok: boolean; readonly dialect: Store['dialect']; readonly detail?: string | undefined };
    readonly migrations: { readonly ok: boolean; readonly current: string | null; readonly pending: readonly string[]; readonly detail?: string | undefined };
    readonly workers: { readonly ok: boolean } & WorkersStatus;
  };
}

/** One gateway node's services. */
export class Gateway {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly directory: DirectoryCache;
  readonly auth: ClientAuth;
  readonly intake: Intake;
  /** Writes each admitted packet's admit stage into its stage timings, batched off the request path. */
  readonly admitTimings: AdmitTimings;
  readonly delivery: DeliveryService;
  readonly tracker: Tracker;
  readonly trust: TrustService;
  /** Threads that parse, verify and sign packets beside the event loop. */
  readonly offload: OffloadPool;
  /** Refuses new packets with 503 while memory or the queue is over budget. */
  readonly backpressure: Backpressure;
  /** Pushes events to the office systems subscribed to them. */
  readonly events: EventDispatcher;
  /** The links to other gateways: admission over them, and the upstream pollers. */
  readonly federation: Federation;
  /** This node's id for its lifetime (NOTIFY payloads; lets the node tell its own notifications apart). */
  readonly nodeId: string = randomUUID();
  readonly #ownsStore: boolean;
  #state: 'open' | 'started' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | undefined;

  private constructor(config: Config, store: Store, ownsStore: boolean, logger: Logger, trust: TrustService, offload: OffloadPool, options: GatewayOptions) {
    this.config = config;
    this.trust = trust;
    this.offload = offload;
    const signingKey = trust.signingKey;
    this.store = store;
    this.#ownsStore = ownsStore;
    this.logger = logger;
    this.metrics = createMetrics({ queueSnapshot: () => queueStats(store.db), processMetrics: options.processMetrics ?? true });
    registerOverdueGauge(this.metrics.registry, {
      db: store.db,
      serviceLevel: serviceLevelOf(config),
      onError: (err) => logger.warn({ err }, 'overdue gauge read failed'),
    });
    registerOffloadMetrics(this.metrics.registry, offload);
    registerCertificateExpiryGauge(this.metrics.registry, {
      expiry: (days) => trust.expiry(days),
      onError: (error) => logger.warn({ err: error }, 'certificate expiry gauge: read failed'),
    });
    this.directory = new DirectoryCache(store, { ttlMs: options.directoryTtlMs, logger });
    this.backpressure = new Backpressure(config.overload, {
      queue: () => queueStats(store.db),
      logger,
    });
    this.auth = new ClientAuth(store, { adminToken: config.admin.token });
    const d = config.delivery;
    // Intake's parse of each packet, reused by the forwarding signer for the same bytes.
    const parsedPackets = new ParsedPackets();
    this.delivery = new DeliveryService(
      {
        workers: d.workers,
        batchSize: d.batchSize,
        routeMaxInFlight: d.routeMaxInFlight,
        leaseMs: d.leaseMs,
        maxAttempts: d.maxAttempts,
        retry: { baseMs: d.retryBaseMs, maxMs: d.retryMaxMs },
        circuitFailureThreshold: d.circuitFailureThreshold,
        circuitCooldownMs: d.circuitCooldownMs,
        sweepIntervalMs: d.sweepIntervalMs,
        defaultWebhookSecret: config.webhook.secret,
      },
      {
        store,
        routes: this.directory,
        metrics: this.metrics,
        logger,
        random: options.random,
        nodeId: this.nodeId,
        // A pushed document has reached its recipient: its sender gets 01 on the recipient's behalf.
        onReached: (deliveryId, delivery) => this.tracker.arrived(deliveryId, delivery),
        signer: signingKey === undefined ? undefined : new ForwardSigner(signingKey, trust.gatewayAgency, parsedPackets, offload),
        onClaimed: (queueWaitMs) => this.backpressure.observeQueueWait(queueWaitMs),
      },
    );
    this.events = new EventDispatcher({ db: store.db, logger }, { pollIntervalMs: config.tracking.eventsPollIntervalMs });
    this.tracker = new Tracker({
      store,
      directory: this.directory,
      budgetMs: config.budgetMs,
      logger,
      nodeId: this.nodeId,
      onAdmitted: (packet) => this.#admitted(packet),
    });
    this.admitTimings = new AdmitTimings(store.db, logger);
    this.intake = new Intake({
      store,
      admitTimings: this.admitTimings,
      directory: this.directory,
      metrics: this.metrics,
      budgetMs: config.budgetMs,
      nodeId: this.nodeId,
      tracker: this.tracker,
      trust,
      parsedPackets,
      work: offload,
      // NOTIFY reaches every node after COMMIT; this node's own workers are woken without the round trip.
      onAdmitted: (packet) => this.#admitted(packet),
    });
    this.federation = new Federation(
      { store, directory: this.directory, intake: this.intake, logger, canAdmit: () => this.backpressure.check() === undefined },
      config.axisClient,
    );
  }

  /**
   * After a COMMIT that admitted a packet: wakes this node's workers when it queued deliveries, and
   * counts the inbox deliveries it made available as delivered — no worker sees those.
   */
  #admitted(packet: AdmittedPacket | undefined): void {
    if (packet === undefined || queuedAny(packet)) this.delivery.wake();
    for (const d of packet?.deliveries ?? []) {
      if (d.available === undefined) continue;
      this.metrics.deliveryAttempts.inc({ route_kind: 'inbox', outcome: 'accepted' });
      this.metrics.endToEndLatency.observe({ route_kind: 'inbox' }, d.available.latencyMs / 1000);
      if (d.available.late) this.metrics.deadlineMisses.inc();
    }
  }

  /** Opens the store (unless given), applies migrations, and builds the services; workers are not started yet. */
  static async open(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
    const logger = options.logger ?? createLogger(config);
    const store = options.store ?? (await openStore(config, { log: logger }));
    let trust: TrustService | undefined;
    let offload: OffloadPool | undefined;
    try {
      if (options.migrate ?? true) {
        const applied = await migrateToLatest(store.db);
        if (applied.length > 0) logger.info({ applied }, 'database migrations applied');
      }
      // A trust store, binding file or signing key that cannot be used stops the start, naming it.
      trust = await TrustService.open(config.trust, store, logger);
      offload = await OffloadPool.start({ ...config.offload, logger });
      const gateway = new Gateway(config, store, options.store === undefined, logger, trust, offload, options);
      // Fail at start, not on the first packet, when the directory cannot be read.
      await gateway.directory.reload();
      return gateway;
    } catch (error) {
      await trust?.close().catch(() => undefined);
      await offload?.close().catch(() => undefined);
      if (options.store === undefined) await store.close().catch(() => undefined);
      throw error;
    }
  }

  /** Starts the delivery workers (idempotent). */
  async start(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'started';
    await this.delivery.start();
    this.tracker.start(this.config.delivery.sweepIntervalMs);
    await this.events.start();
    await this.federation.start();
    this.logger.info({ workers: this.config.delivery.workers, dialect: this.store.dialect }, 'delivery workers started');
  }

  /**
   * Stops the workers — deliveries in flight get up to the config's shutdown timeout — then closes
   * the store if the gateway opened it. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const { drained } = await this.stopWorkers();
      // After the HTTP server has closed (app.ts), so no admission records after this last write.
      await this.admitTimings.close();
      await this.trust.close();
      // After the HTTP server and the workers: nothing asks for a packet step any more.
      await this.offload.close();
      if (this.#ownsStore) await this.store.close();
      this.#state = 'closed';
      this.logger.info({ drained }, 'gateway closed');
    })();
    return this.#closing;
  }

  /**
   * Stops claiming new deliveries and waits (up to the shutdown timeout) for those in flight.
   * Shutdown calls it as soon as it begins, so deliveries drain while HTTP requests do. Idempotent.
   */
  stopWorkers(): Promise<{ readonly drained: boolean }> {
    this.#state = 'closing';
    return Promise.all([
      this.delivery.stop(this.config.server.shutdownTimeoutMs),
      this.tracker.stop(),
      this.backpressure.stop(),
      this.events.stop(this.config.server.shutdownTimeoutMs),
      this.federation.stop(),
    ]).then(([stopped]) => stopped);
  }

  /** Database reachable, migrations current, workers alive. */
  async health(): Promise<HealthReport> {
    const database: { ok: boolean; dialect: Store['dialect']; detail?: string } = { ok: true, dialect: this.store.dialect };
    try {
      await this.store.ping();
    } catch (error) {
      database.ok = false;
      database.detail = error instanceof Error ? error.message : String(error);
    }
    let migrations: HealthReport['checks']['migrations'];
    try {
      const status = await migrationStatus(this.store.db);
      migrations = { ok: status.pending.length === 0, current: status.current, pending: status.pending };
    } catch (error) {
      migrations = { ok: false, current: null, pending: [], detail: error instanceof Error ? error.message : String(error) };
    }
    const w = this.delivery.status();
    const workersOk = this.#state === 'started' && !w.stopping && w.running === w.configured;
    const workers = { ok: workersOk, ...w };
    const ok = database.ok && migrations.ok && workers.ok;
    return { status: ok ? 'ok' : 'unavailable', checks: { database, migrations, workers } };
  }
}
