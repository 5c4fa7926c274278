// `edxgate replay`, run as a real child process: in-process mode (a gateway started for the run on
// a temporary embedded database) and --to mode against a gateway built with buildApp and
// listening on loopback; summary counts, duplicates, refusals by code, failures, exit codes; and
// the progress bar, drawn only on a terminal.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { EXIT_INVALID, EXIT_OK } from '../../src/cli/command.ts';
import type { CliIo } from '../../src/cli/command.ts';
import { ProgressBar } from '../../src/cli/progress-bar.ts';
import { replayCommand } from '../../src/cli/replay.ts';
import { startTestGateway } from '../api/gateway-fixture.ts';
import { REPO_ROOT, runCli } from './run-cli.ts';

// Each in-process replay starts a gateway on a fresh embedded database (a few seconds on PGlite).
t.setTimeout(300_000);

const VALID = 'fixtures/packets/valid';
const INVALID = 'fixtures/packets/invalid';
const SO = '000.00.15.H47';
/** The gateway setting the child must not inherit from a developer's shell. */
const CLEAN_ENV = { LOG_LEVEL: '', EDXGATE_CONFIG: '', EDXGATE_TOKEN: '' };

interface JsonResult {
  file: string;
  outcome: 'accepted' | 'duplicate' | 'rejected' | 'failed';
  status: number | null;
  code: string | null;
  reason: string | null;
  packetId: string | null;
  latencyMs: number | null;
}

interface JsonReport {
  target: string;
  inProcess: boolean;
  packets: number;
  accepted: number;
  duplicate: number;
  rejected: Record<string, number>;
  failed: Record<string, number>;
  latencyMs: { p50: number | null; p99: number | null };
  results: JsonResult[];
}

/**
 * The valid document fixtures, in name order. The status fixtures are left out: a status is about
 * a document's state at a recipient, so whether it is admitted depends on what came before it
 * (tracking's rules); the status scenario test below replays them in a meaningful order.
 */
function validFiles(): string[] {
  return readdirSync(join(REPO_ROOT, VALID))
    .filter((f) => f.endsWith('.edxml') && !f.startsWith('status-') && f !== 'minimal-status.edxml')
    .sort()
    .map((f) => `${VALID}/${f}`);
}

function replay(args: readonly string[], env: Readonly<Record<string, string>> = {}) {
  return runCli(['replay', ...args], REPO_ROOT, { ...CLEAN_ENV, ...env });
}

t.test('in-process: the status fixtures after their documents, one at a time, are applied by the tracking rules', async (t) => {
  const documents = ['new-official-letter-pdf', 'new-vpcp-to-25-agencies', 'minimal-document'];
  const statuses = [
    'status-01-arrived-no-staff',
    'status-02-rejected',
    'status-03-accepted',
    'status-04-assigned',
    'status-05-processing',
    'status-06-finished',
    'minimal-status',
    'status-13-recall-request',
    'status-15-recall-accepted',
    'status-16-recall-refused',
  ];
  const files = [...documents, ...statuses].map((f) => `${VALID}/${f}.edxml`);
  const run = await replay(['--in-process', '--concurrency', '1', ...files, '--json']);
  const report = JSON.parse(run.stdout) as JsonReport;
  const outcome = new Map(report.results.map((r) => [r.file.replace(`${VALID}/`, '').replace('.edxml', ''), `${r.status ?? '-'} ${r.code ?? ''}`.trim()]));
  for (const name of [...documents, ...statuses.slice(0, 8)]) t.equal(outcome.get(name), '202', `${name}: admitted and applied`);
  // Nobody pulled 000.00.00.H47's copy in a replay, so the recall (13) withdrew it and the gateway
  // answered 15 on its behalf: H47's own 15 repeats that answer, and 16 can no longer follow it.
  t.equal(outcome.get('status-15-recall-accepted'), '200', 'a repeat of the 15 the gateway sent for the recipient');
  t.equal(outcome.get('status-16-recall-refused'), '409 EDX_ERR_STATUS_TRANSITION', 'the recall was already answered');
  t.equal(run.code, EXIT_INVALID, 'one refusal: exit 1');
});

t.test('in-process: every valid document fixture is admitted, exit 0', async (t) => {
  const run = await replay(['--in-process', ...validFiles(), '--json']);
  t.equal(run.code, EXIT_OK, run.stderr);
  t.match(run.stderr, /^edxgate: in-process gateway at http:\/\/127\.0\.0\.1:\d+ \(temporary embedded database; demo directory \+ \d+ agencies named in the packets/);
  const report = JSON.parse(run.stdout) as JsonReport;
  const files = validFiles();
  t.equal(report.inProcess, true);
  t.equal(report.packets, files.length);
  t.same(report.results.map((r) => r.file), files, 'one result per file, in file order');
  t.equal(report.accepted, files.length);
  t.equal(report.duplicate, 0);
  t.same(report.rejected, {});
  t.same(report.failed, {});
  for (const r of report.results) t.match(r, { status: 202, packetId: /^[0-9a-f-]{36}$/, latencyMs: Number });
  const { p50, p99 } = report.latencyMs;
  t.ok(p50 !== null && p99 !== null && p50 > 0 && p50 <= p99, `p50 ${p50} ≤ p99 ${p99}`);
});

t.test('in-process: the same packets twice → every second post is a duplicate, exit 0', async (t) => {
  const files = validFiles();
  const run = await replay(['--in-process', '--concurrency', '3', ...files, ...files]);
  t.equal(run.code, EXIT_OK, run.stdout);
  const n = files.length;
  t.match(run.stdout, new RegExp(`^Replayed ${2 * n} packets to http://127\\.0\\.0\\.1:\\d+ \\(in-process gateway\\) in \\d+\\.\\d\\d s, 3 at a time:\\n`));
  t.match(run.stdout, new RegExp(`^ {2}accepted \\(202\\) +${n}$`, 'm'));
  t.match(run.stdout, new RegExp(`^ {2}duplicate \\(200\\) +${n}$`, 'm'));
  t.match(run.stdout, /^ {2}rejected +0$/m);
  t.match(run.stdout, /^ {2}failed +0$/m);
  t.match(run.stdout, new RegExp(`^ {2}latency p50 \\d+\\.\\d ms, p99 \\d+\\.\\d ms \\(${2 * n} answers\\)$`, 'm'));
  t.notMatch(run.stdout, 'Rejected or failed');
  t.notMatch(run.stderr, '\r', 'no progress bar when stderr is not a terminal');
});

t.test('in-process: every invalid fixture is rejected with the code its folder is named after', async (t) => {
  const run = await replay(['--in-process', INVALID, '--json', '--concurrency', '8']);
  t.equal(run.code, EXIT_INVALID);
  const report = JSON.parse(run.stdout) as JsonReport;
  t.ok(report.packets > 20, `${report.packets} invalid fixtures`);
  t.equal(report.accepted + report.duplicate, 0);
  t.same(report.failed, {});
  for (const r of report.results) {
    const expected = r.file.split('/')[3];
    t.equal(r.code, expected, r.file);
  }
  const total = Object.values(report.rejected).reduce((a, b) => a + b, 0);
  t.equal(total, report.packets, 'the codes add up to the packets');
});

t.test('--to: posts to a gateway listening on loopback, with the token of a client', async (t) => {
  const gw = await startTestGateway(t, { listen: true });
  const url = gw.url ?? '';
  const mine = [`${VALID}/new-notice-to-10-units.edxml`, `${VALID}/new-official-letter-pdf.edxml`, `${VALID}/revoke-official-letter.edxml`];
  // From 000.05.15.H47: the client of the Sở may not send as its unit.
  const foreign = `${VALID}/new-submission-zip.edxml`;

  const first = await replay([...mine, foreign, '--to', url, '--token', gw.token(SO), '--json']);
  t.equal(first.code, EXIT_INVALID);
  const report = JSON.parse(first.stdout) as JsonReport;
  t.equal(report.target, url);
  t.equal(report.inProcess, false);
  t.equal(report.accepted, 3);
  t.same(report.rejected, { EDX_ERR_AUTH_FORBIDDEN: 1 });
  t.match(report.results[3], { file: foreign, outcome: 'rejected', status: 403, code: 'EDX_ERR_AUTH_FORBIDDEN' });
  const ids = report.results.slice(0, 3).map((r) => r.packetId);
  // Packets with no client are the gateway's own (the revocation withdrew the unpulled letter and
  // the gateway answered 15 for its recipient); the posted ones are those with this client.
  const stored = await gw.db.store.db.selectFrom('packets').select('id').where('client_id', 'is not', null).execute();
  t.same(stored.map((r) => r.id).sort(), [...ids].sort(), 'the accepted packets are the ones in the database');

  // The token from the environment, as the usage suggests (it stays out of the process list).
  const again = await replay([...mine, '--to', url], { EDXGATE_TOKEN: gw.token(SO) });
  t.equal(again.code, EXIT_OK, again.stdout);
  t.match(again.stdout, /^ {2}accepted \(202\) +0$/m);
  t.match(again.stdout, /^ {2}duplicate \(200\) +3$/m);

  const stranger = await replay([mine[0] ?? '', '--to', url, '--token', 'edx_not-a-token']);
  t.equal(stranger.code, EXIT_INVALID);
  t.match(stranger.stdout, /^ {4}EDX_ERR_AUTH_REQUIRED +1$/m);
  t.match(stranger.stdout, /^Rejected or failed:\n {2}fixtures\/packets\/valid\/new-notice-to-10-units\.edxml: EDX_ERR_AUTH_REQUIRED \(HTTP 401\) /m);
});

t.test('--to: an answer without a problem code, and no answer at all, count as failed', async (t) => {
  const server = createServer((_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const proxied = await replay([`${VALID}/minimal-document.edxml`, '--to', proxyUrl, '--token', 'x', '--json']);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  t.equal(proxied.code, EXIT_INVALID);
  const report = JSON.parse(proxied.stdout) as JsonReport;
  t.same(report.failed, { 'HTTP 502': 1 });
  t.match(report.results[0], { outcome: 'failed', status: 502, reason: 'HTTP 502' });

  // The port was just closed: nothing listens there.
  const refused = await replay([`${VALID}/minimal-document.edxml`, '--to', proxyUrl, '--token', 'x']);
  t.equal(refused.code, EXIT_INVALID);
  t.match(refused.stdout, /^ {4}network ECONNREFUSED +1$/m);
  t.match(refused.stdout, /latency p50 -, p99 - \(0 answers\)/);
});

t.test('the progress bar is drawn in place on a terminal, and not at all elsewhere', async (t) => {
  const gw = await startTestGateway(t, { listen: true });
  const files = [`${VALID}/new-notice-to-10-units.edxml`, `${VALID}/new-official-letter-pdf.edxml`, `${VALID}/revoke-official-letter.edxml`];
  const capture = (tty: boolean): { io: CliIo; out: string[]; err: string[] } => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      stdout: (s) => void out.push(s),
      stderr: (s) => void err.push(s),
      cwd: REPO_ROOT,
      env: {},
      stderrIsTTY: tty,
      stderrColumns: 100,
    };
    return { io, out, err };
  };

  const terminal = capture(true);
  t.equal(await replayCommand.run([...files, '--to', gw.url ?? '', '--token', gw.token(SO)], terminal.io), EXIT_OK);
  const drawn = terminal.err.join('');
  t.match(drawn, /^\r\[\.+\] 0\/3 accepted 0 {2}duplicate 0 {2}rejected 0 {2}failed 0\x1b\[K/, 'the first frame, before any answer');
  t.match(drawn, /\r\[#+\] 3\/3 accepted 3 {2}duplicate 0 {2}rejected 0 {2}failed 0\x1b\[K/, 'the last frame, every packet answered');
  t.ok(drawn.endsWith('\r\x1b[K'), 'the bar is erased at the end');
  t.notMatch(drawn, '\n', 'redrawn in place: no new line');
  for (const frame of drawn.split('\r').filter((f) => f !== '')) {
    t.ok(frame.replace('\x1b[K', '').length < 100, `a frame fits the terminal: ${JSON.stringify(frame)}`);
  }
  t.match(terminal.out.join(''), /accepted \(202\) +3/, 'the summary goes to stdout');

  // A narrow terminal: the line is cut rather than wrapped (a wrapped line cannot be redrawn with \r).
  const narrow = capture(true);
  const bar = new ProgressBar({ ...narrow.io, stderrColumns: 30 }, 1000);
  bar.update(999, 'accepted 999  duplicate 0  rejected 0  failed 0', true);
  const frame = narrow.err.join('');
  t.ok(frame.startsWith('\r[') && frame.endsWith('\x1b[K'));
  t.ok(frame.length - '\r\x1b[K'.length < 30, JSON.stringify(frame));

  const pipe = capture(false);
  t.equal(await replayCommand.run([...files, '--to', gw.url ?? '', '--token', gw.token(SO)], pipe.io), EXIT_OK);
  t.same(pipe.err, [], 'nothing on stderr when it is not a terminal');
});

t.test('usage errors exit 2; unreadable paths exit 1 before anything is posted', async (t) => {
  const usage = await Promise.all([
    replay([]),
    replay([VALID]),
    replay([VALID, '--to', 'http://127.0.0.1:1', '--in-process']),
    replay([VALID, '--in-process', '--token', 'x']),
    replay([VALID, '--to', 'http://127.0.0.1:1']),
    replay([VALID, '--to', 'ftp://127.0.0.1', '--token', 'x']),
    replay([VALID, '--in-process', '--concurrency', '0']),
    replay([VALID, '--in-process', '--concurrency', 'many']),
  ]);
  for (const run of usage) {
    t.equal(run.code, 2, run.stderr);
    t.match(run.stderr, /^edxgate: EDX_ERR_CLI_USAGE /);
  }
  const missing = await replay([`${VALID}/minimal-document.edxml`, 'khong-ton-tai', '--to', 'http://127.0.0.1:1', '--token', 'x']);
  t.equal(missing.code, EXIT_INVALID);
  t.equal(missing.stdout, '', 'nothing was posted');
  t.match(missing.stderr, /^edxgate: EDX_ERR_FILE_UNREADABLE khong-ton-tai: Cannot read the path/);
  const empty = await replay(['docs', '--to', 'http://127.0.0.1:1', '--token', 'x']);
  t.equal(empty.code, EXIT_INVALID);
  t.match(empty.stderr, 'EDX_ERR_FILE_UNREADABLE docs: The folder holds no *.edxml file.');
});
