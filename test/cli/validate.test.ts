// `edxgate validate`, run as a real child process: exit codes, text and JSON output.

import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { runCli } from './run-cli.ts';

const VALID = 'fixtures/packets/valid';
const INVALID = 'fixtures/packets/invalid';
const SAMPLES = '/work/shared/interop/vpcp-samples';

t.test('a valid packet: OK, exit 0', async (t) => {
  const run = await runCli(['validate', `${VALID}/new-official-letter-pdf.edxml`]);
  t.equal(run.code, 0);
  t.equal(run.stdout, `${VALID}/new-official-letter-pdf.edxml: OK\n`);
  t.equal(run.stderr, '');
});

t.test('an invalid packet: its errors as CODE path: message lines, exit 1', async (t) => {
  const file = `${INVALID}/EDX_ERR_PRIORITY_INVALID/priority-5.edxml`;
  const run = await runCli(['validate', file]);
  t.equal(run.code, 1);
  const [head, ...lines] = run.stdout.trimEnd().split('\n');
  t.equal(head, `${file}: 1 error`);
  t.equal(lines.length, 1);
  t.match(lines[0] ?? '', /^ {2}EDX_ERR_PRIORITY_INVALID MessageHeader\/OtherInfo\/Priority: .+\(value: "5"\)$/);
});

t.test('one invalid file among valid ones makes the run fail', async (t) => {
  const run = await runCli([
    'validate',
    `${VALID}/minimal-document.edxml`,
    `${INVALID}/EDX_ERR_XML_MALFORMED/two-roots.edxml`,
    `${VALID}/minimal-status.edxml`,
  ]);
  t.equal(run.code, 1);
  t.match(run.stdout, `${VALID}/minimal-document.edxml: OK\n`);
  t.match(run.stdout, `${VALID}/minimal-status.edxml: OK\n`);
  t.match(run.stdout, /two-roots\.edxml: 1 error\n {2}EDX_ERR_XML_MALFORMED /);
});

t.test('an unreadable file counts as invalid with EDX_ERR_FILE_UNREADABLE', async (t) => {
  const run = await runCli(['validate', `${VALID}/minimal-document.edxml`, 'khong-ton-tai.edxml']);
  t.equal(run.code, 1);
  t.match(run.stdout, /khong-ton-tai\.edxml: 1 error\n {2}EDX_ERR_FILE_UNREADABLE khong-ton-tai\.edxml: /);
  const dir = await runCli(['validate', 'fixtures']);
  t.equal(dir.code, 1, 'a directory is not a packet');
  t.match(dir.stdout, 'EDX_ERR_FILE_UNREADABLE');
});

t.test('warnings are shown as such and do not fail the run', async (t) => {
  const run = await runCli(['validate', `${SAMPLES}/edoc_new.edxml`]);
  t.equal(run.code, 0);
  t.match(run.stdout, /edoc_new\.edxml: OK \(1 warning\)\n {2}warning EDX_ERR_XML_MALFORMED /);
});

t.test('every official VPCP sample validates (exit 0)', async (t) => {
  const files = readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.edxml'))
    .map((f) => join(SAMPLES, f));
  t.ok(files.length >= 15, `${files.length} samples`);
  const run = await runCli(['validate', ...files]);
  t.equal(run.code, 0, run.stdout);
  t.equal(run.stdout.match(/: OK/g)?.length, files.length);
});

t.test('--json prints [{file, ok, errors, warnings}]', async (t) => {
  const bad = `${INVALID}/EDX_ERR_STATUS_REASON_REQUIRED/rejected-02-without-reason.edxml`;
  const run = await runCli(['validate', '--json', `${VALID}/status-02-rejected.edxml`, bad, `${SAMPLES}/edoc_new.edxml`]);
  t.equal(run.code, 1);
  const reports: unknown = JSON.parse(run.stdout);
  if (!Array.isArray(reports)) throw new TypeError('expected an array');
  t.equal(reports.length, 3, 'one report per file, in order');
  for (const report of reports) {
    t.same(Object.keys(report as object), ['file', 'ok', 'errors', 'warnings'], 'exactly these keys, in order');
  }
  t.same(reports[0], { file: `${VALID}/status-02-rejected.edxml`, ok: true, errors: [], warnings: [] });

  t.match(reports[1], { file: bad, ok: false, warnings: [] });
  t.equal(reports[1].errors.length, 1);
  t.same(Object.keys(reports[1].errors[0] as object), ['code', 'path', 'message', 'value']);
  t.match(reports[1].errors[0], {
    code: 'EDX_ERR_STATUS_REASON_REQUIRED',
    path: /Description$/,
    message: /without a reason/,
    value: '02',
  });

  t.match(reports[2], { file: `${SAMPLES}/edoc_new.edxml`, ok: true, errors: [] });
  t.equal(reports[2].warnings.length, 1, 'warnings are listed apart from errors');
  t.match(reports[2].warnings[0], { code: 'EDX_ERR_XML_MALFORMED', path: '1:1', message: String, value: '1212' });
});

t.test('--json gives value null when an issue repeats no value', async (t) => {
  const run = await runCli(['validate', '--json', 'khong-ton-tai.edxml']);
  t.equal(run.code, 1);
  const reports: unknown = JSON.parse(run.stdout);
  t.match(reports, [
    {
      file: 'khong-ton-tai.edxml',
      ok: false,
      errors: [{ code: 'EDX_ERR_FILE_UNREADABLE', path: 'khong-ton-tai.edxml', message: /Cannot read/ }],
      warnings: [],
    },
  ]);
  t.equal(Array.isArray(reports) ? reports[0]?.errors?.[0]?.value : undefined, null);
});

t.test('--agency-code-form chooses the agency code syntax', async (t) => {
  // The official edoc_new.edxml sends to `28.22.H17`: a QĐ 20 code but not a QCVN 102 one.
  const file = `${SAMPLES}/edoc_new.edxml`;
  t.equal((await runCli(['validate', file])).code, 0, 'default (qd20) accepts it');
  const strict = await runCli(['validate', '--agency-code-form', 'qcvn102', file]);
  t.equal(strict.code, 1);
  t.match(strict.stdout, 'EDX_ERR_AGENCY_CODE_INVALID MessageHeader/To[1]/OrganId');
  t.equal((await runCli(['validate', '--agency-code-form=lenient', file])).code, 0);

  const dir = mkdtempSync(join(tmpdir(), 'edxgate-validate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sandbox = join(dir, 'sandbox-id.edxml');
  writeFileSync(
    sandbox,
    readFileSync(`${VALID}/minimal-document.edxml`, 'utf8').replace(
      '<edXML:OrganId>000.00.00.H47</edXML:OrganId>',
      '<edXML:OrganId>vxp.saas.02</edXML:OrganId>',
    ),
  );
  t.equal((await runCli(['validate', sandbox])).code, 1, 'a sandbox id is not a QĐ 20 code');
  t.equal((await runCli(['validate', '--agency-code-form', 'lenient', sandbox])).code, 0, 'but lenient accepts it');
});

t.test('usage errors exit 2 with EDX_ERR_CLI_USAGE on stderr', async (t) => {
  const cases: readonly (readonly string[])[] = [
    ['validate'],
    ['validate', '--json'],
    ['validate', '--strict', `${VALID}/minimal-document.edxml`],
    ['validate', '--agency-code-form', 'qcvn', `${VALID}/minimal-document.edxml`],
    ['validate', '--agency-code-form'],
    [],
    ['khong-co-lenh'],
    // serve is a real command now; an option it does not know is still a usage error.
    ['serve', '--no-such-option'],
    ['help', 'khong-co-lenh'],
  ];
  for (const args of cases) {
    const run = await runCli(args);
    t.equal(run.code, 2, `edxgate ${args.join(' ')}`);
    t.match(run.stderr, /^edxgate: EDX_ERR_CLI_USAGE .+edxgate help/, `edxgate ${args.join(' ')}: stderr`);
    t.equal(run.stdout, '', `edxgate ${args.join(' ')}: nothing on stdout`);
  }
});

t.test('help', async (t) => {
  const help = await runCli(['help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage: edxgate COMMAND/);
  t.match(help.stdout, /\n {2}validate {2}/);
  t.match(help.stdout, /\n {2}build {5}/);
  t.equal((await runCli(['--help'])).stdout, help.stdout);

  const validateHelp = await runCli(['help', 'validate']);
  t.equal(validateHelp.code, 0);
  t.match(validateHelp.stdout, /^Usage: edxgate validate FILE\.\.\. \[--json\]/);
  const flag = await runCli(['validate', '--help']);
  t.equal(flag.code, 0);
  t.equal(flag.stdout, validateHelp.stdout);
});
