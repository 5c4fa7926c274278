// What every `edxgate` sub-command shares: how it is described, how it writes, and how it reports
// catalogued issues. Commands get their output channels injected so that tests and the dispatcher
// decide where text goes; nothing here touches `process` directly.

import { ERROR_CATALOGUE, type ErrorCode, type Issue } from '../errors.ts';

/** Exit codes: 0 all good, 1 the input was refused (catalogued errors), 2 the command line is wrong. */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

/** Where a command writes and which directory relative paths are resolved against. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
  /** Environment variables commands read their config from; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Whether stderr is a terminal (progress is drawn only there); default false. */
  readonly stderrIsTTY?: boolean | undefined;
  /** Width of that terminal in columns, when known. */
  readonly stderrColumns?: number | undefined;
}

/** One sub-command of `edxgate`: its help text and what it does. */
export interface Command {
  /** One line for the command list of `edxgate help`. */
  readonly summary: string;
  /** The full usage text of `edxgate help COMMAND`, ending with a newline. */
  readonly usage: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/**
 * Runs the subcommand named by the first argument (`edxgate clients create …`), or refuses with the
 * list of subcommands. One place for the messages every command with subcommands gives.
 */
export function runSubcommand(
  command: string,
  handlers: Readonly<Record<string, (args: readonly string[], io: CliIo) => Promise<number>>>,
  args: readonly string[],
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = args;
  const names = Object.keys(handlers).join(', ');
  if (sub === undefined) throw new UsageError(`${command} needs a subcommand: ${names}.`);
  const handler = Object.hasOwn(handlers, sub) ? handlers[sub] : undefined;
  if (handler === undefined) throw new UsageError(`Unknown ${command} subcommand "${sub}"; use one of ${names}.`);
  return handler(rest, io);
}

/** A wrong command line: the dispatcher prints it as EDX_ERR_CLI_USAGE and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Whether an error thrown by node:util parseArgs is about the command line (not a bug). */
export function isParseArgsError(error: unknown): error is Error & { code: string } {
  return (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('ERR_PARSE_ARGS_')
  );
}

/** The one-line text form of an issue, as `validate` and `build` print it: `CODE path: message`. */
export function formatIssue(item: Issue): string {
  const prefix = item.severity === 'warning' ? 'warning ' : '';
  const value = item.value === undefined ? '' : ` (value: ${JSON.stringify(item.value)})`;
  return `${prefix}${item.code} ${item.path}: ${item.message}${value}`;
}

/** A plain text table for terminals: columns padded to their widest cell, the last one unpadded. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}\n`;
  return [header, ...rows].map(line).join('');
}

/** The usage-error line printed on stderr, with the catalogue's advice. */
export function formatUsageError(detail: string): string {
  // node:util parseArgs messages do not always end a sentence; the catalogue's advice follows.
  const sentence = /[.!?]$/.test(detail) ? detail : `${detail}.`;
  return `edxgate: ${usageCode} ${sentence} ${ERROR_CATALOGUE[usageCode].action}\n`;
}

const usageCode: ErrorCode = 'EDX_ERR_CLI_USAGE';
