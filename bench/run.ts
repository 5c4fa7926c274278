// The benchmark suite: `npm run bench -- --scenario NAME --duration S [--rate R] [--json] [--compare BASELINE.json]`
// (`--help` lists every option and scenario). Runs the scenario (bench/scenarios/) through
// bench/lib/scenario-runner.ts on a fresh Postgres database next to DATABASE_URL, or on the embedded
// database without it; prints the table (or, with --json, the JSON report); writes the JSON to
// bench/results/ (gitignored); with --compare prints ratios against an earlier report; with --docs
// folds the report into docs/benchmarks.md, docs/benchmarks/results.json and docs/benchmarks/latency.svg.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SCENARIOS, scenarioNamed } from './scenarios/index.ts';
import { parseBenchArgs, usage } from './lib/args.ts';
import { docPaths, updateDocs } from './lib/benchmarks-doc.ts';
import { asReport, compareReports, renderComparison } from './lib/compare.ts';
import { renderReport } from './lib/report.ts';
import { runScenario } from './lib/scenario-runner.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseBenchArgs(argv, SCENARIOS.map((s) => s.name));
  if (!parsed.ok) {
    log(`${parsed.error}\n\n${usage(SCENARIOS)}`);
    return 2;
  }
  const options = parsed.value;
  if (options.command === 'help') {
    process.stdout.write(`${usage(SCENARIOS)}\n`);
    return 0;
  }
  if (options.command === 'list') {
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(18)} ${s.description}\n`);
    return 0;
  }
  const order = SCENARIOS.map((s) => s.name);
  if (options.command === 'docs') {
    await updateDocs(docPaths(ROOT), undefined, order);
    log('regenerated docs/benchmarks.md and docs/benchmarks/latency.svg from docs/benchmarks/results.json');
    return 0;
  }
  const scenario = scenarioNamed(options.scenario);
  if (scenario === undefined) throw new Error(`unknown scenario ${options.scenario}`);
  // Read the baseline first: a wrong path should not cost a whole run.
  const baseline = options.compare === undefined ? undefined : asReport(JSON.parse(await readFile(options.compare, 'utf8')), options.compare);

  const report = await runScenario(scenario, options, process.env.DATABASE_URL || undefined, log);

  await mkdir(RESULTS_DIR, { recursive: true });
  const stamp = report.at.replaceAll(':', '-').slice(0, 19);
  const file = `${RESULTS_DIR}suite-${report.scenario}-${report.database}${report.options.mode === 'saturate' ? '-saturate' : ''}-${stamp}${report.label ? `-${report.label}` : ''}.json`;
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${renderReport(report)}report: ${file}\n`);
  if (baseline !== undefined) {
    const comparison = renderComparison(compareReports(report, baseline), options.compare ?? 'the baseline');
    // With --json, stdout is the JSON alone; the comparison goes to stderr.
    if (options.json) log(comparison);
    else process.stdout.write(comparison);
  }
  if (options.docs) {
    await updateDocs(docPaths(ROOT), report, order);
    log('updated docs/benchmarks.md, docs/benchmarks/results.json and docs/benchmarks/latency.svg');
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
