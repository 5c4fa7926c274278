// CPU used over one measured window, split between the process under test (the gateway, or a
// ceiling's bare server), the Postgres processes of the run's database, this bench process (load
// generator and webhook receiver) and everything else on the machine. "Everything else" is other
// work sharing the machine — another engineer's test run, say — which makes a run's figures
// unclean; the report prints it beside them.

import { performance } from 'node:perf_hooks';
import { cpuSecondsByPid, machineCpuSeconds, processCpuSeconds } from './proc.ts';

/** Options of startCpuWindow. */
export interface CpuWindowOptions {
  /** The process under test. */
  readonly serverPid?: number | undefined;
  /** The Postgres processes working for the run (empty on the embedded database). */
  readonly postgresPids?: (() => Promise<number[]>) | undefined;
}

/** CPU seconds over a window (undefined where /proc could not tell). */
export interface CpuReading {
  readonly windowS: number;
  readonly serverSeconds: number | undefined;
  readonly postgresSeconds: number | undefined;
  readonly benchSeconds: number;
  /** Busy share of all the machine's cores over the window (0..1). */
  readonly machineBusyShare: number | undefined;
  /** Share of the machine used by none of the above (0..1). */
  readonly otherShare: number | undefined;
}

/** A window that is running; `end()` reads it. */
export interface CpuWindow {
  end(): Promise<CpuReading>;
}

/** Starts measuring now. */
export async function startCpuWindow(options: CpuWindowOptions): Promise<CpuWindow> {
  const postgresBefore = options.postgresPids === undefined ? undefined : cpuSecondsByPid(await options.postgresPids());
  const at = performance.now();
  const server = options.serverPid === undefined ? undefined : processCpuSeconds(options.serverPid);
  const machine = machineCpuSeconds();
  const bench = process.cpuUsage();
  return {
    async end() {
      const windowS = (performance.now() - at) / 1000;
      const serverAfter = options.serverPid === undefined ? undefined : processCpuSeconds(options.serverPid);
      let postgresSeconds: number | undefined;
      if (postgresBefore !== undefined && options.postgresPids !== undefined) {
        postgresSeconds = 0;
        // A backend opened during the window counts from zero; one that ended is lost (rare: pools keep theirs).
        for (const [pid, seconds] of cpuSecondsByPid(new Set([...postgresBefore.keys(), ...(await options.postgresPids())]))) {
          postgresSeconds += seconds - (postgresBefore.get(pid) ?? 0);
        }
      }
      const machineAfter = machineCpuSeconds();
      const benchUsage = process.cpuUsage(bench);
      const benchSeconds = (benchUsage.user + benchUsage.system) / 1e6;
      const serverSeconds = server === undefined || serverAfter === undefined ? undefined : serverAfter - server;
      const busy = machine === undefined || machineAfter === undefined ? undefined : machineAfter.busy - machine.busy;
      const total = machine === undefined || machineAfter === undefined ? undefined : machineAfter.total - machine.total;
      const machineBusyShare = busy === undefined || total === undefined || total <= 0 ? undefined : busy / total;
      const otherShare =
        busy === undefined || total === undefined || total <= 0
          ? undefined
          : Math.max(0, busy - (serverSeconds ?? 0) - (postgresSeconds ?? 0) - benchSeconds) / total;
      return { windowS, serverSeconds, postgresSeconds, benchSeconds, machineBusyShare, otherShare };
    },
  };
}

/** Milliseconds of CPU per packet, or undefined. */
export function msPerPacket(seconds: number | undefined, packets: number): number | undefined {
  return seconds === undefined || packets <= 0 ? undefined : (seconds * 1000) / packets;
}
