// `npm run demo:federation` as a user runs it (issue 6): the script in a child process, on embedded
// databases (no DATABASE_URL), prints each gateway's timeline of the scenario and exits 0; a wrong
// option is a usage error (exit 2) that says what is allowed.

import { execFile } from 'node:child_process';
import t from 'tap';
import { REPO_ROOT } from '../cli/run-cli.ts';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runDemo(args: readonly string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/demo-federation.ts', ...args], { cwd: REPO_ROOT, encoding: 'utf8', env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code: unknown = error?.code;
      if (error && typeof code !== 'number') reject(error);
      else resolve({ code: typeof code === 'number' ? code : 0, stdout, stderr });
    });
  });
}

// Three PGlite gateways start in the child, then the scenario runs: most of a minute under load.
t.setTimeout(240_000);

t.test('the demo runs the scenario on three embedded gateways and prints their timelines', async (t) => {
  const run = await runDemo([]);
  t.equal(run.code, 0, `exit 0 (stderr: ${run.stderr.slice(0, 500)})`);
  t.match(run.stdout, /each on its own embedded database/);
  for (const node of ['P1', 'N', 'P2']) t.match(run.stdout, new RegExp(`^${node}\\n  \\d\\d:\\d\\d:\\d\\d\\.\\d{3}  ${node.padEnd(2)}  `, 'm'), `${node}'s timeline is printed`);
  t.match(run.stdout, /N\s+received\s+000\.00\.15\.H47\s+via sendEdoc over p1\s+\[document\]/, 'N shows the hop from P1');
  t.match(run.stdout, /P2\s+received\s+000\.00\.15\.H47\s+via callback over national\s+\[document\]/, 'P2 shows the hop from N');
  t.match(run.stdout, /000\.00\.15\.H41: statuses 01 → 03 → 05 → 06 → 15; now 06, recall recalled/, 'P2’s statuses and its 15 reached P1');
  t.match(run.stdout, /000\.00\.00\.G22: statuses 01; now 01, recall requested/);
  t.match(run.stdout, /Timelines of the revoked/);
});

t.test('a wrong --mode is a usage error', async (t) => {
  const run = await runDemo(['--mode', 'carrier-pigeon']);
  t.equal(run.code, 2);
  t.match(run.stderr, /--mode must be callback or poll, not "carrier-pigeon"/);
  t.match(run.stderr, /usage: npm run demo:federation/);
});
