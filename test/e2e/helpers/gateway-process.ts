// A gateway as a real child process (test/e2e/helpers/gateway-main.ts under tsx), for tests that
// must kill it (crash safety) and benchmarks that must measure its CPU apart from their own. The
// parent passes the whole config in the environment, waits for the "listening on" line, and keeps
// the tail of the child's output for failure messages.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./gateway-main.ts', import.meta.url));
/** Variables of the parent's environment that would configure the child behind the caller's back. */
const INHERITED_CONFIG = ['DATABASE_URL', 'DATA_DIR', 'HOST', 'PORT', 'EDXGATE_CONFIG', 'LOG_LEVEL', 'DATABASE_POOL_SIZE'];
const OUTPUT_TAIL_CHARS = 8000;

/** How a child exited. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Options of startGatewayProcess. */
export interface GatewayProcessOptions {
  /** The gateway's environment (DATABASE_URL or DATA_DIR, LOG_LEVEL, DELIVERY_*, …); PORT defaults to 0, HOST to 127.0.0.1. */
  readonly env: Readonly<Record<string, string>>;
  /** How long to wait for the "listening" line before giving up (default 60 s: tsx compiles on first start). */
  readonly startTimeoutMs?: number;
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeArgs?: readonly string[];
  /** Another entry that prints the same "listening on" line (bench/lib/bare-fastify-main.ts); default gateway-main.ts. */
  readonly entry?: string;
}

/** A running gateway child. */
export interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
  /** Resolves when the child has exited. */
  readonly exited: Promise<ChildExit>;
  /** The last few thousand characters of its stdout and stderr. */
  output(): string;
  /** SIGKILL: no shutdown code runs. Resolves once it is gone. */
  kill(): Promise<ChildExit>;
  /** SIGTERM (graceful shutdown), then SIGKILL after `graceMs`. Resolves once it is gone. */
  stop(graceMs?: number): Promise<ChildExit>;
}

/** Starts `edxgate serve` in a child process and resolves once it listens. */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !INHERITED_CONFIG.includes(key)) env[key] = value;
  Object.assign(env, { HOST: '127.0.0.1', PORT: '0' }, options.env);

  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', options.entry ?? ENTRY], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  // Both pipes are drained for the child's whole life: a child blocked on a full pipe would stall.
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<ChildExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const pid = child.pid;
  if (pid === undefined) throw new Error('the gateway child process could not be spawned');

  const url = await new Promise<string>((resolve, reject) => {
    let lines = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the gateway child did not start listening within ${options.startTimeoutMs ?? 60_000} ms; its output:\n${tail}`));
    }, options.startTimeoutMs ?? 60_000);
    const onStdout = (chunk: Buffer): void => {
      lines += chunk.toString('utf8');
      const found = /edxgate: listening on (\S+)/.exec(lines);
      if (found?.[1] !== undefined) {
        clearTimeout(timer);
        lines = '';
        child.stdout?.off('data', onStdout);
        resolve(found[1]);
      }
    };
    child.stdout?.on('data', onStdout);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`the gateway child exited before listening (code ${exit.code}, signal ${exit.signal}); its output:\n${tail}`));
    });
  });

  const signalAndWait = async (signal: NodeJS.Signals): Promise<ChildExit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return {
    url,
    pid,
    exited,
    output: () => tail,
    kill: () => signalAndWait('SIGKILL'),
    async stop(graceMs = 15_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await signalAndWait('SIGTERM');
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
