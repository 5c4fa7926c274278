// `edxgate report`: the agency statistics printed from the configured database (Postgres when
// DATABASE_URL is set, else the embedded PGlite in a temp DATA_DIR), in-process with a fixed clock.
// The rows are written first with the store's admission and SQL at fixed instants of March 2025;
// on PGlite the test closes its own store before the command opens the folder.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import t from 'tap';
import { COMMANDS } from '../../src/cli/main.ts';
import { UsageError } from '../../src/cli/command.ts';
import type { CliIo } from '../../src/cli/command.ts';
import { createReportCommand } from '../../src/cli/report.ts';
import { seedDemoIfEmpty } from '../../src/gateway/demo-seed.ts';
import { admitPacket } from '../../src/store/queries/admit-packet.ts';
import { testDatabase } from '../helpers/database.ts';
import { packetInput } from '../store/packet-input.ts';
import { REPO_ROOT, runCli } from './run-cli.ts';

const A = '000.00.15.H47';
const B = '000.01.15.H47';
const C = '000.02.15.H47';
const vn = (text: string): Date => new Date(`${text}+07:00`);
const NOW = vn('2025-04-02T10:00:00');

// A working directory without config files, so only the environment below configures the command.
const cwd = await mkdtemp(join(tmpdir(), 'edxgate-report-cwd-'));
t.teardown(() => rm(cwd, { recursive: true, force: true }));

const database = await testDatabase(t);
const db = database.store.db;
await seedDemoIfEmpty(db);
await db.updateTable('agencies').set({ created_at: vn('2024-01-01T00:00:00') }).execute();

// Monday 10 March: A to B (200 ms, accepted 03 the same morning) and C (400 ms, only 01: overdue).
const sentAt = vn('2025-03-10T09:00:00');
const input = await packetInput(database.store, { receivedAt: sentAt, recipients: [B, C].map((to) => ({ to, routeId: 'inbox' })) });
const { packet } = await admitPacket(db, input);
await db
  .insertInto('documents')
  .values({ document_id: packet.documentId, sender: A, packet_id: packet.packetId, business_type: 0, subject: input.subject, priority: 0, received_at: sentAt })
  .onConflict((oc) => oc.doNothing())
  .execute();
for (const d of packet.deliveries) {
  await db
    .insertInto('document_recipients')
    .values({ document_id: packet.documentId, sender: A, recipient: d.to, delivery_id: d.deliveryId })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const latency = d.to === B ? 200 : 400;
  await sql`
    UPDATE deliveries SET state = 'delivered', delivered_at = ${new Date(sentAt.getTime() + latency)}, latency_ms = ${latency}, attempts = 1
    WHERE id = ${d.deliveryId}`.execute(db);
}
await db
  .updateTable('document_recipients')
  .set({ status_code: '03', status_at: vn('2025-03-10T10:00:00'), confirmed_at: vn('2025-03-10T10:00:00') })
  .where('recipient', '=', B)
  .execute();
await db.updateTable('document_recipients').set({ status_code: '01', status_at: vn('2025-03-10T09:00:01') }).where('recipient', '=', C).execute();

const env: Record<string, string> = { EDXGATE_CONFIG: '', LOG_LEVEL: 'silent', DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl ?? '' };
// The embedded database admits one opener at a time: the command's.
if (database.kind === 'pglite') await database.store.close();

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function report(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), cwd, env };
  const code = await createReportCommand({ now: () => NOW }).run(args, io);
  return { code, stdout, stderr };
}

const MARCH = ['--from', '2025-03-01', '--to', '2025-04-01'];

t.test('a table for the terminal: the period, the rules, a row per agency, then the idle agencies', async (t) => {
  const run = await report(MARCH);
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stderr, '');
  const lines = run.stdout.split('\n');
  t.equal(lines[0], 'Agency report 2025-03-01 – 2025-03-31 (Vietnam days), made 2025-04-02T10:00:00.000+07:00');
  t.equal(lines[1], 'Receipt is due by 17:00 of the working day of delivery (weekdays 1,2,3,4,5; no holidays configured).');
  t.match(lines[3], /^CODE\s+SENT\s+RECEIVED\s+UNDELIVERED\s+NONE\s+01\s+02\s+03\s+04\s+05\s+06\s+RECALLED\s+DELIVERIES\s+LATE\s+P50_MS\s+P99_MS\s+UNCONFIRMED\s+URGENT_LATE\s+IDLE\s+NAME$/);
  const row = (code: string): string[] => (lines.find((l) => l.startsWith(`${code} `)) ?? '').split(/\s{2,}/);
  t.same(row(A).slice(0, 18), [A, '1', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '-', '-', '0', '0']);
  t.same(row(B).slice(0, 18), [B, '0', '1', '0', '0', '0', '0', '1', '0', '0', '0', '0', '1', '0', '200', '200', '0', '0']);
  t.same(row(C).slice(0, 18), [C, '0', '1', '0', '0', '1', '0', '0', '0', '0', '0', '0', '1', '0', '400', '400', '1', '0']);
  t.match(row(A).at(-1), 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam', 'names last, in Vietnamese');
  t.match(run.stdout, /\nNo exchange since 2024-10-01 \(6 months before 2025-04-01\):\nCODE\s+STATE\s+NAME\n/);
  t.match(run.stdout, /\n000\.03\.15\.H47\s+active\s+\S/, 'an agency that exchanged nothing is listed');
});

t.test('json and csv print what the API returns', async (t) => {
  const json = await report([...MARCH, '--format', 'json']);
  t.equal(json.code, 0, json.stderr);
  const body = JSON.parse(json.stdout) as { period: { from: string; to: string }; agencies: { code: string; documentsReceived: number; overdueUnconfirmed: number; latencyMedianMs: number | null }[]; noExchange: { code: string }[] };
  t.same(body.period, { from: '2025-03-01', to: '2025-04-01', fromInstant: '2025-03-01T00:00:00.000+07:00', toInstant: '2025-04-01T00:00:00.000+07:00' });
  t.match(body.agencies.find((a) => a.code === C), { documentsReceived: 1, overdueUnconfirmed: 1, latencyMedianMs: 400 });
  t.notOk(body.noExchange.some((a) => [A, B, C].includes(a.code)));

  const csv = await report([...MARCH, '--format', 'csv', '--agency', B]);
  t.equal(csv.code, 0, csv.stderr);
  t.ok(csv.stdout.startsWith('\uFEFFagency_code,agency_name,'), 'a BOM, then the header');
  const lines = csv.stdout.slice(1).split('\r\n');
  t.equal(lines.length, 3, 'header, B, and the final line end');
  t.match(lines[1], new RegExp(`^${B.replaceAll('.', '\\.')},[^,]+,0,1,0,0,0,0,1,0,0,0,0,1,0,200,200,0,0,false$`));
});

t.test('--agency narrows the report', async (t) => {
  const run = await report([...MARCH, '--format', 'json', '--agency', B, '--agency', C]);
  const body = JSON.parse(run.stdout) as { agencies: { code: string }[]; noExchange: unknown[] };
  t.same(body.agencies.map((a) => a.code), [B, C]);
  t.same(body.noExchange, []);
});

t.test('a wrong command line is a usage error naming the option', async (t) => {
  await t.rejects(report(['--to', '2025-04-01']), { name: 'UsageError', message: /--from: Give the day/ });
  await t.rejects(report(['--from', '2025-02-30', '--to', '2025-04-01']), { name: 'UsageError', message: /--from: .*got "2025-02-30"/ });
  await t.rejects(report(['--from', '2025-04-01', '--to', '2025-03-01']), { name: 'UsageError', message: /--to: The end/ });
  await t.rejects(report([...MARCH, '--format', 'xml']), new UsageError('--format must be table, json, csv, not "xml".'));
  await t.rejects(report([...MARCH, 'extra']), UsageError);
  await t.rejects(report([...MARCH, '--color']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
});

t.test('the edxgate executable, once `report` is among its commands', async (t) => {
  await t.test('edxgate report --format json', { skip: Object.hasOwn(COMMANDS, 'report') ? false : 'not in COMMANDS yet' }, async (t) => {
    const run = await runCli(['report', ...MARCH, '--format', 'json'], REPO_ROOT, env);
    t.equal(run.code, 0, run.stderr);
    const body = JSON.parse(run.stdout) as { agencies: { code: string }[] };
    t.ok(body.agencies.some((a) => a.code === B));
  });
});
