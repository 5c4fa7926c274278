// The `edxgate` command line: a small dispatcher from the first argument to a sub-command.
// bin/edxgate.js loads this module (through tsx in a checkout, from dist/ in a build) and calls
// `main`; the module itself has no side effects, so tests can import it.

import { agenciesCommand } from './agencies.ts';
import { axisSystemsCommand } from './axis.ts';
import { buildCommand } from './build.ts';
import { clientsCommand } from './clients.ts';
import { doctorCommand } from './doctor.ts';
import {
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
  formatUsageError,
  isParseArgsError,
  type CliIo,
  type Command,
} from './command.ts';
import { migrateCommand } from './migrate.ts';
import { replayCommand } from './replay.ts';
import { reportCommand } from './report.ts';
import { routesCommand } from './routes.ts';
import { serveCommand } from './serve.ts';
import { signCommand } from './sign.ts';
import { validateCommand } from './validate.ts';
import { verifyCommand } from './verify.ts';

/**
 * The sub-commands, in the order `edxgate help` lists them. Later commands (verify, sign, doctor,
 * report) each add one entry here and one file beside this one; the dispatcher needs no other change.
 */
export const COMMANDS: Readonly<Record<string, Command>> = Object.freeze({
  serve: serveCommand,
  migrate: migrateCommand,
  agencies: agenciesCommand,
  clients: clientsCommand,
  'axis-systems': axisSystemsCommand,
  routes: routesCommand,
  report: reportCommand,
  replay: replayCommand,
  validate: validateCommand,
  build: buildCommand,
  verify: verifyCommand,
  sign: signCommand,
  doctor: doctorCommand,
});

const HELP_FLAGS = new Set(['-h', '--help']);

/** The overall help text. */
export function helpText(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length), 'help'.length);
  const lines = [
    ...names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name]?.summary ?? ''}`),
    `  ${'help'.padEnd(width)}  show this help, or a command's with "edxgate help COMMAND"`,
  ];
  return `Usage: edxgate COMMAND [ARGS...]

edxgate is the inter-agency edXML document gateway (QCVN 102:2016/BTTTT).

Commands:
${lines.join('\n')}

Exit status: 0 success, 1 the input was refused, 2 the command line is wrong.
Errors are printed with their EDX_ERR_* code; docs/errors.md lists them all.
`;
}

/** The standard streams and working directory of this process. */
export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
    stderrIsTTY: process.stderr.isTTY,
    stderrColumns: process.stderr.isTTY ? process.stderr.columns : undefined,
  };
}

/** Runs `edxgate` with `argv` (the arguments after the program name); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) throw new UsageError('No command given.');
    if (name === 'help' || HELP_FLAGS.has(name)) return help(rest, io);
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (command === undefined) throw new UsageError(`Unknown command "${name}".`);
    if (rest.some((arg) => HELP_FLAGS.has(arg))) {
      io.stdout(command.usage);
      return EXIT_OK;
    }
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr(formatUsageError(error.message));
      return EXIT_USAGE;
    }
    throw error;
  }
}

function help(args: readonly string[], io: CliIo): number {
  const [topic, ...extra] = args;
  if (extra.length > 0) throw new UsageError('help takes at most one COMMAND.');
  if (topic === undefined) {
    io.stdout(helpText());
    return EXIT_OK;
  }
  const command = Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic] : undefined;
  if (command === undefined) throw new UsageError(`Unknown command "${topic}".`);
  io.stdout(command.usage);
  return EXIT_OK;
}
