// The federation scenario, run for people to watch (issue 6): three gateways on loopback — province
// P1 (*.H47), province P2 (*.H41) and the national gateway N (*.G22) — each on its own database.
// An office system in P1 sends to an agency in P2 and one in N; both take it; 01, 03, 05 and 06
// flow back to P1; P1 recalls it (13) and P2 agrees (15); a second document is revoked. Then the
// timeline each gateway keeps of the document is printed, one line per hop.
//
//   npm run demo:federation [-- --mode callback|poll]
//
// No setup: three embedded databases in temporary folders, or three temporary Postgres databases
// when DATABASE_URL is set; all removed at the end. It runs the same scenario the federation test
// asserts on (test/federation/scenario.ts), over the same harness, so what it prints is what is tested.

import { parseArgs } from 'node:util';
import { AGENCIES, formatTimeline, startFederation } from '../test/federation/federation-harness.ts';
import type { LinkMode, NodeName } from '../test/federation/federation-harness.ts';
import { runScenario } from '../test/federation/scenario.ts';

const USAGE = 'usage: npm run demo:federation [-- --mode callback|poll]';

/** Collects the harness's clean-ups (a tap test's teardown, outside tap) and runs them newest first. */
class Cleanups {
  readonly #fns: (() => unknown)[] = [];

  teardown(fn: () => unknown): void {
    this.#fns.push(fn);
  }

  async run(): Promise<void> {
    for (const fn of this.#fns.reverse()) {
      try {
        await fn();
      } catch (error) {
        console.error(`clean-up failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

function parseMode(argv: readonly string[]): LinkMode | string {
  let values: { mode?: string | undefined };
  try {
    ({ values } = parseArgs({ args: [...argv], options: { mode: { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const mode = values.mode ?? 'callback';
  return mode === 'callback' || mode === 'poll' ? mode : `--mode must be callback or poll, not "${mode}"`;
}

async function main(argv: readonly string[]): Promise<number> {
  const mode = parseMode(argv);
  if (mode !== 'callback' && mode !== 'poll') {
    console.error(`${mode}\n${USAGE}`);
    return 2;
  }
  const kind = process.env.DATABASE_URL ? 'postgres' : 'pglite';
  const cleanups = new Cleanups();
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
  try {
    console.log(`Starting P1 (*.H47), P2 (*.H41) and N (*.G22) on loopback, each on its own ${kind === 'postgres' ? 'Postgres database' : 'embedded database'}; N reaches the provinces by ${mode === 'callback' ? 'pushing to their /v1/callbacks/axis' : 'being polled by them every 100 ms'}.`);
    const h = await startFederation(cleanups, { kind, mode });
    for (const node of h.nodes) console.log(`  ${node.name.padEnd(2)} ${node.url}`);
    console.log('');
    const result = await runScenario(h, { step: (text) => console.log(`${elapsed()}  ${text}`) });
    console.log(`${elapsed()}  done\n`);

    const names: readonly NodeName[] = ['P1', 'N', 'P2'];
    console.log(`Timelines of ${result.documentId}:`);
    for (const name of names) console.log(`${name}\n${formatTimeline(name, result.timelines[name])}\n`);
    console.log(`Timelines of the revoked ${result.revokedDocumentId}, at the receivers:`);
    for (const name of ['N', 'P2'] as const) console.log(`${name}\n${formatTimeline(name, result.revokeTimelines[name])}\n`);

    console.log(`What P1 recorded from each recipient of ${result.documentId}:`);
    for (const recipient of [AGENCIES.P2_RECIPIENT, AGENCIES.N_RECIPIENT]) {
      const view = result.p1View[recipient];
      console.log(`  ${recipient}: statuses ${(result.p1Statuses[recipient] ?? []).join(' → ') || '(none)'}; now ${view?.status ?? '?'}, recall ${view?.recall ?? '?'}`);
    }
    return 0;
  } catch (error) {
    console.error(`The scenario failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await cleanups.run();
  }
}

process.exitCode = await main(process.argv.slice(2));
