// The suite's scenarios, by name (npm run bench -- --scenario NAME).

import { fanOut } from './fan-out.ts';
import { large } from './large.ts';
import { medium } from './medium.ts';
import type { Scenario } from './scenario.ts';
import { small } from './small.ts';
import { urgentUnderLoad } from './urgent-under-load.ts';

export type { Scenario } from './scenario.ts';

/** Every scenario, in the order the docs list them. */
export const SCENARIOS: readonly Scenario[] = [small, medium, large, fanOut, urgentUnderLoad];

/** The scenario named `name`, or undefined. */
export function scenarioNamed(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
