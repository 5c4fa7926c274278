// Federation latency (issue 6): documents from an office system in province P1 to an agency in
// province P2 go P1 → N → P2 across three gateways on loopback (test/federation/federation-harness.ts),
// once with P2 polling N every 100 ms and once with N pushing to P2's callback. Open loop at a fixed
// arrival rate; a document's latency runs from its scheduled post at P1 to its admission at P2 (the
// moment P2's recipient can pull it from its inbox), read from P2's packets table. Target: p99 ≤ 250 ms.
//
//   npm run bench:federation [-- --mode poll|callback|both] [--rate 10] [--duration 30] [--json]
//
// Three Postgres databases when DATABASE_URL is set, else three embedded ones. The three gateways
// run in this one process beside the generator, so on a 2-core machine they share its cores: the
// figures are those of a whole federation on one small machine, not of one node.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { AGENCIES, federationDocument, office, startFederation } from '../test/federation/federation-harness.ts';
import type { FederationHarness, LinkMode } from '../test/federation/federation-harness.ts';
import { formatTable } from '../src/cli/command.ts';
import { openLoop } from './lib/open-loop.ts';
import { ms, summarize } from './lib/stats.ts';
import type { LatencySummary } from './lib/stats.ts';

const TARGET_P99_MS = 250;
const WARM_UP_DOCUMENTS = 20;
/** How long after the last post a document may still arrive before it counts as missing. */
const ARRIVAL_GRACE_MS = 30_000;

const USAGE = 'usage: npm run bench:federation [-- --mode poll|callback|both] [--rate R] [--duration S] [--json]';

interface Options {
  readonly modes: readonly LinkMode[];
  readonly rate: number;
  readonly durationS: number;
  readonly json: boolean;
}

interface ModeReport {
  readonly mode: LinkMode;
  readonly database: 'postgres' | 'pglite';
  readonly rate: number;
  readonly durationS: number;
  readonly posted: number;
  readonly refused: number;
  readonly missing: number;
  /** Scheduled post at P1 → admitted at P2. */
  readonly endToEnd: LatencySummary;
  /** Scheduled post at P1 → P1's 202. */
  readonly postAnswered: LatencySummary;
  readonly targetP99Ms: number;
  readonly targetMet: boolean;
}

function parseOptions(argv: readonly string[]): Options | string {
  let values: { mode?: string | undefined; rate?: string | undefined; duration?: string | undefined; json?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { mode: { type: 'string' }, rate: { type: 'string' }, duration: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const mode = values.mode ?? 'both';
  if (mode !== 'poll' && mode !== 'callback' && mode !== 'both') return `--mode must be poll, callback or both, not "${mode}"`;
  const rate = Number(values.rate ?? 10);
  if (!Number.isFinite(rate) || rate <= 0 || rate > 1000) return `--rate must be a number of documents per second in (0, 1000], not "${values.rate ?? ''}"`;
  const durationS = Number(values.duration ?? 30);
  if (!Number.isFinite(durationS) || durationS <= 0 || durationS > 3600) return `--duration must be seconds in (0, 3600], not "${values.duration ?? ''}"`;
  return { modes: mode === 'both' ? ['poll', 'callback'] : [mode], rate, durationS, json: values.json === true };
}

/** When each of `documentIds` was admitted at P2 (wall-clock ms), as far as they have arrived. */
async function admittedAtP2(h: FederationHarness, documentIds: readonly string[]): Promise<Map<string, number>> {
  const arrived = new Map<string, number>();
  // In slices: a long IN list is one statement per few hundred documents, not one per document.
  for (let i = 0; i < documentIds.length; i += 500) {
    const rows = await h.p2.db.store.db
      .selectFrom('packets')
      .select(['document_id', 'admitted_at'])
      .where('kind', '=', 'document')
      .where('document_id', 'in', documentIds.slice(i, i + 500))
      .execute();
    for (const row of rows) arrived.set(row.document_id, new Date(row.admitted_at).getTime());
  }
  return arrived;
}

/** Waits until every one of `documentIds` is at P2, or the grace is over; returns what arrived. */
async function waitForArrivals(h: FederationHarness, documentIds: readonly string[], graceMs: number): Promise<Map<string, number>> {
  const until = Date.now() + graceMs;
  for (;;) {
    const arrived = await admittedAtP2(h, documentIds);
    if (arrived.size === documentIds.length || Date.now() > until) return arrived;
    await sleep(200);
  }
}

async function runMode(mode: LinkMode, options: Options, log: (line: string) => void): Promise<ModeReport> {
  const database = process.env.DATABASE_URL ? 'postgres' : 'pglite';
  const cleanups: (() => unknown)[] = [];
  try {
    const h = await startFederation({ teardown: (fn) => cleanups.push(fn) }, { kind: database, mode });
    const sender = office(h.p1, AGENCIES.P1_SENDER);
    const post = (): Promise<{ status: number; documentId: string | undefined }> =>
      sender.post(federationDocument(AGENCIES.P1_SENDER, [AGENCIES.P2_RECIPIENT])).then((r) => ({ status: r.status, documentId: r.status === 202 ? r.body.documentId : undefined }));

    log(`${mode}: warming up with ${WARM_UP_DOCUMENTS} documents`);
    const warm: string[] = [];
    for (let i = 0; i < WARM_UP_DOCUMENTS; i++) {
      const reply = await post();
      if (reply.documentId === undefined) throw new Error(`P1 refused a warm-up document: HTTP ${reply.status}`);
      warm.push(reply.documentId);
    }
    const warmArrived = await waitForArrivals(h, warm, ARRIVAL_GRACE_MS);
    if (warmArrived.size !== warm.length) throw new Error(`${warm.length - warmArrived.size} warm-up documents did not reach P2`);

    const count = Math.round(options.rate * options.durationS);
    log(`${mode}: ${count} documents at ${options.rate}/s for ${options.durationS} s, P1 → N → P2`);
    const scheduledWall: number[] = new Array<number>(count);
    const answeredMs: number[] = [];
    const documentIds: (string | undefined)[] = new Array<string | undefined>(count);
    let refused = 0;
    const inFlight: Promise<void>[] = [];
    await openLoop(options.rate, count, performance.now(), (i, scheduledMs) => {
      scheduledWall[i] = performance.timeOrigin + scheduledMs;
      inFlight.push(
        post().then(
          (reply) => {
            answeredMs.push(performance.now() - scheduledMs);
            if (reply.documentId === undefined) refused++;
            documentIds[i] = reply.documentId;
          },
          () => {
            refused++;
          },
        ),
      );
    });
    await Promise.all(inFlight);
    const posted = documentIds.filter((id): id is string => id !== undefined);
    const arrived = await waitForArrivals(h, posted, ARRIVAL_GRACE_MS);
    const latencies: number[] = [];
    documentIds.forEach((id, i) => {
      const at = id === undefined ? undefined : arrived.get(id);
      const scheduled = scheduledWall[i];
      if (at !== undefined && scheduled !== undefined) latencies.push(Math.max(0, at - scheduled));
    });
    const endToEnd = summarize(latencies);
    return {
      mode,
      database,
      rate: options.rate,
      durationS: options.durationS,
      posted: posted.length,
      refused,
      missing: posted.length - arrived.size,
      endToEnd,
      postAnswered: summarize(answeredMs),
      targetP99Ms: TARGET_P99_MS,
      targetMet: refused === 0 && posted.length === arrived.size && endToEnd.p99 <= TARGET_P99_MS,
    };
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}

function table(reports: readonly ModeReport[]): string {
  const header = ['mode', 'db', 'rate/s', 'posted', 'refused', 'missing', 'p50', 'p90', 'p99', 'max', 'post→202 p99', `p99 ≤ ${TARGET_P99_MS} ms`];
  const rows = reports.map((r) => [
    r.mode === 'poll' ? 'poll 100 ms' : 'callback',
    r.database,
    String(r.rate),
    String(r.posted),
    String(r.refused),
    String(r.missing),
    ms(r.endToEnd.p50),
    ms(r.endToEnd.p90),
    ms(r.endToEnd.p99),
    ms(r.endToEnd.max),
    ms(r.postAnswered.p99),
    r.targetMet ? 'met' : 'NOT met',
  ]);
  return formatTable(header, rows).trimEnd();
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  if (typeof options === 'string') {
    console.error(`${options}\n${USAGE}`);
    return 2;
  }
  const log = (line: string): void => {
    if (!options.json) console.log(line);
  };
  const reports: ModeReport[] = [];
  for (const mode of options.modes) reports.push(await runMode(mode, options, log));
  if (options.json) console.log(JSON.stringify({ benchmark: 'federation', path: 'P1 → N → P2', reports }, null, 2));
  else console.log(`\nP1 → N → P2 end to end (scheduled post at P1 → admitted at P2), ms\n${table(reports)}`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
