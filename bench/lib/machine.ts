// The machine a benchmark runs on, and waiting for it to be quiet: on a machine shared with other
// work, a run measures that work too, so a run waits (a bounded time) for the other work to stop.

import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { machineCpuSeconds } from './proc.ts';

/** What a report says about the machine. */
export interface MachineInfo {
  readonly cpus: number;
  readonly model: string;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
}

/** This machine. */
export function machineInfo(): MachineInfo {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
  };
}

/** The 1-minute load average, rounded. */
export function loadAverage(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

/** Busy share (0..1) of all cores over the next `ms`, or undefined off Linux. */
export async function machineBusyOver(ms: number): Promise<number | undefined> {
  const before = machineCpuSeconds();
  await sleep(ms);
  const after = machineCpuSeconds();
  if (before === undefined || after === undefined || after.total <= before.total) return undefined;
  return (after.busy - before.busy) / (after.total - before.total);
}

/** Waits up to `seconds` for the machine to be under 15 % busy; resolves with the last busy share seen. */
export async function waitForIdleMachine(seconds: number, log: (line: string) => void): Promise<number | undefined> {
  const deadline = performance.now() + seconds * 1000;
  for (let announced = false; ; announced = true) {
    const busy = await machineBusyOver(2000);
    if (busy === undefined || busy < 0.15) return busy;
    if (performance.now() > deadline) {
      log(`the machine is still ${(busy * 100).toFixed(0)} % busy; measuring anyway (the report shows it)`);
      return busy;
    }
    if (!announced) log(`the machine is ${(busy * 100).toFixed(0)} % busy with other work; waiting up to ${seconds} s for it to calm down…`);
  }
}
