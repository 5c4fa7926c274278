// Runs one scenario of the suite end to end and returns its report: the ceilings first (a bare
// Fastify route and bare inserts of the same rows, at the same rate with the same bodies), then the
// gateway as a child process on a fresh database — warm-up, then either one fixed-rate open-loop
// window or a ramp to saturation — with a webhook receiver here that timestamps every delivery.
//
// Everything a run starts (PKI and CRL server, webhook receiver, database, children) is torn down in
// `finally`, whatever failed.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Priority } from '../../src/edxml/codes.ts';
import type { StoreDialect } from '../../src/store/open-store.ts';
import { verifySignature } from '../../src/trust/dsig/index.ts';
import { startGatewayProcess } from '../../test/e2e/helpers/gateway-process.ts';
import type { GatewayProcess } from '../../test/e2e/helpers/gateway-process.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { BenchOptions } from './args.ts';
import { createBenchDatabase } from './bench-database.ts';
import type { BenchDatabase, GatewayRecord } from './bench-database.ts';
import { SIGNING_SENDER, createBenchTrust } from './bench-trust.ts';
import type { BenchTrust } from './bench-trust.ts';
import { measureCpuSpeed } from './cpu-speed.ts';
import { msPerPacket, startCpuWindow } from './cpu-window.ts';
import { startHttpCeiling } from './http-ceiling.ts';
import type { HttpCeiling } from './http-ceiling.ts';
import { loadAverage, machineInfo, waitForIdleMachine } from './machine.ts';
import { drain, recordArrival, runPhase } from './open-loop.ts';
import type { PhaseResult, Sample, Stream } from './open-loop.ts';
import { packetClient } from './packet-client.ts';
import type { PacketClient } from './packet-client.ts';
import { packetFactory, preparePackets } from './packets.ts';
import type { PacketFactory, PreparedPackets } from './packets.ts';
import { summarizePhase } from './phase-summary.ts';
import type { PhaseSummary } from './phase-summary.ts';
import { memoryOf } from './proc.ts';
import { startRuntimeWindow } from './runtime-window.ts';
import { machineLimit } from './report.ts';
import type { BenchReport, CeilingFigures, CpuFigures, GatewayFigures, SaturationFigures, StepFigures } from './report.ts';
import { judgeStep, nextRate, rampResult } from './saturation.ts';
import type { StepOutcome } from './saturation.ts';
import { openStoreCeiling } from './store-ceiling.ts';
import type { StoreCeiling } from './store-ceiling.ts';
import { startWebhookSink } from './webhook-sink.ts';
import type { WebhookSink } from './webhook-sink.ts';

/** The sender of every packet: the demo's sở, which is also the test PKI's agency. */
const SENDER = SIGNING_SENDER;
/** The one recipient of single-recipient scenarios (a unit of the sở, as bench/gateway.ts used). */
const SINGLE_RECIPIENT = '000.02.15.H47';
/** The code the gateway writes in the TraceHeader it adds when it signs: UBND tỉnh Quảng Nam. */
const GATEWAY_AGENCY = '000.00.00.H47';
const SECRET = 'bench-webhook-secret-0123456789';
/** Index ranges: ordinary packets from 0, urgent ones from here (DocumentIds stay distinct). */
const URGENT_BASE = 40_000_000;
/** How long a phase waits for its last deliveries before counting them missing. */
const DRAIN_MS = 60_000;
/** Packets signed ahead of a run at most (bytes): beyond it the generator signs as it goes. */
const PREPARE_BUDGET_BYTES = 1024 * 1024 * 1024;
/** Bodies a ceiling cycles through at most (bytes): it needs the same sizes, not distinct bytes. */
const CEILING_BODIES_BYTES = 64 * 1024 * 1024;
/** One forwarded packet in this many gets its XML-DSig verified here (0.2 ms per 100 KB). */
const SIGNATURE_SAMPLE_EVERY = 20;
const RAMP_FACTOR = 1.5;
/** The ceilings are far above the gateway's rate, where they start: they ramp faster. */
const CEILING_RAMP_FACTOR = 2;
const RAMP_REFINEMENTS = 2;
const PROFILE_DIR = fileURLToPath(new URL('../results/profiles/', import.meta.url));

/** Recipient codes of a scenario: one unit, or units 000.01 … of the sở (created when the demo lacks them). */
export function recipientCodes(count: number): string[] {
  if (count === 1) return [SINGLE_RECIPIENT];
  return Array.from({ length: count }, (_, i) => `000.${String(i + 1).padStart(2, '0')}.15.H47`);
}

/** Settings of a run, resolved from the options and the scenario's defaults. */
interface Plan {
  readonly dialect: StoreDialect;
  readonly rate: number;
  readonly urgentRate: number | undefined;
  readonly urgentPriorities: readonly Exclude<Priority, 0>[];
  readonly signed: boolean;
  readonly durationS: number;
  readonly ceilingDurationS: number;
  readonly p99LimitMs: number;
  readonly recipients: readonly string[];
}

function plan(scenario: Scenario, options: BenchOptions, dialect: StoreDialect): Plan {
  const durationS = options.durationS ?? (options.saturate ? 10 : 30);
  return {
    dialect,
    rate: options.rate ?? scenario.defaultRate[dialect],
    urgentRate: options.urgentRate ?? scenario.urgent?.defaultRate,
    urgentPriorities: scenario.urgent?.priorities ?? [1, 2, 3, 4],
    signed: options.signed ?? scenario.signedByDefault,
    durationS,
    ceilingDurationS: options.ceilingDurationS ?? Math.min(durationS, 10),
    p99LimitMs: options.p99LimitMs ?? scenario.saturationP99Ms,
    recipients: recipientCodes(scenario.recipients),
  };
}

/** The packets of a run: ordinary ones, and urgent ones cycling through the priorities. */
interface Traffic {
  readonly sizeBytes: number;
  packet(index: number): Buffer;
  indexOf(documentId: string): number | undefined;
  /** Hands out the next `count` indices of a stream. */
  take(stream: 'ordinary' | 'urgent', count: number): number;
  /** Signs the given ranges ahead, within the budget. */
  prepare(ranges: readonly { readonly from: number; readonly count: number }[]): number;
  release(): void;
}

function traffic(scenario: Scenario, p: Plan, trust: BenchTrust | undefined): Traffic {
  const signWith = trust?.senderKey;
  const ordinary = packetFactory(SENDER, p.recipients, scenario.sizeBytes, { signWith });
  const urgent = new Map<Priority, PacketFactory>(p.urgentPriorities.map((priority) => [priority, packetFactory(SENDER, p.recipients, scenario.sizeBytes, { priority, signWith })]));
  const factoryOf = (index: number): PacketFactory => {
    if (index < URGENT_BASE) return ordinary;
    const priority = p.urgentPriorities[(index - URGENT_BASE) % p.urgentPriorities.length];
    return (priority === undefined ? undefined : urgent.get(priority)) ?? ordinary;
  };
  const next = { ordinary: 0, urgent: URGENT_BASE };
  let prepared: PreparedPackets | undefined;
  return {
    sizeBytes: ordinary.sizeBytes,
    packet: (index) => prepared?.packet(index) ?? factoryOf(index).packet(index),
    indexOf: (documentId) => ordinary.indexOf(documentId),
    take(stream, count) {
      const from = next[stream];
      next[stream] += count;
      return from;
    },
    prepare(ranges) {
      // One PreparedPackets over a factory that dispatches by index: both streams share the budget.
      const dispatch: PacketFactory = { ...ordinary, packet: (index) => factoryOf(index).packet(index) };
      prepared = preparePackets(dispatch, ranges, PREPARE_BUDGET_BYTES);
      return prepared.prepared;
    },
    release: () => prepared?.release(),
  };
}

/** Everything a measured window needs besides its streams. */
interface Measure {
  readonly seconds: number;
  readonly okStatuses: readonly number[];
  readonly registry?: Map<number, Sample> | undefined;
  readonly serverPid?: number | undefined;
  /** The process under test is this one (the store ceiling's client). */
  readonly serverIsBench?: boolean;
  readonly postgresPids?: (() => Promise<number[]>) | undefined;
  readonly peakRssMiB?: (() => number | undefined) | undefined;
  /** The gateway's base URL, whose /metrics tell its GC time and event-loop delay over the window. */
  readonly runtimeUrl?: string | undefined;
  readonly split?: ((result: PhaseResult) => Record<string, PhaseSummary> | undefined) | undefined;
  readonly log: (line: string) => void;
}

interface MeasuredStep extends StepFigures {
  readonly from: Date;
  readonly to: Date;
}

/** The step without its window's dates (which are for the gateway's record, not the report). */
function withoutWindow(step: MeasuredStep): StepFigures {
  const { from: _from, to: _to, ...rest } = step;
  return rest;
}

/** The step and the start of its window. */
function withWindow(step: MeasuredStep): { readonly from: Date } & StepFigures {
  return { ...withoutWindow(step), from: step.from };
}

async function measure(m: Measure, streams: readonly Stream[]): Promise<MeasuredStep> {
  const window = await startCpuWindow({ serverPid: m.serverPid, postgresPids: m.postgresPids });
  const runtimeWindow = m.runtimeUrl === undefined ? undefined : await startRuntimeWindow(m.runtimeUrl);
  const from = new Date();
  const result = await runPhase({ seconds: m.seconds, streams, okStatuses: m.okStatuses, registry: m.registry, log: m.log });
  const left = await drain(result, DRAIN_MS);
  if (left > 0) m.log(`  ${left} packets still undelivered after ${DRAIN_MS / 1000} s; counted missing`);
  const to = new Date();
  const reading = await window.end();
  const summary = summarizePhase(result);
  const packets = summary.sent;
  const runtime = await runtimeWindow?.end(packets);
  const serverSeconds = m.serverIsBench === true ? reading.benchSeconds : reading.serverSeconds;
  const cpu: CpuFigures = {
    serverMsPerPacket: msPerPacket(serverSeconds, packets),
    serverCoreShare: serverSeconds === undefined ? undefined : serverSeconds / reading.windowS,
    postgresMsPerPacket: msPerPacket(reading.postgresSeconds, packets),
    benchMsPerPacket: msPerPacket(reading.benchSeconds, packets),
    machineBusyShare: reading.machineBusyShare,
    otherShare: reading.otherShare,
  };
  const rate = streams.reduce((n, s) => n + s.rate, 0);
  return { rate, durationS: m.seconds, summary, streams: m.split?.(result), cpu, peakRssMiB: m.peakRssMiB?.(), runtime, from, to };
}

/** Ramps `step(rate)` to saturation. */
async function ramp(
  startRate: number,
  factor: number,
  options: BenchOptions,
  p99LimitMs: number,
  log: (line: string) => void,
  step: (rate: number) => Promise<MeasuredStep>,
): Promise<{ readonly figures: SaturationFigures; readonly first: MeasuredStep; readonly best: MeasuredStep | undefined; readonly last: MeasuredStep }> {
  const rampOptions = { startRate, factor, maxRate: options.maxRate, refinements: RAMP_REFINEMENTS };
  const history: StepOutcome[] = [];
  const steps: MeasuredStep[] = [];
  for (let rate = nextRate(history, rampOptions); rate !== undefined; rate = nextRate(history, rampOptions)) {
    const measured = await step(rate);
    const verdict = judgeStep(measured.summary, { p99LimitMs });
    log(`  ${rate}/s: ${verdict.sustained ? 'held' : `did not hold (${verdict.reasons.join('; ')})`}`);
    history.push({ rate, verdict });
    steps.push({ ...measured, verdict });
    await sleep(1000);
  }
  const result = rampResult(history, rampOptions);
  const best = steps.find((s) => s.rate === result.maxSustainedRate);
  const first = steps[0];
  const last = steps[steps.length - 1];
  if (first === undefined || last === undefined) throw new Error('the ramp ran no step');
  // The per-second breakdown of every step would swell the report; the chosen step keeps its own.
  const slim = steps.map((s) => ({ ...s, summary: { ...s.summary, perSecond: [] } }));
  return { figures: { ...result, p99LimitMs, steps: slim.map(withoutWindow) }, first, best, last };
}

/** Runs `scenario` with `options` and returns the report (the caller prints and writes it). */
export async function runScenario(scenario: Scenario, options: BenchOptions, databaseUrl: string | undefined, log: (line: string) => void): Promise<BenchReport> {
  const busyBefore = await waitForIdleMachine(options.waitIdleS, log);
  const load = { loadAverage: loadAverage(), busyBefore };
  const speedBefore = measureCpuSpeed();
  const p = plan(scenario, options, databaseUrl === undefined ? 'pglite' : 'postgres');
  const streamsPerStep = (rate: number, seconds: number, send: (index: number) => Promise<number | 'error'>, expected: number, t: Traffic): Stream[] => {
    const streams: Stream[] = [{ name: 'ordinary', rate, offset: t.take('ordinary', Math.round(rate * seconds)), expected, send }];
    if (p.urgentRate !== undefined) {
      streams.push({ name: 'urgent', rate: p.urgentRate, offset: t.take('urgent', Math.round(p.urgentRate * seconds)), expected, send });
    }
    return streams;
  };
  const splitStreams = (result: PhaseResult): Record<string, PhaseSummary> | undefined => {
    if (p.urgentRate === undefined) return undefined;
    const out: Record<string, PhaseSummary> = {
      ordinary: summarizePhase(result, (s) => s.stream === 'ordinary'),
      urgent: summarizePhase(result, (s) => s.stream === 'urgent'),
    };
    p.urgentPriorities.forEach((priority, k) => {
      out[`priority-${priority}`] = summarizePhase(result, (s) => s.stream === 'urgent' && (s.index - URGENT_BASE) % p.urgentPriorities.length === k);
    });
    return out;
  };

  let trust: BenchTrust | undefined;
  let sink: WebhookSink | undefined;
  let db: BenchDatabase | undefined;
  let http: HttpCeiling | undefined;
  let store: StoreCeiling | undefined;
  let gateway: GatewayProcess | undefined;
  let client: PacketClient | undefined;
  let t: Traffic | undefined;
  try {
    if (p.signed) {
      log('generating the test PKI (signed packets)…');
      trust = await createBenchTrust(GATEWAY_AGENCY);
    }
    const tr = traffic(scenario, p, trust);
    t = tr;
    sink = await startWebhookSink(SECRET);
    log(`setting up a fresh ${p.dialect === 'postgres' ? 'Postgres' : 'embedded'} database…`);
    const database = await createBenchDatabase({
      databaseUrl,
      sender: SENDER,
      recipients: p.recipients,
      webhookUrl: sink.url,
      secret: SECRET,
      senderPolicy: p.signed ? 'require' : undefined,
      keep: options.keep,
    });
    db = database;

    // Packets: in a fixed-rate run the counts are known, so signed ones are made before anything
    // is measured; a ramp's are not, and its generator signs as it goes (its CPU shows as "bench").
    const warmupCount = { ordinary: Math.round(p.rate * options.warmupS), urgent: Math.round((p.urgentRate ?? 0) * options.warmupS) };
    const measuredCount = { ordinary: Math.round(p.rate * p.durationS), urgent: Math.round((p.urgentRate ?? 0) * p.durationS) };
    if (p.signed && !options.saturate) {
      const started = performance.now();
      const n = tr.prepare([
        { from: 0, count: warmupCount.ordinary + measuredCount.ordinary },
        { from: URGENT_BASE, count: warmupCount.urgent + measuredCount.urgent },
      ]);
      log(`signed ${n} packets ahead in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    // The ceilings cycle through a few bodies of the measured range: the same sizes and bytes the gateway gets.
    const bodyCount = Math.max(1, Math.min(64, Math.floor(CEILING_BODIES_BYTES / tr.sizeBytes), measuredCount.ordinary));
    const bodies = Array.from({ length: bodyCount }, (_, k) => tr.packet(warmupCount.ordinary + k));
    const bodyOf = (index: number): Buffer => bodies[index % bodies.length] ?? Buffer.alloc(0);

    // --- the gateway --------------------------------------------------------------------------
    const registry = new Map<number, Sample>();
    const signatures = { checked: 0, valid: 0 };
    let arrivals = 0;
    sink.onArrival((arrival) => {
      const index = tr.indexOf(arrival.documentId);
      const sample = index === undefined ? undefined : registry.get(index);
      if (sample === undefined || !arrival.signatureOk) return;
      recordArrival(sample, arrival.recipient, arrival.atMs);
      if (p.signed && arrivals++ % SIGNATURE_SAMPLE_EVERY === 0) {
        signatures.checked++;
        if (verifySignature(arrival.body).status === 'valid') signatures.valid++;
      }
    });
    log('starting the gateway…');
    const gw = await startGatewayProcess({
      env: { LOG_LEVEL: options.logLevel, ...database.env, ...(trust?.env ?? {}), ...options.env },
      nodeArgs: [...options.nodeFlags, ...(options.profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [])],
    });
    gateway = gw;
    if (trust !== undefined) await trust.waitForCrlFetches(15_000);
    const c = packetClient(gw.url, database.token);
    client = c;
    const send = (index: number): Promise<number | 'error'> => c.post(tr.packet(index));
    const expected = p.recipients.length;
    const gatewayMeasure = (seconds: number): Measure => ({
      seconds,
      okStatuses: [202],
      registry,
      serverPid: gw.pid,
      postgresPids: p.dialect === 'postgres' ? database.postgresPids : undefined,
      peakRssMiB: () => memoryOf(gw.pid)?.peakRssMiB,
      runtimeUrl: gw.url,
      split: splitStreams,
      log,
    });

    if (options.warmupS > 0) {
      log(`warm-up: ${options.warmupS} s at ${p.rate}/s…`);
      const warm = await runPhase({ seconds: options.warmupS, streams: streamsPerStep(p.rate, options.warmupS, send, expected, tr), okStatuses: [202], registry });
      await drain(warm, DRAIN_MS);
    }
    await database.analyze();
    let figures: MeasuredStep;
    let saturation: SaturationFigures | undefined;
    if (options.saturate) {
      log(`saturation ramp from ${p.rate}/s, ${p.durationS} s a step, p99 ≤ ${p.p99LimitMs} ms…`);
      const r = await ramp(p.rate, RAMP_FACTOR, options, p.p99LimitMs, log, (rate) => measure(gatewayMeasure(p.durationS), streamsPerStep(rate, p.durationS, send, expected, tr)));
      figures = r.best ?? r.last;
      saturation = r.figures;
    } else {
      log(`measuring: ${p.durationS} s at ${p.rate}/s${p.urgentRate === undefined ? '' : ` + ${p.urgentRate}/s urgent`} of ${tr.sizeBytes.toLocaleString('en-US')}-byte packets…`);
      figures = await measure(gatewayMeasure(p.durationS), streamsPerStep(p.rate, p.durationS, send, expected, tr));
    }
    await c.close();
    client = undefined;
    const stopped = await gw.stop();
    gateway = undefined;
    // Right after the gateway's window, before the ceilings: the speed the machine had while it was measured.
    const cpuSpeed = { before: speedBefore, after: measureCpuSpeed() };
    if (stopped.code !== 0) log(`warning: the gateway exited with ${JSON.stringify(stopped)}; its output:\n${gw.output()}`);
    let record: GatewayRecord | undefined;
    try {
      record = await database.gatewayRecord(figures.from, figures.to);
    } catch (error) {
      log(`warning: could not read the gateway's record: ${error instanceof Error ? error.message : String(error)}`);
    }

    // --- ceilings ---------------------------------------------------------------------------
    // After the gateway, at the rate it was measured at (a ramp: its best step's, then ramping on
    // from there): the comparison is at the same rate, and the ceilings' own writes cannot start a
    // Postgres checkpoint inside the gateway's window.
    let httpFigures: CeilingFigures | undefined;
    let storeFigures: CeilingFigures | undefined;
    const ceilingRate = figures.rate - (p.urgentRate ?? 0);
    if (p.ceilingDurationS > 0) {
      const ceilingWarmupS = Math.min(options.warmupS, 2);
      log(`ceiling: bare Fastify route at ${ceilingRate}/s…`);
      const server = await startHttpCeiling();
      http = server;
      let httpNext = 0;
      const httpStep = async (rate: number): Promise<MeasuredStep> => {
        const mk = (seconds: number): Stream[] => {
          const offset = httpNext;
          httpNext += Math.round(rate * seconds);
          return [{ name: 'ordinary', rate, offset, expected: 0, send: (index) => server.post(bodyOf(index)) }];
        };
        if (ceilingWarmupS > 0) await runPhase({ seconds: ceilingWarmupS, streams: mk(ceilingWarmupS), okStatuses: [202] });
        return measure({ seconds: p.ceilingDurationS, okStatuses: [202], serverPid: server.pid, peakRssMiB: server.peakRssMiB, log }, mk(p.ceilingDurationS));
      };
      const what = 'a Fastify route answering 202 to the same bodies, no logging, auth, parsing or storage';
      if (options.saturate) {
        const r = await ramp(ceilingRate, CEILING_RAMP_FACTOR, options, p.p99LimitMs, log, httpStep);
        httpFigures = { ...withoutWindow(r.first), kind: 'http', what, saturation: r.figures };
      } else {
        httpFigures = { ...withoutWindow(await httpStep(ceilingRate)), kind: 'http', what };
      }
      await server.close();
      http = undefined;

      log(`ceiling: bare ${p.dialect === 'postgres' ? 'pg' : 'PGlite'} inserts of the same rows…`);
      const ceiling = await openStoreCeiling(p.dialect === 'postgres' ? database.env.DATABASE_URL : undefined);
      store = ceiling;
      let storeNext = 0;
      const write = async (index: number): Promise<number | 'error'> => {
        try {
          await ceiling.write({ index, body: bodyOf(index), sender: SENDER, recipients: p.recipients });
          return 200;
        } catch (error) {
          if (index % 1000 === 0) log(`  store ceiling: ${error instanceof Error ? error.message : String(error)}`);
          return 'error';
        }
      };
      const storeStep = async (rate: number): Promise<MeasuredStep> => {
        const mk = (seconds: number): Stream[] => {
          const offset = storeNext;
          storeNext += Math.round(rate * seconds);
          return [{ name: 'ordinary', rate, offset, expected: 0, send: write }];
        };
        if (ceilingWarmupS > 0) await runPhase({ seconds: ceilingWarmupS, streams: mk(ceilingWarmupS), okStatuses: [200] });
        return measure(
          { seconds: p.ceilingDurationS, okStatuses: [200], serverIsBench: true, postgresPids: p.dialect === 'postgres' ? database.postgresPids : undefined, log },
          mk(p.ceilingDurationS),
        );
      };
      const storeWhat =
        p.dialect === 'postgres'
          ? `one statement per packet: packet, payload (bytea), ${p.recipients.length} deliver${p.recipients.length === 1 ? 'y' : 'ies'} and event rows, pool of 10`
          : `payload file (written, fsynced, renamed), then one statement: packet, ${p.recipients.length} deliver${p.recipients.length === 1 ? 'y' : 'ies'} and event rows`;
      if (options.saturate) {
        const r = await ramp(ceilingRate, CEILING_RAMP_FACTOR, options, p.p99LimitMs, log, storeStep);
        storeFigures = { ...withoutWindow(r.first), kind: 'store', what: storeWhat, saturation: r.figures };
      } else {
        storeFigures = { ...withoutWindow(await storeStep(ceilingRate)), kind: 'store', what: storeWhat };
      }
      await ceiling.close();
      store = undefined;
    }


    const { from, ...step } = withWindow(figures);
    const gatewayFigures: GatewayFigures = { ...step, record, forwardedSignatures: p.signed ? signatures : undefined };
    const info = machineInfo();
    const partial: Omit<BenchReport, 'targets'> = {
      bench: 'edxgate-suite',
      version: 1,
      scenario: scenario.name,
      label: options.label,
      at: from.toISOString(),
      database: p.dialect,
      databaseVersion: database.serverVersion,
      machine: info,
      load,
      cpuSpeed,
      options: {
        mode: options.saturate ? 'saturate' : 'fixed',
        rate: p.rate,
        durationS: p.durationS,
        warmupS: options.warmupS,
        ceilingDurationS: p.ceilingDurationS,
        sizeBytes: tr.sizeBytes,
        recipients: p.recipients.length,
        signed: p.signed,
        urgentRate: p.urgentRate,
        logLevel: options.logLevel,
        env: options.env,
        nodeFlags: options.nodeFlags,
      },
      gateway: gatewayFigures,
      saturation,
      ceilings: { http: httpFigures, store: storeFigures },
      limit: machineLimit({
        cores: info.cpus,
        gateway: gatewayFigures,
        http: httpFigures,
        store: storeFigures,
        gatewayMaxRate: saturation?.maxSustainedRate,
        httpMaxRate: httpFigures?.saturation?.maxSustainedRate,
        storeMaxRate: storeFigures?.saturation?.maxSustainedRate,
      }),
    };
    return { ...partial, targets: scenario.targets(partial) };
  } finally {
    await client?.close().catch(() => undefined);
    await gateway?.kill().catch(() => undefined);
    await http?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    t?.release();
    await sink?.close().catch(() => undefined);
    await db?.dispose().catch(() => undefined);
    await trust?.close().catch(() => undefined);
  }
}
