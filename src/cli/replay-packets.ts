// The engine of `edxgate replay`: find the packet files, post them to a gateway's POST /v1/packets
// with bounded concurrency, classify every answer, and sum up. No output of its own: the command
// decides what is printed, and a progress callback reports each finished post.

import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';

import { issue } from '../errors.ts';
import type { Issue } from '../errors.ts';

/** The file name ending of packets found by walking a folder. */
export const PACKET_EXTENSION = '.edxml';

/**
 * The files to post, in order: a file path as given (whatever its name), a folder walked
 * recursively for *.edxml files in name order. Unreadable paths are issues; nothing is posted then.
 */
export async function findPackets(paths: readonly string[], cwd: string): Promise<{ readonly files: readonly string[]; readonly issues: readonly Issue[] }> {
  const files: string[] = [];
  const issues: Issue[] = [];
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    try {
      const info = await stat(absolute);
      if (info.isDirectory()) {
        const found = await walk(absolute, path);
        if (found.length === 0) issues.push(issue('EDX_ERR_FILE_UNREADABLE', path, `The folder holds no *${PACKET_EXTENSION} file.`));
        files.push(...found);
      } else {
        files.push(path);
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      issues.push(issue('EDX_ERR_FILE_UNREADABLE', path, `Cannot read the path: ${reason}.`));
    }
  }
  return { files, issues };
}

/** *.edxml files under `absolute`, shown relative to how the folder was given; sorted by name at each level. */
async function walk(absolute: string, shown: string): Promise<string[]> {
  const entries = await readdir(absolute, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) out.push(...(await walk(join(absolute, entry.name), join(shown, entry.name))));
    else if (entry.isFile() && entry.name.toLowerCase().endsWith(PACKET_EXTENSION)) out.push(join(shown, entry.name));
  }
  return out;
}

/** What became of one packet. */
export type ReplayOutcome =
  /** 202: admitted. */
  | { readonly kind: 'accepted'; readonly status: number; readonly packetId: string | null }
  /** 200: the same packet had been admitted before; the original receipt came back. */
  | { readonly kind: 'duplicate'; readonly status: number; readonly packetId: string | null }
  /** A problem+json refusal: `code` is the catalogue code the gateway gave. */
  | { readonly kind: 'rejected'; readonly status: number; readonly code: string; readonly detail: string }
  /** No usable answer: an HTTP status without a problem code, a network error, an unreadable file. */
  | { readonly kind: 'failed'; readonly status: number | null; readonly reason: string; readonly detail: string };

/** One packet's result. */
export interface ReplayResult {
  readonly file: string;
  readonly outcome: ReplayOutcome;
  /** From sending the request to having read the whole answer; null when no answer came. */
  readonly latencyMs: number | null;
}

/** Where and how to post. */
export interface ReplayTarget {
  /** The gateway's base URL; packets go to `<base>/v1/packets`. */
  readonly baseUrl: string;
  readonly token: string;
}

/** Options of `replayPackets`. */
export interface ReplayOptions {
  /** Posts in flight at once (default 4). */
  readonly concurrency?: number;
  /** Base of relative file paths. */
  readonly cwd: string;
  /** Called after each post, with the results so far (in completion order). */
  readonly onResult?: (result: ReplayResult, done: number) => void;
}

/** Posts every file to the target; the results in file order. */
export async function replayPackets(files: readonly string[], target: ReplayTarget, options: ReplayOptions): Promise<readonly ReplayResult[]> {
  const concurrency = options.concurrency ?? 4;
  const url = packetsUrl(target.baseUrl);
  const pool = new Pool(url.origin, { connections: concurrency });
  const results: ReplayResult[] = new Array<ReplayResult>(files.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < files.length; i = next++) {
      const file = files[i] as string;
      const result = await postOne(pool, url, target.token, file, options.cwd);
      results[i] = result;
      options.onResult?.(result, ++done);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  } finally {
    await pool.close();
  }
  return results;
}

/** `<base>/v1/packets`, keeping a path prefix of the base (a gateway behind a reverse proxy). */
export function packetsUrl(baseUrl: string): URL {
  return new URL('v1/packets', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
}

async function postOne(pool: Pool, url: URL, token: string, file: string, cwd: string): Promise<ReplayResult> {
  let bytes: Buffer;
  try {
    // Read just before posting: at most `concurrency` packets are in memory, however many are replayed.
    bytes = await readFile(resolve(cwd, file));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { file, outcome: { kind: 'failed', status: null, reason: 'EDX_ERR_FILE_UNREADABLE', detail }, latencyMs: null };
  }
  const started = performance.now();
  try {
    const response = await pool.request({
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' },
      body: bytes,
    });
    const text = await response.body.text();
    const latencyMs = performance.now() - started;
    return { file, outcome: classify(response.statusCode, text), latencyMs };
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : 'ERROR';
    const detail = error instanceof Error ? error.message : String(error);
    return { file, outcome: { kind: 'failed', status: null, reason: `network ${code}`, detail }, latencyMs: null };
  }
}

/** Turns an answer into an outcome: 202 accepted, 200 duplicate, problem+json rejected by its code. */
export function classify(status: number, body: string): ReplayOutcome {
  const json = parseJson(body);
  if (status === 202 || status === 200) {
    const packetId = json !== undefined && typeof json.packetId === 'string' ? json.packetId : null;
    return { kind: status === 202 ? 'accepted' : 'duplicate', status, packetId };
  }
  if (json !== undefined && typeof json.code === 'string' && json.code !== '') {
    const detail = typeof json.detail === 'string' ? json.detail : '';
    return { kind: 'rejected', status, code: json.code, detail };
  }
  // A proxy's error page, or a server that is not an edxgate: no code to go by.
  return { kind: 'failed', status, reason: `HTTP ${status}`, detail: body.slice(0, 200).replace(/\s+/g, ' ').trim() };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The sums `replay` prints. */
export interface ReplaySummary {
  readonly packets: number;
  readonly accepted: number;
  readonly duplicate: number;
  /** Refusals by catalogue code, most frequent first. */
  readonly rejected: Readonly<Record<string, number>>;
  /** Failures by reason (`HTTP 502`, `network ECONNREFUSED`, …), most frequent first. */
  readonly failed: Readonly<Record<string, number>>;
  /** Percentiles of the latency of every post that got an answer (null when none did). */
  readonly latencyMs: { readonly p50: number | null; readonly p99: number | null };
}

/** Sums the results up. */
export function summarize(results: readonly ReplayResult[]): ReplaySummary {
  const rejected = new Map<string, number>();
  const failed = new Map<string, number>();
  let accepted = 0;
  let duplicate = 0;
  for (const { outcome } of results) {
    if (outcome.kind === 'accepted') accepted++;
    else if (outcome.kind === 'duplicate') duplicate++;
    else if (outcome.kind === 'rejected') rejected.set(outcome.code, (rejected.get(outcome.code) ?? 0) + 1);
    else failed.set(outcome.reason, (failed.get(outcome.reason) ?? 0) + 1);
  }
  const latencies = results.flatMap((r) => (r.latencyMs === null ? [] : [r.latencyMs])).sort((a, b) => a - b);
  return {
    packets: results.length,
    accepted,
    duplicate,
    rejected: byCount(rejected),
    failed: byCount(failed),
    latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
  };
}

/** The nearest-rank percentile of sorted values: the smallest value with at least p of them at or below it. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

function byCount(counts: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}
