// The command line of npm run bench (bench/lib/args.ts).

import t from 'tap';
import { parseBenchArgs, usage } from '../../bench/lib/args.ts';

const NAMES = ['small', 'medium', 'large', 'fan-out', 'urgent-under-load'];

function ok(argv: string[]) {
  const parsed = parseBenchArgs(argv, NAMES);
  if (!parsed.ok) throw new Error(`expected ${argv.join(' ')} to parse: ${parsed.error}`);
  return parsed.value;
}

function error(argv: string[]): string {
  const parsed = parseBenchArgs(argv, NAMES);
  if (parsed.ok) throw new Error(`expected ${argv.join(' ')} to be refused`);
  return parsed.error;
}

t.test('the acceptance command line', async (t) => {
  const o = ok(['--scenario', 'medium', '--duration', '30']);
  t.match(o, { command: 'run', scenario: 'medium', durationS: 30, rate: undefined, saturate: false, signed: undefined, json: false, docs: false, warmupS: 5, maxRate: 20_000, waitIdleS: 120 });
  t.equal(o.compare, undefined);
});

t.test('every option', async (t) => {
  const o = ok([
    '-s', 'small', '--duration', '12.5', '--rate', '1500', '--saturate', '--p99-limit', '250', '--max-rate', '4000', '--warmup', '0',
    '--ceiling-duration', '0', '--unsigned', '--urgent-rate', '2', '--json', '--compare', 'base.json', '--docs', '--label', 'after-fix',
    '--log-level', 'warn', '--env', 'DELIVERY_WORKERS=2', '--env', 'X=a=b', '--keep', '--wait-idle', '0', '--profile',
    '--node-flag=--max-semi-space-size=64', '--node-flag=--trace-gc',
  ]);
  t.match(o, {
    scenario: 'small', durationS: 12.5, rate: 1500, saturate: true, p99LimitMs: 250, maxRate: 4000, warmupS: 0, ceilingDurationS: 0, signed: false,
    urgentRate: 2, json: true, compare: 'base.json', docs: true, label: 'after-fix', logLevel: 'warn', keep: true, waitIdleS: 0, profile: true,
  });
  t.same(o.env, { DELIVERY_WORKERS: '2', X: 'a=b' }, 'only the first = splits');
  t.same(o.nodeFlags, ['--max-semi-space-size=64', '--trace-gc'], 'node flags in the order given');
  t.equal(ok(['--scenario', 'medium', '--signed']).signed, true);
});

t.test('mistakes are refused with what to do', async (t) => {
  t.match(error([]), /--scenario is required: one of small, medium/);
  t.match(error(['--scenario', 'huge']), /unknown scenario "huge"/);
  t.match(error(['--scenario', 'medium', '--duration', '0']), /--duration must be a positive number of seconds, not "0"/);
  t.match(error(['--scenario', 'medium', '--duration', '']), /--duration must be/);
  t.match(error(['--scenario', 'medium', '--rate', 'fast']), /--rate must be a positive number/);
  t.match(error(['--scenario', 'medium', '--warmup=-1']), /--warmup must be zero or more seconds/);
  t.match(error(['--scenario', 'medium', '--signed', '--unsigned']), /exclude each other/);
  t.match(error(['--scenario', 'medium', '--p99-limit', '50']), /--p99-limit applies to --saturate only/);
  t.match(error(['--scenario', 'medium', '--env', 'NOVALUE']), /--env takes KEY=VALUE/);
  t.match(error(['--scenario', 'medium', '--label', '../x']), /--label takes/);
  t.match(error(['--scenario', 'medium', '--node-flag', 'max-semi-space-size=64']), /--node-flag takes one flag such as/);
  t.match(error(['--scenario', 'medium', '--node-flag=--a --b']), /--node-flag takes one flag/);
  t.match(error(['--scenario', 'medium', '--bogus']), /bogus/);
  t.match(error(['--scenario', 'medium', 'extra']), /unexpected argument "extra"/);
});

t.test('help, list and docs-only need no scenario', async (t) => {
  t.equal(ok(['--help']).command, 'help');
  t.equal(ok(['--list']).command, 'list');
  t.equal(ok(['--docs-only']).command, 'docs');
  t.match(usage([{ name: 'medium', description: '100 KB signed' }]), /--scenario NAME[\s\S]*medium {13}100 KB signed/);
});
