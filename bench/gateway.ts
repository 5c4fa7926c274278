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
//
// The suite (`npm run bench`, bench/run.ts) runs the same measurement for every scenario, signed,
// with ceilings; this script stays for the figures of docs/benchmarks.md it produced, and shares
// the generator, the summaries and the CPU window with the suite (bench/lib/).

import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { signWebhook } from '../src/adapters/webhook/signature.ts';
import { WEBHOOK_HEADERS } from '../src/adapters/webhook/webhook-adapter.ts';
import { startGatewayProcess } from '../test/e2e/helpers/gateway-process.ts';
import type { GatewayProcess } from '../test/e2e/helpers/gateway-process.ts';
import { createBenchDatabase } from './lib/bench-database.ts';
import type { BenchDatabase } from './lib/bench-database.ts';
import { startCpuWindow } from './lib/cpu-window.ts';
import { machineInfo, waitForIdleMachine } from './lib/machine.ts';
import { drain, recordArrival, runPhase } from './lib/open-loop.ts';
import type { PhaseResult, Sample } from './lib/open-loop.ts';
import { packetClient } from './lib/packet-client.ts';
import type { PacketClient } from './lib/packet-client.ts';
import { packetFactory } from './lib/packets.ts';
import { summarizePhase } from './lib/phase-summary.ts';
import type { SecondSummary } from './lib/phase-summary.ts';
import { memoryOf } from './lib/proc.ts';
import { ms } from './lib/stats.ts';
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
  /** End to end per second of the schedule: shows whether the tail is steady or comes in bursts. */
  readonly perSecond: readonly SecondSummary[];
}

/** The shared summary under this script's older field names (kept so earlier JSON reports still compare). */
function report(result: PhaseResult): PhaseReport {
  const s = summarizePhase(result);
  return {
    sent: s.sent,
    accepted: s.accepted,
    failed: s.failed,
    delivered: s.completed,
    missing: s.missing,
    redelivered: s.redelivered,
    endToEnd: s.endToEnd,
    answer: s.answer,
    generatorLag: s.generatorLag,
    offeredPerSecond: s.offeredPerSecond,
    deliveredPerSecond: s.completedPerSecond,
    perSecond: s.perSecond,
  };
}

/** One phase of this script: one stream at `rate`, one recipient, packets numbered from `offset`. */
function phase(seconds: number, offset: number, send: (i: number) => Promise<number | 'error'>, registry: Map<number, Sample>, okStatus: number): Promise<PhaseResult> {
  return runPhase({ seconds, streams: [{ name: 'ordinary', rate, offset, expected: 1, send }], okStatuses: [okStatus], registry, log });
}

async function main(): Promise<void> {
  await waitForIdleMachine(Number(args['wait-idle']), log);
  const sink = await startWebhookSink(SECRET);
  const factory = packetFactory(SENDER, [RECIPIENT], sizeBytes);
  const samples = new Map<number, Sample>();
  sink.onArrival((arrival: SinkArrival) => {
    const i = factory.indexOf(arrival.documentId);
    const sample = i === undefined ? undefined : samples.get(i);
    if (sample === undefined || !arrival.signatureOk) return;
    // The baseline's direct POSTs carry no recipient header: one recipient either way.
    recordArrival(sample, RECIPIENT, arrival.atMs);
  });

  const databaseUrl = process.env.DATABASE_URL || undefined;
  log(`setting up a fresh ${databaseUrl === undefined ? 'embedded' : 'Postgres'} database…`);
  const db: BenchDatabase = await createBenchDatabase({ databaseUrl, sender: SENDER, recipients: [RECIPIENT], webhookUrl: sink.url, secret: SECRET, keep: args.keep });
  let gateway: GatewayProcess | undefined;
  const sinkPool = new Pool(new URL(sink.url).origin, { connections: 256 });
  let client: PacketClient | undefined;
  try {
    // Baseline: the same bytes straight to the webhook, signed as the gateway signs them.
    let baseline: PhaseReport | undefined;
    if (baselineS > 0) {
      log(`baseline: ${baselineS} s of direct POSTs to the webhook at ${rate}/s…`);
      const direct = async (i: number): Promise<number | 'error'> => {
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
      };
      const result = await phase(baselineS, BASELINE_OFFSET, direct, samples, 200);
      await drain(result, DRAIN_MS);
      baseline = report(result);
    }

    log('starting the gateway…');
    gateway = await startGatewayProcess({
      env: { LOG_LEVEL: args['log-level'], ...db.env, ...extraEnv },
      nodeArgs: args.profile ? ['--cpu-prof', `--cpu-prof-dir=${RESULTS_DIR}profiles`] : [],
    });
    const gw = gateway;
    const c = packetClient(gw.url, db.token);
    client = c;
    const post = (i: number): Promise<number | 'error'> => c.post(factory.packet(i));

    if (warmupS > 0) {
      log(`warm-up: ${warmupS} s at ${rate}/s…`);
      const warm = await phase(warmupS, 0, post, samples, 202);
      await drain(warm, DRAIN_MS);
    }
    const measuredOffset = Math.round(warmupS * rate);
    // The CPU window runs from the first measured send to the last measured receipt.
    const window = await startCpuWindow({ serverPid: gw.pid, postgresPids: db.kind === 'postgres' ? db.postgresPids : undefined });
    const wallStart = new Date();
    log(`measuring: ${durationS} s at ${rate}/s of ${factory.sizeBytes.toLocaleString('en-US')}-byte packets…`);
    const result = await phase(durationS, measuredOffset, post, samples, 202);
    await drain(result, DRAIN_MS);
    const wallEnd = new Date();
    const cpu = await window.end();
    const memory = memoryOf(gw.pid);
    const main = report(result);
    await c.close();
    client = undefined;
    const stopped = await gw.stop();
    gateway = undefined;
    if (stopped.code !== 0) log(`warning: the gateway exited with ${JSON.stringify(stopped)}; its output:\n${gw.output()}`);

    // The gateway's own record of the same packets: request arrival → delivery recorded.
    const record = await db.gatewayRecord(wallStart, wallEnd);
    const gatewayView = record === undefined ? undefined : { count: record.delivered, p50: record.p50, p99: record.p99, late: record.late };

    const packets = main.sent;
    const perPacketMs = (seconds: number | undefined): number | undefined => (seconds === undefined ? undefined : (seconds * 1000) / packets);
    const gatewaySeconds = cpu.serverSeconds;
    const postgresSeconds = cpu.postgresSeconds;
    const benchSeconds = cpu.benchSeconds;
    const machineBusy = cpu.machineBusyShare;
    const otherShare = cpu.otherShare;
    const cpuWindowS = cpu.windowS;
    const json = {
      bench: 'gateway',
      label: args.label,
      at: wallStart.toISOString(),
      machine: { ...machineInfo(), database: db.serverVersion },
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
    await client?.close().catch(() => undefined);
    await gateway?.kill().catch(() => undefined);
    await sinkPool.close().catch(() => undefined);
    await sink.close();
    await db.dispose();
  }
}

await main();
