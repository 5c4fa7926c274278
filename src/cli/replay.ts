// `edxgate replay PATH... (--to URL --token T | --in-process)`: posts packet files to a gateway, as
// an office system would, and sums up what the gateway said — accepted, duplicate, rejected by
// error code, failed — with the latency percentiles.

import { parseArgs } from 'node:util';

import { EdxError } from '../errors.ts';
import { EXIT_INVALID, EXIT_OK, UsageError, formatIssue, type CliIo, type Command } from './command.ts';
import type { InProcessGateway } from './in-process-gateway.ts';
import { ProgressBar } from './progress-bar.ts';
import { findPackets, replayPackets, summarize } from './replay-packets.ts';
import type { ReplayResult, ReplaySummary } from './replay-packets.ts';
import { formatError } from './with-store.ts';

/** The environment variable read when --token is not given (keeps the token out of `ps`). */
export const TOKEN_ENV = 'EDXGATE_TOKEN';
const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 256;
/** Refused or failed packets listed one by one in the text summary; --json lists them all. */
const LISTED_FAILURES = 20;

const USAGE = `Usage: edxgate replay PATH... --to URL [--token TOKEN] [--concurrency N] [--json]
       edxgate replay PATH... --in-process [--concurrency N] [--json]

Posts each edXML packet to POST /v1/packets of a gateway and prints a summary: accepted (202),
duplicate (200: the same packet was admitted before), rejected by error code (the problem+json
"code"), failed (an HTTP answer without a code, a network error), and the latency p50/p99 of
the posts that got an answer. A PATH is a packet file, or a folder walked for *.edxml files.
On a terminal a progress bar is drawn on stderr while the packets are posted.

Options:
  --to URL          the gateway's base URL, e.g. http://127.0.0.1:8080
  --token TOKEN     a client token allowed to send as the packets' senders (default: the
                    ${TOKEN_ENV} environment variable, which keeps it out of the process list)
  --in-process      start a gateway for this run instead: the real app on a temporary embedded
                    database (DATABASE_URL and DATA_DIR are not used) listening on 127.0.0.1,
                    with the demo directory, every agency the packets name, and a client allowed
                    to send as every sender found; it is shut down and deleted afterwards
  --concurrency N   posts in flight at once, 1 to ${MAX_CONCURRENCY} (default ${DEFAULT_CONCURRENCY})
  --json            print the summary and every packet's result as JSON
  -h, --help        show this help

Exit status: 0 every packet was accepted or a duplicate, 1 any was rejected or failed (or a
PATH cannot be read), 2 the command line is wrong.
`;

/** The `replay` command. */
export const replayCommand: Command = {
  summary: 'post packet files to a gateway (or an in-process one) and sum up the answers',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        to: { type: 'string' },
        token: { type: 'string' },
        'in-process': { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length === 0) throw new UsageError('replay needs at least one PATH (a packet file or a folder).');
    const inProcess = values['in-process'];
    if (inProcess && values.to !== undefined) throw new UsageError('Give either --to URL or --in-process, not both.');
    if (inProcess && values.token !== undefined) throw new UsageError('--in-process makes its own client; --token goes with --to.');
    if (!inProcess && values.to === undefined) throw new UsageError('replay needs --to URL (a running gateway) or --in-process.');
    const concurrency = concurrencyOption(values.concurrency);
    let target: { readonly url: string; readonly token: string } | undefined;
    if (values.to !== undefined) {
      const token = values.token ?? (io.env ?? process.env)[TOKEN_ENV];
      if (token === undefined || token === '') throw new UsageError(`--to needs a client token: --token TOKEN or ${TOKEN_ENV}.`);
      target = { url: baseUrlOption(values.to), token };
    }

    const { files, issues } = await findPackets(positionals, io.cwd);
    if (issues.length > 0) {
      io.stderr(issues.map((i) => `edxgate: ${formatIssue(i)}\n`).join(''));
      return EXIT_INVALID;
    }

    let gateway: InProcessGateway | undefined;
    if (target === undefined) {
      try {
        // Loaded on use: the whole gateway is only needed for --in-process.
        const { startInProcessGateway } = await import('./in-process-gateway.ts');
        gateway = await startInProcessGateway(files, io);
      } catch (error) {
        if (!(error instanceof EdxError)) throw error;
        io.stderr(formatError(error));
        return EXIT_INVALID;
      }
      target = { url: gateway.url, token: gateway.token };
      io.stderr(
        `edxgate: in-process gateway at ${gateway.url} (temporary embedded database; demo directory` +
          `${gateway.agenciesAdded > 0 ? ` + ${gateway.agenciesAdded} agencies named in the packets` : ''}; one client sending as ${gateway.senders.length} agencies)\n`,
      );
    }

    const bar = new ProgressBar(io, files.length);
    const tally = { accepted: 0, duplicate: 0, rejected: 0, failed: 0 };
    const status = (): string => `accepted ${tally.accepted}  duplicate ${tally.duplicate}  rejected ${tally.rejected}  failed ${tally.failed}`;
    bar.update(0, status(), true);
    const started = performance.now();
    let results: readonly ReplayResult[];
    try {
      results = await replayPackets(files, { baseUrl: target.url, token: target.token }, {
        concurrency,
        cwd: io.cwd,
        onResult: (result, done) => {
          tally[result.outcome.kind]++;
          bar.update(done, status(), done === files.length);
        },
      });
    } finally {
      bar.clear();
      await gateway?.close();
    }
    const durationMs = performance.now() - started;

    const summary = summarize(results);
    const shownTarget = gateway === undefined ? target.url : `${target.url} (in-process gateway)`;
    if (values.json) io.stdout(`${JSON.stringify(jsonReport(summary, results, { target: target.url, inProcess: gateway !== undefined, concurrency, durationMs }), null, 2)}\n`);
    else io.stdout(formatSummary(summary, results, { target: shownTarget, concurrency, durationMs }));
    const allGood = summary.accepted + summary.duplicate === summary.packets;
    return allGood ? EXIT_OK : EXIT_INVALID;
  },
};

function concurrencyOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_CONCURRENCY) {
    throw new UsageError(`--concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, not "${value}".`);
  }
  return n;
}

function baseUrlOption(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--to must be an absolute http:// or https:// URL, not "${value}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--to must be an http:// or https:// URL, not "${value}".`);
  return value;
}

interface RunInfo {
  readonly target: string;
  readonly concurrency: number;
  readonly durationMs: number;
}

/** The text summary. */
export function formatSummary(summary: ReplaySummary, results: readonly ReplayResult[], run: RunInfo): string {
  const rejected = Object.values(summary.rejected).reduce((a, b) => a + b, 0);
  const failed = Object.values(summary.failed).reduce((a, b) => a + b, 0);
  const keyWidth = Math.max(15, ...[...Object.keys(summary.rejected), ...Object.keys(summary.failed)].map((k) => k.length + 2));
  const row = (label: string, n: number): string => `  ${label.padEnd(keyWidth)}  ${String(n).padStart(5)}\n`;
  const sub = (counts: Readonly<Record<string, number>>): string =>
    Object.entries(counts)
      .map(([key, n]) => row(`  ${key}`, n))
      .join('');
  const ms = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)} ms`);
  const answered = results.filter((r) => r.latencyMs !== null).length;

  let text =
    `Replayed ${summary.packets} packet${summary.packets === 1 ? '' : 's'} to ${run.target} in ${(run.durationMs / 1000).toFixed(2)} s, ${run.concurrency} at a time:\n` +
    row('accepted (202)', summary.accepted) +
    row('duplicate (200)', summary.duplicate) +
    row('rejected', rejected) +
    sub(summary.rejected) +
    row('failed', failed) +
    sub(summary.failed) +
    `  latency p50 ${ms(summary.latencyMs.p50)}, p99 ${ms(summary.latencyMs.p99)} (${answered} answer${answered === 1 ? '' : 's'})\n`;

  const bad = results.filter((r) => r.outcome.kind === 'rejected' || r.outcome.kind === 'failed');
  if (bad.length > 0) {
    text += '\nRejected or failed:\n';
    for (const r of bad.slice(0, LISTED_FAILURES)) {
      const o = r.outcome;
      if (o.kind === 'rejected') text += `  ${r.file}: ${o.code} (HTTP ${o.status}) ${o.detail}\n`;
      else if (o.kind === 'failed') text += `  ${r.file}: ${o.reason} ${o.detail}\n`;
    }
    if (bad.length > LISTED_FAILURES) text += `  … and ${bad.length - LISTED_FAILURES} more (--json lists them all)\n`;
  }
  return text;
}

/** The --json report: the summary, then every packet's result in file order. */
function jsonReport(
  summary: ReplaySummary,
  results: readonly ReplayResult[],
  run: { readonly target: string; readonly inProcess: boolean; readonly concurrency: number; readonly durationMs: number },
): Record<string, unknown> {
  const round = (v: number | null): number | null => (v === null ? null : Math.round(v * 100) / 100);
  return {
    target: run.target,
    inProcess: run.inProcess,
    concurrency: run.concurrency,
    durationMs: round(run.durationMs),
    ...summary,
    latencyMs: { p50: round(summary.latencyMs.p50), p99: round(summary.latencyMs.p99) },
    results: results.map((r) => {
      const o = r.outcome;
      return {
        file: r.file,
        outcome: o.kind,
        status: o.status,
        code: o.kind === 'rejected' ? o.code : null,
        reason: o.kind === 'failed' ? o.reason : null,
        packetId: o.kind === 'accepted' || o.kind === 'duplicate' ? o.packetId : null,
        detail: o.kind === 'rejected' || o.kind === 'failed' ? o.detail : null,
        latencyMs: round(r.latencyMs),
      };
    }),
  };
}
