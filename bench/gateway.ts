// Gateway end to end: posts packets of a fixed size at a fixed rate to a gateway running as a child
// process, and measures each packet from its scheduled send time to its receipt by a webhook served
// here (so a slow answer delays nothing and hides nothing: an open-loop generator, latency counted
// from the schedule, not from when a busy client got round to sending). Reports p50/p99, throughput,
// the gateway's CPU per packet and peak memory, beside a baseline measured in the same run: the same
// bytes POSTed straight to the same webhook, i.e. the floor of one loopback HTTP hop.
//
//   npm run bench:gateway -- [--rate 200] [--duration 30] [--size 102400] [--warmup 5] [--baseline 5]
//                            [--json] [--log-level info] [--env KEY=VALUE]... [--profile] [--keep] [--wait-idle 120]
//
// Uses a fresh database next to DATABASE_URL when it is set (dropped afterwards unless --keep), else
// the embedded database in a temp folder. Writes the JSON report to bench/results/ (gitignored);
// --json prints it instead of the table. Target (issue 3): p99 ≤ 100 ms at 200 packets/s on the
// 2-core machine, on Postgres. CPU and memory figures read Linux /proc.

import { mkdir, writeFile } from 'node:fs/promises';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { Pool } from 'undici';
import { signWebhook } from '../src/adapters/webhook/signature.ts';
import { WEBHOOK_HEADERS } from '../src/adapters/webhook/webhook-adapter.ts';
import { startGatewayProcess } from '../test/e2e/helpers/gateway-process.ts';
import type { GatewayProcess } from '../test/e2e/helpers/gateway-process.ts';
import { createBenchDatabase } from './lib/bench-database.ts';
import type { BenchDatabase } from './lib/bench-database.ts';
import { packetFactory } from './lib/packets.ts';
import { cpuSecondsByPid, machineCpuSeconds, memoryOf, processCpuSeconds } from './lib/proc.ts';
import { ms, summarize } from './lib/stats.ts';
import type { LatencySummary } from './lib/stats.ts';
import { startWebhookSink } from './lib/webhook-sink.ts';
import type { SinkArrival } from './lib/webhook-sink.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '30' },
    size: { type: 'string', default: '102400' },
    warmup: { type: 'string', default: '5' },
    baseline: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'info' },
    env: { type: 'string', multiple: true, default: [] },
    profile: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    label: { type: 'string', default: '' },
    'wait-idle': { type: 'string', default: '120' },
  },
});

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, not ${JSON.stringify(text)}`);
  return value;
}
const rate = positive('rate', args.rate);
const durationS = positive('duration', args.duration);
const sizeBytes = Math.floor(positive('size', args.size));
const warmupS = Number(args.warmup);
const baselineS = Number(args.baseline);
const extraEnv: Record<string, string> = {};
for (const pair of args.env) {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new Error(`--env takes KEY=VALUE, not ${JSON.stringify(pair)}`);
  extraEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
}

const SENDER = '000.00.15.H47';
const RECIPIENT = '000.02.15.H47';
const SECRET = 'bench-webhook-secret-0123456789';
/** Index offsets: each phase numbers its packets in its own range (DocumentIds stay distinct). */
const BASELINE_OFFSET = 50_000_000;
/** How long the end waits for the last packets to arrive before counting them missing. */
const DRAIN_MS = 30_000;
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** One packet's fate. */
interface Sample {
  readonly scheduledMs: number;
  sentMs: number;
  answeredMs: number;
  status: number | 'error';
  arrivedMs: number;
  arrivals: number;
}

/** Fires `fire(i, at)` at `start + i / rate` for i < count without waiting for earlier calls (open loop). */
async function openLoop(count: number, fire: (i: number, scheduledMs: number) => void): Promise<void> {
  const interval = 1000 / rate;
  const start = performance.now() + 2;
  for (let i = 0; i < count; i++) {
    const at = start + i * interval;
    for (let wait = at - performance.now(); wait > 0; wait = at - performance.now()) await sleep(Math.ceil(wait));
    fire(i, at);
  }
}

interface PhaseResult {
  readonly samples: Map<number, Sample>;
  readonly startedMs: number;
  readonly scheduleEndMs: number;
}

/** Runs one open-loop phase of `seconds` at `rate`, packet indices from `offset`, waiting for its posts to be answered. */
async function phase(seconds: number, offset: number, send: (i: number) => Promise<number | 'error'>, shared: Map<number, Sample>): Promise<PhaseResult> {
  const count = Math.round(seconds * rate);
  const samples = new Map<number, Sample>();
  const posts: Promise<void>[] = [];
  const startedMs = performance.now();
  let lastReport = startedMs;
  await openLoop(count, (k, scheduledMs) => {
    const i = offset + k;
    const sample: Sample = { scheduledMs, sentMs: performance.now(), answeredMs: Number.NaN, status: 'error', arrivedMs: Number.NaN, arrivals: 0 };
    samples.set(i, sample);
    // In the shared map at once: the webhook may receive the packet before its 202 is read.
    shared.set(i, sample);
    posts.push(
      send(i).then((status) => {
        sample.status = status;
        sample.answeredMs = performance.now();
      }),
    );
    if (sample.sentMs - lastReport > 5000) {
      lastReport = sample.sentMs;
      log(`  … ${k + 1}/${count} sent`);
    }
  });
  const scheduleEndMs = performance.now();
  await Promise.all(posts);
  return { samples, startedMs, scheduleEndMs };
}

/** Resolves once every sample answered 2xx has arrived, or after DRAIN_MS. */
async function drain(samples: Map<number, Sample>): Promise<void> {
  const deadline = performance.now() + DRAIN_MS;
  const pending = (): number => [...samples.values()].filter((s) => (s.status === 200 || s.status === 202) && s.arrivals === 0).length;
  while (pending() > 0 && performance.now() < deadline) await sleep(20);
}

interface PhaseReport {
  readonly sent: number;
  readonly accepted: number;
  readonly failed: number;
  readonly delivered: number;
  readonly missing: number;
  readonly redelivered: number;
  /** scheduled send → webhook receipt, ms */
  readonly endToEnd: LatencySummary;
  /** scheduled send → HTTP answer, ms */
  readonly answer: LatencySummary;
  /** actual send − scheduled send, ms (how late the generator itself was) */
  readonly generatorLag: LatencySummary;
  readonly offeredPerSecond: number;
  /** Receipts at the webhook during the scheduled span, per second. */
  readonly deliveredPerSecond: number;
  /** End to end per second of the schedule (p50, p99, max, ms): shows whether the tail is steady or comes in bursts. */
  readonly perSecond: readonly { readonly second: number; readonly p50: number; readonly p99: number; readonly max: number }[];
}

function report(result: PhaseResult, okStatus: (s: number | 'error') => boolean): PhaseReport {
  const all = [...result.samples.values()];
  const accepted = all.filter((s) => okStatus(s.status));
  const delivered = accepted.filter((s) => s.arrivals > 0);
  const spanMs = result.scheduleEndMs - result.startedMs;
  const inSpan = all.filter((s) => s.arrivedMs >= result.startedMs && s.arrivedMs <= result.scheduleEndMs).length;
  const bySecond = new Map<number, number[]>();
  for (const s of delivered) {
    const second = Math.floor((s.scheduledMs - result.startedMs) / 1000);
    const list = bySecond.get(second) ?? [];
    list.push(s.arrivedMs - s.scheduledMs);
    bySecond.set(second, list);
  }
  const perSecond = [...bySecond]
    .sort(([a], [b]) => a - b)
    .map(([second, list]) => {
      const summary = summarize(list);
      return { second, p50: Math.round(summary.p50 * 10) / 10, p99: Math.round(summary.p99 * 10) / 10, max: Math.round(summary.max * 10) / 10 };
    });
  return {
    sent: all.length,
    accepted: accepted.length,
    failed: all.length - accepted.length,
    delivered: delivered.length,
    missing: accepted.length - delivered.length,
    redelivered: all.filter((s) => s.arrivals > 1).length,
    endToEnd: summarize(delivered.map((s) => s.arrivedMs - s.scheduledMs)),
    answer: summarize(all.filter((s) => !Number.isNaN(s.answeredMs)).map((s) => s.answeredMs - s.scheduledMs)),
    generatorLag: summarize(all.map((s) => s.sentMs - s.scheduledMs)),
    offeredPerSecond: all.length / (spanMs / 1000),
    deliveredPerSecond: inSpan / (spanMs / 1000),
    perSecond,
  };
}

/** Waits (up to `seconds`) until the machine is nearly idle: a run beside other work measures that work too. */
async function waitForIdleMachine(seconds: number): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  for (let announced = false; ; ) {
    const before = machineCpuSeconds();
    await sleep(2000);
    const after = machineCpuSeconds();
    if (before === undefined || after === undefined) return;
    const busy = (after.busy - before.busy) / (after.total - before.total);
    if (busy < 0.15) return;
    if (performance.now() > deadline) {
      log(`the machine is still ${(busy * 100).toFixed(0)} % busy; measuring anyway (the report will flag it)`);
      return;
    }
    if (!announced) log(`the machine is ${(busy * 100).toFixed(0)} % busy with other work; waiting up to ${seconds} s for it to calm down…`);
    announced = true;
  }
}

async function main(): Promise<void> {
  await waitForIdleMachine(Number(args['wait-idle']));
  const sink = await startWebhookSink(SECRET);
  const factory = packetFactory(SENDER, [RECIPIENT], sizeBytes);
  const samples = new Map<number, Sample>();
  sink.onArrival((arrival: SinkArrival) => {
    const i = factory.indexOf(arrival.documentId);
    const sample = i === undefined ? undefined : samples.get(i);
    if (sample === undefined || !arrival.signatureOk) return;
    if (sample.arrivals++ === 0) sample.arrivedMs = arrival.atMs;
  });

  const databaseUrl = process.env.DATABASE_URL || undefined;
  log(`setting up a fresh ${databaseUrl === undefined ? 'embedded' : 'Postgres'} database…`);
  const db: BenchDatabase = await createBenchDatabase({ databaseUrl, sender: SENDER, recipients: [RECIPIENT], webhookUrl: sink.url, secret: SECRET, keep: args.keep });
  let gateway: GatewayProcess | undefined;
  const sinkPool = new Pool(new URL(sink.url).origin, { connections: 256 });
  let gatewayPool: Pool | undefined;
  try {
    // Baseline: the same bytes straight to the webhook, signed as the gateway signs them.
    let baseline: PhaseReport | undefined;
    if (baselineS > 0) {
      log(`baseline: ${baselineS} s of direct POSTs to the webhook at ${rate}/s…`);
      const result = await phase(baselineS, BASELINE_OFFSET, async (i) => {
        const body = factory.packet(i);
        try {
          const response = await sinkPool.request({
            path: '/hook',
            method: 'POST',
            headers: { 'content-type': 'application/xml', [WEBHOOK_HEADERS.documentId]: encodeURIComponent(factory.documentId(i)), 'edxgate-signature': signWebhook(body, SECRET, Math.floor(Date.now() / 1000)) },
            body,
          });
          await response.body.dump();
          return response.statusCode;
        } catch {
          return 'error';
        }
      }, samples);
      await drain(result.samples);
      baseline = report(result, (s) => s === 200);
    }

    log('starting the gateway…');
    gateway = await startGatewayProcess({
      env: { LOG_LEVEL: args['log-level'], ...db.env, ...extraEnv },
      nodeArgs: args.profile ? ['--cpu-prof', `--cpu-prof-dir=${RESULTS_DIR}profiles`] : [],
    });
    const gw = gateway;
    gatewayPool = new Pool(gw.url, { connections: 256 });
    const pool = gatewayPool;
    const post = async (i: number): Promise<number | 'error'> => {
      try {
        const response = await pool.request({
          path: '/v1/packets',
          method: 'POST',
          headers: { authorization: `Bearer ${db.token}`, 'content-type': 'application/xml' },
          body: factory.packet(i),
        });
        await response.body.dump();
        return response.statusCode;
      } catch {
        return 'error';
      }
    };

    if (warmupS > 0) {
      log(`warm-up: ${warmupS} s at ${rate}/s…`);
      const warm = await phase(warmupS, 0, post, samples);
      await drain(warm.samples);
    }
    const measuredOffset = Math.round(warmupS * rate);
    const postgresBefore = cpuSecondsByPid(await db.postgresPids());
    const cpuBefore = { at: performance.now(), gateway: processCpuSeconds(gw.pid), machine: machineCpuSeconds(), bench: process.cpuUsage() };
    const wallStart = new Date();
    log(`measuring: ${durationS} s at ${rate}/s of ${factory.sizeBytes.toLocaleString('en-US')}-byte packets…`);
    const result = await phase(durationS, measuredOffset, post, samples);
    await drain(result.samples);
    const wallEnd = new Date();
    // The CPU window runs from the first measured send to the last measured receipt.
    const cpuWindowS = (performance.now() - cpuBefore.at) / 1000;
    const gatewayCpu = processCpuSeconds(gw.pid);
    let postgresSeconds: number | undefined;
    if (db.kind === 'postgres') {
      postgresSeconds = 0;
      // A backend the pool opened during the run counts from zero; one that ended is lost (rare: the pool keeps them).
      for (const [pid, seconds] of cpuSecondsByPid(new Set([...postgresBefore.keys(), ...(await db.postgresPids())]))) {
        postgresSeconds += seconds - (postgresBefore.get(pid) ?? 0);
      }
    }
    const machine = machineCpuSeconds();
    const benchCpu = process.cpuUsage(cpuBefore.bench);
    const memory = memoryOf(gw.pid);
    const main = report(result, (s) => s === 202);
    await pool.close();
    gatewayPool = undefined;
    const stopped = await gw.stop();
    gateway = undefined;
    if (stopped.code !== 0) log(`warning: the gateway exited with ${JSON.stringify(stopped)}; its output:\n${gw.output()}`);

    // The gateway's own record of the same packets: request arrival → delivery recorded.
    const store = await db.open();
    let gatewayView: { readonly count: number; readonly p50: number; readonly p99: number; readonly late: number } | undefined;
    try {
      const { rows } = await sql<{ count: number | string; p50: number | null; p99: number | null; late: number | string | null }>`
        SELECT count(*) AS count,
               percentile_disc(0.5) WITHIN GROUP (ORDER BY d.latency_ms) AS p50,
               percentile_disc(0.99) WITHIN GROUP (ORDER BY d.latency_ms) AS p99,
               sum(CASE WHEN d.late THEN 1 ELSE 0 END) AS late
        FROM deliveries d JOIN packets p ON p.id = d.packet_id
        WHERE d.state = 'delivered' AND p.received_at >= ${wallStart} AND p.received_at <= ${wallEnd}`.execute(store.db);
      const r = rows[0];
      if (r !== undefined) gatewayView = { count: Number(r.count), p50: Number(r.p50), p99: Number(r.p99), late: Number(r.late ?? 0) };
    } finally {
      await store.close();
    }

    const packets = main.sent;
    const perPacketMs = (seconds: number | undefined): number | undefined => (seconds === undefined ? undefined : (seconds * 1000) / packets);
    const gatewaySeconds = gatewayCpu === undefined || cpuBefore.gateway === undefined ? undefined : gatewayCpu - cpuBefore.gateway;
    const benchSeconds = (benchCpu.user + benchCpu.system) / 1e6;
    const machineSeconds = machine === undefined || cpuBefore.machine === undefined ? undefined : { busy: machine.busy - cpuBefore.machine.busy, total: machine.total - cpuBefore.machine.total };
    const machineBusy = machineSeconds === undefined ? undefined : machineSeconds.busy / machineSeconds.total;
    // What neither the gateway, its Postgres processes nor this process used: other work on the machine
    // (another test run, say), which makes the figures unclean.
    const otherShare =
      machineSeconds === undefined || gatewaySeconds === undefined
        ? undefined
        : Math.max(0, machineSeconds.busy - gatewaySeconds - (postgresSeconds ?? 0) - benchSeconds) / machineSeconds.total;
    const json = {
      bench: 'gateway',
      label: args.label,
      at: wallStart.toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        os: `${platform()} ${release()} ${arch()}`,
        node: process.version,
        database: db.serverVersion,
      },
      options: { rate, durationS, sizeBytes: factory.sizeBytes, warmupS, baselineS, logLevel: args['log-level'], env: extraEnv, recipients: 1 },
      baseline,
      gateway: main,
      gatewayView,
      cpu: {
        gatewayMsPerPacket: perPacketMs(gatewaySeconds),
        gatewayCoreShare: gatewaySeconds === undefined ? undefined : gatewaySeconds / cpuWindowS,
        postgresMsPerPacket: perPacketMs(postgresSeconds),
        benchMsPerPacket: perPacketMs(benchSeconds),
        machineBusyShare: machineBusy,
        otherProcessesShare: otherShare,
      },
      memory: { gatewayPeakRssMiB: memory?.peakRssMiB, gatewayRssMiB: memory?.rssMiB },
      target: { rate: 200, p99Ms: 100, applies: rate >= 200 && db.kind === 'postgres', met: main.endToEnd.p99 <= 100 && main.missing === 0 && main.failed === 0 },
    };

    await mkdir(RESULTS_DIR, { recursive: true });
    const file = `${RESULTS_DIR}gateway-${db.kind}-${rate}ps-${wallStart.toISOString().replaceAll(':', '-').slice(0, 19)}${args.label ? `-${args.label}` : ''}.json`;
    await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
    if (args.json) {
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      return;
    }
    const row = (name: string, s: LatencySummary | undefined): string =>
      s === undefined ? '' : `| ${name} | ${ms(s.p50)} | ${ms(s.p90)} | ${ms(s.p99)} | ${ms(s.p999)} | ${ms(s.max)} | ${s.count} |\n`;
    const pct = (v: number | undefined): string => (v === undefined ? '–' : `${(v * 100).toFixed(0)} %`);
    const num = (v: number | undefined, digits = 2): string => (v === undefined ? '–' : v.toFixed(digits));
    process.stdout.write(
      `\nedxgate gateway benchmark: ${factory.sizeBytes.toLocaleString('en-US')}-byte packets, open loop at ${rate}/s for ${durationS} s (warm-up ${warmupS} s), one webhook recipient\n` +
        `${json.machine.cpus} × ${json.machine.model}, ${json.machine.memoryGiB} GiB, ${json.machine.os}, Node ${json.machine.node}, ${json.machine.database}; gateway LOG_LEVEL=${args['log-level']}${Object.keys(extraEnv).length > 0 ? ` ${JSON.stringify(extraEnv)}` : ''}\n\n` +
        `| ms, from the scheduled send | p50 | p90 | p99 | p99.9 | max | n |\n|---|---:|---:|---:|---:|---:|---:|\n` +
        row('post → webhook receipt (end to end)', main.endToEnd) +
        row('post → 202', main.answer) +
        row('baseline: POST straight to the webhook', baseline?.endToEnd) +
        (gatewayView === undefined ? '' : `| gateway's record: request → delivered | ${ms(gatewayView.p50)} | | ${ms(gatewayView.p99)} | | | ${gatewayView.count} |\n`) +
        `\nthroughput: offered ${main.offeredPerSecond.toFixed(1)}/s, received at the webhook ${main.deliveredPerSecond.toFixed(1)}/s; ` +
        `${main.accepted} of ${main.sent} accepted, ${main.failed} failed, ${main.missing} missing after ${DRAIN_MS / 1000} s, ${main.redelivered} redelivered, ${gatewayView?.late ?? '–'} late (> budget)\n` +
        `generator lag p99 ${ms(main.generatorLag.p99)} ms; e2e p99 / baseline p99 = ${baseline === undefined ? '–' : (main.endToEnd.p99 / baseline.endToEnd.p99).toFixed(1)}×\n` +
        `CPU per packet: gateway ${num(json.cpu.gatewayMsPerPacket)} ms (${pct(json.cpu.gatewayCoreShare)} of one core), Postgres ${num(json.cpu.postgresMsPerPacket)} ms, ` +
        `this load generator + webhook ${num(json.cpu.benchMsPerPacket)} ms; machine ${pct(json.cpu.machineBusyShare)} busy (all cores)\n` +
        `gateway memory: peak RSS ${num(memory?.peakRssMiB, 0)} MiB\n` +
        (otherShare !== undefined && otherShare > 0.25
          ? `WARNING: other processes used ${pct(otherShare)} of the machine during the run; the figures are not clean\n`
          : '') +
        (json.target.applies ? `target (p99 ≤ 100 ms at 200/s on Postgres): ${json.target.met ? 'met' : 'NOT met'}\n` : '') +
        `report: ${file}\n`,
    );
  } finally {
    await gatewayPool?.close().catch(() => undefined);
    await gateway?.kill().catch(() => undefined);
    await sinkPool.close().catch(() => undefined);
    await sink.close();
    await db.dispose();
  }
}

await main();
