// The command line of `npm run bench` (bench/run.ts), parsed and checked in one pure function so
// that a typo fails before minutes of setup, and so that tests can check it.

import { parseArgs } from 'node:util';

/** What `npm run bench` was asked to do. */
export interface BenchOptions {
  /** run a scenario; docs: regenerate docs/benchmarks.md from docs/benchmarks/results.json; list; help. */
  readonly command: 'run' | 'docs' | 'list' | 'help';
  readonly scenario: string;
  /** Seconds measured (a ramp: per step); undefined: 30 (10 per step). */
  readonly durationS: number | undefined;
  /** Ordinary packets/s (a ramp: the first step); undefined: the scenario's default. */
  readonly rate: number | undefined;
  readonly saturate: boolean;
  /** The p99 a ramp step must hold; undefined: the scenario's. */
  readonly p99LimitMs: number | undefined;
  readonly maxRate: number;
  readonly warmupS: number;
  /** Seconds per ceiling; undefined: min(duration, 10); 0 skips the ceilings. */
  readonly ceilingDurationS: number | undefined;
  /** undefined: the scenario's default. */
  readonly signed: boolean | undefined;
  readonly urgentRate: number | undefined;
  readonly json: boolean;
  readonly compare: string | undefined;
  /** Fold the report into docs/benchmarks.md (and its results.json and chart). */
  readonly docs: boolean;
  readonly label: string;
  readonly logLevel: string;
  readonly env: Readonly<Record<string, string>>;
  /** Node/V8 flags for the gateway process, for runtime experiments. */
  readonly nodeFlags: readonly string[];
  readonly keep: boolean;
  readonly waitIdleS: number;
  readonly profile: boolean;
}

/** The usage text. */
export function usage(scenarios: readonly { readonly name: string; readonly description: string }[]): string {
  return [
    'usage: npm run bench -- --scenario NAME [--duration S] [--rate R] [--json] [--compare BASELINE.json] [options]',
    '       npm run bench -- --docs-only        regenerate docs/benchmarks.md and its chart from docs/benchmarks/results.json',
    '       npm run bench -- --list',
    '',
    'scenarios:',
    ...scenarios.map((s) => `  ${s.name.padEnd(18)} ${s.description}`),
    '',
    'options:',
    '  --duration S          seconds measured (30; with --saturate: per step, 10)',
    '  --rate R              packets/s (the scenario\'s default; with --saturate: the first step)',
    '  --saturate            ramp the rate up to the highest one the gateway sustains (and the ceilings)',
    '  --p99-limit MS        the p99 a saturation step must hold (the scenario\'s)',
    '  --max-rate R          highest rate a ramp tries (20000)',
    '  --warmup S            seconds of warm-up before measuring (5)',
    '  --ceiling-duration S  seconds per ceiling (min(duration, 10)); 0 skips them',
    '  --signed | --unsigned sender signs every packet / does not (the scenario\'s default)',
    '  --urgent-rate R       urgent packets/s beside the ordinary ones (urgent-under-load: 4)',
    '  --json                print the JSON report instead of the table',
    '  --compare FILE        print ratios against an earlier JSON report',
    '  --docs                fold this report into docs/benchmarks.md, docs/benchmarks/results.json and latency.svg',
    '  --label TEXT          a label kept in the report and its file name',
    '  --log-level LEVEL     the gateway\'s LOG_LEVEL (info)',
    '  --env KEY=VALUE       any other gateway setting (repeatable)',
    '  --node-flag=FLAG      a Node/V8 flag for the gateway process, e.g. --node-flag=--max-semi-space-size=64 (repeatable)',
    '  --keep                keep the database afterwards',
    '  --wait-idle S         wait up to S seconds for the machine to be idle first (120)',
    '  --profile             V8 CPU profile of the gateway into bench/results/profiles/',
    '',
    'DATABASE_URL set: a fresh Postgres database next to it for the run; unset: the embedded database.',
  ].join('\n');
}

/** Parse result. */
export type ParsedArgs = { readonly ok: true; readonly value: BenchOptions } | { readonly ok: false; readonly error: string };

function number(name: string, text: string | undefined, check: (n: number) => boolean, what: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || !check(value)) throw new Error(`--${name} must be ${what}, not ${JSON.stringify(text)}`);
  return value;
}
const positive = (n: number): boolean => n > 0;
const nonNegative = (n: number): boolean => n >= 0;

/** Parses `argv` (without node and the script); `scenarios` are the known names. */
export function parseBenchArgs(argv: readonly string[], scenarios: readonly string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        scenario: { type: 'string', short: 's' },
        duration: { type: 'string' },
        rate: { type: 'string' },
        saturate: { type: 'boolean', default: false },
        'p99-limit': { type: 'string' },
        'max-rate': { type: 'string' },
        warmup: { type: 'string' },
        'ceiling-duration': { type: 'string' },
        signed: { type: 'boolean' },
        unsigned: { type: 'boolean' },
        'urgent-rate': { type: 'string' },
        json: { type: 'boolean', default: false },
        compare: { type: 'string' },
        docs: { type: 'boolean', default: false },
        'docs-only': { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        label: { type: 'string', default: '' },
        'log-level': { type: 'string', default: 'info' },
        env: { type: 'string', multiple: true, default: [] },
        'node-flag': { type: 'string', multiple: true, default: [] },
        keep: { type: 'boolean', default: false },
        'wait-idle': { type: 'string' },
        profile: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (positionals.length > 0) throw new Error(`unexpected argument ${JSON.stringify(positionals[0])} (options start with --)`);
    const command = values.help ? 'help' : values.list ? 'list' : values['docs-only'] ? 'docs' : 'run';
    const scenario = values.scenario ?? '';
    if (command === 'run') {
      if (scenario === '') throw new Error(`--scenario is required: one of ${scenarios.join(', ')}`);
      if (!scenarios.includes(scenario)) throw new Error(`unknown scenario ${JSON.stringify(scenario)}: one of ${scenarios.join(', ')}`);
    }
    if (values.signed === true && values.unsigned === true) throw new Error('--signed and --unsigned exclude each other');
    if (values.label !== '' && !/^[\w.-]{1,40}$/.test(values.label)) throw new Error('--label takes up to 40 letters, digits, ".", "_" or "-" (it goes into a file name)');
    const env: Record<string, string> = {};
    for (const pair of values.env) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`--env takes KEY=VALUE, not ${JSON.stringify(pair)}`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    for (const flag of values['node-flag']) if (!/^--[\w-]+(=\S+)?$/.test(flag)) throw new Error(`--node-flag takes one flag such as --max-semi-space-size=64, not ${JSON.stringify(flag)}`);
    const saturate = values.saturate;
    const p99LimitMs = number('p99-limit', values['p99-limit'], positive, 'a positive number of ms');
    if (p99LimitMs !== undefined && !saturate) throw new Error('--p99-limit applies to --saturate only');
    return {
      ok: true,
      value: {
        command,
        scenario,
        durationS: number('duration', values.duration, positive, 'a positive number of seconds'),
        rate: number('rate', values.rate, positive, 'a positive number of packets per second'),
        saturate,
        p99LimitMs,
        maxRate: number('max-rate', values['max-rate'], positive, 'a positive number of packets per second') ?? 20_000,
        warmupS: number('warmup', values.warmup, nonNegative, 'zero or more seconds') ?? 5,
        ceilingDurationS: number('ceiling-duration', values['ceiling-duration'], nonNegative, 'zero or more seconds'),
        signed: values.signed === true ? true : values.unsigned === true ? false : undefined,
        urgentRate: number('urgent-rate', values['urgent-rate'], positive, 'a positive number of packets per second'),
        json: values.json,
        compare: values.compare,
        docs: values.docs,
        label: values.label,
        logLevel: values['log-level'],
        env,
        nodeFlags: values['node-flag'],
        keep: values.keep,
        waitIdleS: number('wait-idle', values['wait-idle'], nonNegative, 'zero or more seconds') ?? 120,
        profile: values.profile,
      },
    };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
