// CPU and memory of processes, read from Linux /proc, so a benchmark can tell the gateway's CPU
// apart from its own and from Postgres'. Elsewhere every reading is undefined and the report says so.

import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function statOf(pid: number | string): { readonly comm: string; readonly cpuSeconds: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces; the fields after the last ')' are fixed.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after `pid (comm) `.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { comm, cpuSeconds: ticks / clockTicks() };
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds a process has used so far. */
export function processCpuSeconds(pid: number): number | undefined {
  return statOf(pid)?.cpuSeconds;
}

/** CPU seconds so far of each of `pids` that still exists. */
export function cpuSecondsByPid(pids: Iterable<number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const stat = statOf(pid);
    if (stat !== undefined) out.set(pid, stat.cpuSeconds);
  }
  return out;
}

/** Pids of every process whose command name is `comm`. */
export function pidsOf(comm: string): number[] {
  try {
    return readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e) && statOf(e)?.comm === comm)
      .map(Number);
  } catch {
    return [];
  }
}

/** Peak and current resident memory of a process, in MiB (VmHWM, VmRSS). */
export function memoryOf(pid: number): { readonly peakRssMiB: number; readonly rssMiB: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { peakRssMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

/** Busy and total CPU seconds of the whole machine so far (all cores), from /proc/stat. */
export function machineCpuSeconds(): { readonly busy: number; readonly total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, ...values] = line.trim().split(/\s+/);
    const n = values.map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const idle = (n[3] ?? 0) + (n[4] ?? 0);
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / clockTicks(), total: total / clockTicks() };
  } catch {
    return undefined;
  }
}
