// The one config schema: every key, its type, its default, its environment variable and what it is
// for. The `Config` type is derived from this object, so a key exists in exactly one place
// (DESIGN, Conventions: "the type is derived from the schema, never written twice").

import { DEFAULT_PAYLOAD_CACHE_BYTES } from '../store/payloads.ts';

/** A string setting; `optional` ones have no default and read as `undefined` when unset. */
export interface StringSpec {
  readonly type: 'string';
  readonly doc: string;
  readonly env?: string;
  readonly default?: string;
  readonly optional?: true;
  /** Never echoed in errors or logs (tokens, passwords in URLs). */
  readonly secret?: true;
  readonly minLength?: number;
  readonly pattern?: RegExp;
  /** What `pattern` means, for the error message. */
  readonly patternHint?: string;
}

/** An integer setting with an inclusive range. */
export interface IntegerSpec {
  readonly type: 'integer';
  readonly doc: string;
  readonly env?: string;
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
}

/** A boolean setting; the environment accepts true/false/1/0. */
export interface BooleanSpec {
  readonly type: 'boolean';
  readonly doc: string;
  readonly env?: string;
  readonly default: boolean;
}

/** A setting that takes one of a closed set of strings. */
export interface EnumSpec {
  readonly type: 'enum';
  readonly doc: string;
  readonly env?: string;
  readonly values: readonly string[];
  readonly default: string;
}

/** One leaf of the schema. */
export type LeafSpec = StringSpec | IntegerSpec | BooleanSpec | EnumSpec;

/** A group of settings; groups nest. No group has a key named `type` (that marks a leaf). */
export interface GroupSpec {
  readonly [key: string]: LeafSpec | GroupSpec;
}

/** pino levels accepted by LOG_LEVEL. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The schema. Env var names are the operator-facing contract; JSON files use the nested keys. */
export const CONFIG_SCHEMA = {
  server: {
    // 127.0.0.1 by default: a fresh `npm start` holds demo tokens and must not be reachable from the
    // network by accident. Containers set HOST=0.0.0.0 explicitly (the Dockerfile does).
    host: { type: 'string', env: 'HOST', default: '127.0.0.1', minLength: 1, doc: 'Address the HTTP server listens on.' },
    port: { type: 'integer', env: 'PORT', default: 8080, min: 0, max: 65535, doc: 'TCP port of the HTTP server (0 picks a free one).' },
    // 80 MiB: a 50 MB attachment (the seed 001 maximum) is about 67 MB once base64-encoded, plus the envelope.
    bodyLimitBytes: {
      type: 'integer',
      env: 'BODY_LIMIT_BYTES',
      default: 83_886_080,
      min: 1024,
      max: 1_073_741_824,
      doc: 'Largest request body accepted, in bytes.',
    },
    shutdownTimeoutMs: {
      type: 'integer',
      env: 'SHUTDOWN_TIMEOUT_MS',
      default: 10_000,
      min: 0,
      max: 600_000,
      doc: 'How long a graceful shutdown waits for in-flight requests and deliveries (give a container longer than this to stop).',
    },
  },
  store: {
    dataDir: { type: 'string', env: 'DATA_DIR', default: './data', minLength: 1, doc: 'Folder of the embedded database and the payload files (resolved against the working directory).' },
    databaseUrl: {
      type: 'string',
      env: 'DATABASE_URL',
      optional: true,
      secret: true,
      pattern: /^postgres(ql)?:\/\/\S+$/,
      patternHint: 'a postgres:// or postgresql:// connection URL',
      doc: 'Postgres connection URL; unset runs the embedded PGlite database in DATA_DIR.',
    },
    payloadCacheBytes: {
      type: 'integer',
      env: 'PAYLOAD_CACHE_BYTES',
      default: DEFAULT_PAYLOAD_CACHE_BYTES,
      min: 0,
      max: 68_719_476_736,
      doc: 'Memory for the bytes of recently admitted packets, so their deliveries need not read them back from storage (0: none); a packet over a quarter of it is not kept.',
    },
    poolSize: { type: 'integer', env: 'DATABASE_POOL_SIZE', default: 10, min: 1, max: 500, doc: 'Connections in the Postgres pool (the listener uses one more).' },
    preparedStatements: {
      type: 'boolean',
      env: 'DATABASE_PREPARED_STATEMENTS',
      default: true,
      doc: 'Run queries as named prepared statements (planned once per connection); set false behind a pooler that does not support them, such as PgBouncer before 1.21 in transaction mode.',
    },
    planCacheMode: {
      type: 'enum',
      env: 'DATABASE_PLAN_CACHE_MODE',
      values: ['force_generic_plan', 'auto', 'force_custom_plan'],
      default: 'force_generic_plan',
      doc: "Postgres plan_cache_mode of the pool's sessions. The default plans each prepared statement once; `auto` lets Postgres re-plan a statement on every execution when it judges its generic plan costlier, which it does for the admitting statement (see docs/benchmarks.md).",
    },
  },
  log: {
    level: { type: 'enum', env: 'LOG_LEVEL', values: LOG_LEVELS, default: 'info', doc: 'pino log level.' },
  },
  budgetMs: {
    type: 'integer',
    env: 'BUDGET_MS',
    default: 5000,
    min: 1,
    max: 3_600_000,
    // seed 000, Điều 9.5: at most 5 s per send/receive.
    doc: 'End-to-end budget of one send/receive; deadline = admission + budget.',
  },
  delivery: {
    workers: { type: 'integer', env: 'DELIVERY_WORKERS', default: 4, min: 0, max: 256, doc: 'Delivery workers per node, each with up to DELIVERY_BATCH_SIZE deliveries in flight (0 disables delivery on this node).' },
    batchSize: { type: 'integer', env: 'DELIVERY_BATCH_SIZE', default: 10, min: 1, max: 1000, doc: 'Deliveries one worker has in flight at most, and claims per query; it claims again as they finish, not only once all have.' },
    routeMaxInFlight: {
      type: 'integer',
      env: 'DELIVERY_ROUTE_MAX_IN_FLIGHT',
      default: 20,
      min: 1,
      max: 100_000,
      doc: "Deliveries to one route this node has in flight at most; that route's other due deliveries wait for a later claim, so one receiver that holds its answers cannot take every worker slot from the rest.",
    },
    maxAttempts: { type: 'integer', env: 'DELIVERY_MAX_ATTEMPTS', default: 10, min: 1, max: 1000, doc: 'Attempts before a delivery is dead-lettered.' },
    leaseMs: {
      type: 'integer',
      env: 'DELIVERY_LEASE_MS',
      default: 30_000,
      min: 100,
      max: 3_600_000,
      doc: 'How long a claimed delivery stays reserved; an expired lease (crashed node) is claimed again.',
    },
    retryBaseMs: { type: 'integer', env: 'RETRY_BASE_MS', default: 250, min: 1, max: 3_600_000, doc: 'First retry delay; doubles per attempt, with jitter.' },
    retryMaxMs: { type: 'integer', env: 'RETRY_MAX_MS', default: 300_000, min: 1, max: 86_400_000, doc: 'Longest retry delay.' },
    circuitFailureThreshold: {
      type: 'integer',
      env: 'CIRCUIT_FAILURE_THRESHOLD',
      default: 5,
      min: 1,
      max: 10_000,
      doc: 'Consecutive failures that open the circuit of a route.',
    },
    circuitCooldownMs: { type: 'integer', env: 'CIRCUIT_COOLDOWN_MS', default: 30_000, min: 1, max: 3_600_000, doc: 'How long an open circuit waits before a trial call.' },
    sweepIntervalMs: {
      type: 'integer',
      env: 'SWEEP_INTERVAL_MS',
      default: 5000,
      min: 10,
      max: 3_600_000,
      doc: 'Fallback poll for due deliveries; notifications wake workers earlier, correctness never depends on them.',
    },
  },
  webhook: {
    secret: { type: 'string', env: 'WEBHOOK_SECRET', optional: true, secret: true, minLength: 16, doc: 'Default HMAC-SHA256 key for webhook signatures (a route may carry its own).' },
  },
  tracking: {
    // NĐ 30/2020 Điều 21: receipt is to be confirmed the same (working) day.
    workdayEnd: {
      type: 'string',
      env: 'TRACKING_WORKDAY_END',
      default: '17:00',
      pattern: /^([01]\d|2[0-3]):[0-5]\d$/,
      patternHint: 'HH:mm, Vietnam time',
      doc: 'End of the working day (Vietnam time): a delivered document not confirmed (03 or 02) by then is overdue.',
    },
    workingDays: {
      type: 'string',
      env: 'TRACKING_WORKING_DAYS',
      default: '1,2,3,4,5',
      pattern: /^[1-7](,[1-7])*$/,
      patternHint: 'ISO weekdays 1 (Monday) … 7 (Sunday), comma-separated',
      doc: 'Working weekdays.',
    },
    holidays: {
      type: 'string',
      env: 'TRACKING_HOLIDAYS',
      optional: true,
      pattern: /^\d{4}-\d{2}-\d{2}(,\d{4}-\d{2}-\d{2})*$/,
      patternHint: 'yyyy-mm-dd dates, comma-separated',
      doc: 'Public holidays (not working days).',
    },
    eventsPollIntervalMs: {
      type: 'integer',
      env: 'EVENTS_POLL_INTERVAL_MS',
      default: 1000,
      min: 50,
      max: 3_600_000,
      doc: 'How often the event dispatcher looks for events to push to webhook subscriptions.',
    },
  },
  trust: {
    signaturePolicy: {
      type: 'enum',
      env: 'SIGNATURE_POLICY',
      values: ['require', 'verify-if-present', 'off'],
      default: 'verify-if-present',
      doc: 'Default signature policy of agencies that have none of their own (see docs/trust.md).',
    },
    anchors: { type: 'string', env: 'TRUST_ANCHORS', optional: true, doc: 'PEM file or folder of trusted CA certificates (added to those in the database).' },
    intermediates: {
      type: 'string',
      env: 'TRUST_INTERMEDIATES',
      optional: true,
      doc: 'PEM file or folder of intermediate CA certificates used to build chains (not trusted by themselves).',
    },
    binding: {
      type: 'string',
      env: 'TRUST_BINDING',
      optional: true,
      doc: 'JSON file binding signer certificates to agencies (fingerprints, subject patterns, fallback; docs/trust.md); added to the certificates bound in the database.',
    },
    revocation: {
      type: 'enum',
      env: 'TRUST_REVOCATION',
      values: ['soft-fail', 'hard-fail'],
      default: 'soft-fail',
      doc: 'When no current CRL covers a certificate: accept it (soft-fail, recorded) or refuse it (hard-fail).',
    },
    crlUrls: { type: 'string', env: 'TRUST_CRL_URLS', optional: true, doc: 'Extra CRL URLs to fetch, comma-separated (besides the certificates\' distribution points).' },
    crlDir: { type: 'string', env: 'TRUST_CRL_DIR', optional: true, doc: 'Folder where fetched CRLs are kept across restarts.' },
    crlRefreshMs: { type: 'integer', env: 'TRUST_CRL_REFRESH_MS', default: 3_600_000, min: 1000, max: 604_800_000, doc: 'How often CRLs are fetched ahead of time.' },
    signingKey: { type: 'string', env: 'SIGNING_KEY', optional: true, doc: "The gateway's signing key: a PKCS#12 file (.p12/.pfx) or a PEM private key; unset: the gateway does not sign." },
    signingCert: { type: 'string', env: 'SIGNING_CERT', optional: true, doc: 'PEM certificate (and chain) of a PEM signing key.' },
    signingKeyPassword: { type: 'string', env: 'SIGNING_KEY_PASSWORD', optional: true, secret: true, doc: 'Password of the PKCS#12 file.' },
    gatewayAgency: {
      type: 'string',
      env: 'GATEWAY_AGENCY_CODE',
      optional: true,
      doc: 'Agency code of this gateway, written in the TraceHeader it adds when it signs what it forwards.',
    },
  },
  overload: {
    maxRssBytes: {
      type: 'integer',
      env: 'MEMORY_BUDGET_BYTES',
      default: 2_147_483_648,
      min: 0,
      max: 1_099_511_627_776,
      doc: 'Resident memory of this node above which new packets are refused with 503 and Retry-After (0: no limit).',
    },
    maxQueueDepth: {
      type: 'integer',
      env: 'QUEUE_BUDGET',
      default: 100_000,
      min: 0,
      max: 100_000_000,
      doc: 'Deliveries queued or in flight (all nodes) above which new packets are refused with 503 and Retry-After (0: no limit).',
    },
    maxQueueWaitMs: {
      type: 'integer',
      env: 'QUEUE_WAIT_BUDGET_MS',
      default: 2_000,
      min: 0,
      max: 3_600_000,
      doc: 'How long the longest-waiting due delivery may have waited for a worker (all nodes) before new packets are refused with 503 and Retry-After, so that the workers catch up and what is admitted still meets the delivery budget (0: no limit).',
    },
    retryAfterSeconds: { type: 'integer', env: 'OVERLOAD_RETRY_AFTER_S', default: 5, min: 1, max: 3600, doc: 'The Retry-After of an overload refusal.' },
  },
  offload: {
    threads: {
      type: 'integer',
      env: 'OFFLOAD_THREADS',
      default: 1,
      min: 0,
      max: 64,
      doc: 'Threads beside the event loop that parse packets, check their signatures and sign what is forwarded, so the event loop stays free for requests and deliveries (0: all of it on the event loop). One suits a 2-core node; more help only where cores are left over beside the event loop and the database.',
    },
    minBytes: {
      type: 'integer',
      env: 'OFFLOAD_MIN_BYTES',
      default: 16_384,
      min: 0,
      max: 1_073_741_824,
      doc: 'Packets smaller than this are handled on the event loop: for a few kilobytes, handing the packet to a thread and back costs more CPU than the work it moves.',
    },
    maxBytes: {
      type: 'integer',
      env: 'OFFLOAD_MAX_BYTES',
      default: 4_194_304,
      min: 0,
      max: 1_073_741_824,
      doc: "Packets larger than this are parsed, checked and signed on the event loop: a thread works on a copy of the packet, and a large packet's copy would break the memory bound (peak RSS at most twice the packet).",
    },
  },
  demo: {
    seed: {
      type: 'boolean',
      env: 'DEMO_SEED',
      default: true,
      doc: 'On an empty database, create the demo directory and a client per demo agency, and print their tokens (set false in production).',
    },
  },
  axisCompat: {
    // The loader counts an empty environment variable as unset, so `off` is the way to disable the
    // API from the environment; an empty string does it in a config file.
    prefix: {
      type: 'string',
      env: 'AXIS_PREFIX',
      default: '/axis',
      pattern: /^(|off|(\/[A-Za-z0-9._~-]+)+)$/,
      patternHint: 'a path such as /axis (no trailing slash), or off / empty to disable',
      doc: 'URL prefix of the axis-compatible API (the national axis SDK operations, docs/axis.md); off (or an empty string in a config file) disables it.',
    },
  },
  axisClient: {
    poll: {
      type: 'boolean',
      env: 'AXIS_POLL',
      default: true,
      doc: 'Poll the upstream axis routes (docs/federation.md); false leaves it to their callbacks. One node polls each upstream at a time.',
    },
    // 100 ms floor: a national axis is polled by every province; faster gains nothing a callback would not.
    pollIntervalMs: {
      type: 'integer',
      env: 'AXIS_POLL_INTERVAL_MS',
      default: 1000,
      min: 100,
      max: 3_600_000,
      doc: 'Pause between two polls of an upstream (edoc and status each) when the last found nothing more.',
    },
    callTimeoutMs: {
      type: 'integer',
      env: 'AXIS_CALL_TIMEOUT_MS',
      default: 30_000,
      min: 100,
      max: 600_000,
      doc: "Timeout of each poll call to an upstream (list, getEdoc, updateStatus, getAgenciesList); sends take the packet's remaining budget like every delivery.",
    },
  },
  admin: {
    // A config secret rather than a client flag: operators hold it apart from the agencies' tokens,
    // and unset (the default) leaves the admin endpoints closed.
    token: { type: 'string', env: 'ADMIN_TOKEN', optional: true, secret: true, minLength: 16, doc: 'Bearer token of the admin endpoints (dead letter, re-queue); unset disables them.' },
  },
} as const satisfies GroupSpec;

type ValueOf<L> = L extends { readonly type: 'string'; readonly optional: true }
  ? string | undefined
  : L extends { readonly type: 'string' }
    ? string
    : L extends { readonly type: 'integer' }
      ? number
      : L extends { readonly type: 'boolean' }
        ? boolean
        : L extends { readonly type: 'enum'; readonly values: readonly (infer V)[] }
          ? V
          : never;

/** The value type described by a schema group (deeply readonly). */
export type ConfigOf<S> = {
  readonly [K in keyof S]: S[K] extends { readonly type: string } ? ValueOf<S[K]> : ConfigOf<S[K]>;
};

/** The validated, frozen configuration of one gateway. */
export type Config = ConfigOf<typeof CONFIG_SCHEMA>;

/** A partial config in the shape of the JSON files (null = unset), e.g. overrides given by tests. */
export type ConfigInput = InputOf<typeof CONFIG_SCHEMA>;

type InputOf<S> = {
  readonly [K in keyof S]?: S[K] extends { readonly type: string } ? ValueOf<S[K]> | null : InputOf<S[K]>;
};

/** True for a leaf of the schema (a group never has a string-valued `type`). */
export function isLeaf(node: LeafSpec | GroupSpec): node is LeafSpec {
  return typeof node.type === 'string';
}
