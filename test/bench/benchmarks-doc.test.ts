// The generated section of docs/benchmarks.md (bench/lib/benchmarks-doc.ts): results merged by
// slot, rendered in order, written between the markers and nowhere else.

import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  BEGIN_MARKER,
  END_MARKER,
  chartRows,
  docPaths,
  mergeReport,
  orderedReports,
  renderSection,
  replaceSection,
  reportKey,
  updateDocs,
} from '../../bench/lib/benchmarks-doc.ts';
import { sampleReport } from './report-fixture.ts';

const ORDER = ['small', 'medium', 'large', 'fan-out', 'urgent-under-load'];

t.test('one slot per scenario, database and mode; a later run replaces its slot only', async (t) => {
  const medium = sampleReport();
  const embedded = sampleReport({ database: 'pglite' });
  const small = sampleReport({ scenario: 'small', options: { ...medium.options, mode: 'saturate' } });
  t.equal(reportKey(medium), 'medium/postgres');
  t.equal(reportKey(small), 'small/postgres/saturate');
  let results = mergeReport(mergeReport(mergeReport({ version: 1, reports: {} }, embedded), medium), small);
  const later = sampleReport({ at: '2026-12-06T09:00:00.000Z' });
  results = mergeReport(results, later);
  t.same(Object.keys(results.reports).sort(), ['medium/pglite', 'medium/postgres', 'small/postgres/saturate']);
  t.equal(results.reports['medium/postgres']?.at, '2026-12-06T09:00:00.000Z');
  t.same(results.reports['medium/postgres']?.gateway.summary.perSecond, [], 'per-second breakdowns stay out of the docs');
  t.same(orderedReports(results, ORDER).map(reportKey), ['small/postgres/saturate', 'medium/postgres', 'medium/pglite'], 'scenario order, Postgres first');
});

t.test('the section: chart, runs, ceilings and targets', async (t) => {
  const section = renderSection([sampleReport()], 'benchmarks/latency.svg');
  t.ok(section.startsWith(BEGIN_MARKER) && section.endsWith(END_MARKER));
  t.match(section, /!\[End-to-end latency per scenario against the 5 s budget\]\(benchmarks\/latency\.svg\)/);
  t.match(section, /\| medium \| Postgres \| 104 KB signed \| 100 \| 100\.0 \| 20\.0 \| 40\.0 \| 80\.0 \| 120 \| 30\.0 \| 0 \/ 0 \| 8\.00 \| 2\.00 \| 1\.00 \| 300 \| 60 % \/ 2 % \| 2026-12-05 12:00 \|/);
  t.match(section, /\| medium \| Postgres \| 2\.0 \/ 0\.50 \| 4\.0 \/ 2\.50 \| 10\.00 \| 3\.00 \| 30 % \| 200 \/ 667 \| 125\/s \| 5\.00× \|/);
  t.match(section, /\| p99 ≤ 50 ms \| medium, Postgres \| \*\*no\*\* \| p99 80 ms \|/);
  t.match(renderSection([], 'x.svg'), /No runs recorded yet/);
  t.same(chartRows([sampleReport()]), [{ label: 'medium, Postgres, 100/s', p50: 20, p90: 40, p99: 80, max: 120, floor: 6 }]);
});

t.test("the gateway's runtime table lists the runs that measured it, with their node flags", async (t) => {
  const base = sampleReport();
  const measured = {
    ...base,
    options: { ...base.options, nodeFlags: ['--max-semi-space-size=32'] },
    cpuSpeed: { before: { bestMs: 33.04, rounds: 7 }, after: { bestMs: 41.2, rounds: 7 } },
    gateway: { ...base.gateway, runtime: { gcMsPerPacket: { minor: 0.42, major: 0.03, incremental: 0.01 }, gcPausesOver10Ms: 31, eventLoopDelayP99Ms: 34, eventLoopDelayMaxMs: 71.6, eventLoopUtilization: 0.68 } },
  };
  const section = renderSection([measured], 'x.svg');
  t.match(section, /\| medium \| Postgres \| `--max-semi-space-size=32` \| 0\.42 \/ 0\.04 \| 31 \| 34\.0 \| 71\.6 \| 68 % \| 33\.0 \/ 41\.2 \|/);
  t.match(renderSection([{ ...measured, cpuSpeed: undefined }], 'x.svg'), /\| 71\.6 \| 68 % \| – \/ – \|/, 'a run made before the speed check shows none');
  const older = { ...measured.gateway.runtime, eventLoopUtilization: undefined };
  t.match(renderSection([{ ...measured, gateway: { ...measured.gateway, runtime: older } }], 'x.svg'), /\| 71\.6 \| – \| 33\.0/, 'a run made before the busy share was measured shows none');
  t.notMatch(renderSection([base], 'x.svg'), /runtime in the same runs/, 'older reports without the figures add no table');
});

t.test('only the text between the markers changes', async (t) => {
  const doc = `# Benchmarks\n\nhand-written intro\n\n${BEGIN_MARKER}\nold generated text\n${END_MARKER}\n\nhand-written analysis\n`;
  const replaced = replaceSection(doc, `${BEGIN_MARKER}\nNEW\n${END_MARKER}`);
  t.equal(replaced, `# Benchmarks\n\nhand-written intro\n\n${BEGIN_MARKER}\nNEW\n${END_MARKER}\n\nhand-written analysis\n`);
  t.equal(replaceSection(replaced, `${BEGIN_MARKER}\nNEW\n${END_MARKER}`), replaced, 'idempotent');
  t.equal(replaceSection('# B\n', 'S'), '# B\n\nS\n', 'no markers: appended');
  t.throws(() => replaceSection(`x ${END_MARKER} y ${BEGIN_MARKER}`, 'S'), /wrong order/);
  t.throws(() => replaceSection(`x ${BEGIN_MARKER} y`, 'S'), /one generated-section marker without the other/);
});

t.test('updateDocs writes results.json, the chart and the section', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'edxgate-bench-docs-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'docs'), { recursive: true });
  await writeFile(join(root, 'docs', 'benchmarks.md'), `# Benchmarks\n\n${BEGIN_MARKER}\n${END_MARKER}\n\nanalysis\n`);
  const paths = docPaths(root);
  await updateDocs(paths, sampleReport(), ORDER);
  await updateDocs(paths, sampleReport({ database: 'pglite' }), ORDER);
  const results = JSON.parse(await readFile(paths.results, 'utf8')) as { reports: Record<string, unknown> };
  t.same(Object.keys(results.reports).sort(), ['medium/pglite', 'medium/postgres'], 'the second run kept the first');
  const markdown = await readFile(paths.markdown, 'utf8');
  t.match(markdown, /\| medium \| Postgres \|[\s\S]*\| medium \| embedded \|/);
  t.match(markdown, /\n\nanalysis\n$/, 'the hand-written part is kept');
  t.match(await readFile(paths.chart, 'utf8'), /^<svg [\s\S]*medium, embedded, 100\/s[\s\S]*<\/svg>\n$/);
  await updateDocs(paths, undefined, ORDER);
  t.equal(await readFile(paths.markdown, 'utf8'), markdown, 'regenerating without a new report changes nothing');
});
