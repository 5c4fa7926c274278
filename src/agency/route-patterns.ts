// Routing by code pattern: which agencies are local and which are reached through which upstream
// or peer gateway, without a route on every record (`*.H47` local, `*` upstream). A pattern is a
// glob over the whole code where `*` stands for any run of characters, so `*.H47` is every code of
// province H47 and `*` every code.
//
// Decisions:
// - An agency's own route always wins; patterns only fill in records that have none.
// - The most specific pattern wins: the one with the most literal characters (`000.00.*.H47` over
//   `*.H47` over `*`); equal ones are taken in code-point order of the pattern, so the choice never
//   depends on the order rows were read in.
// - A local pattern (`route: undefined`) routes to the inbox, and it exists to carve local codes
//   out of a broader one (`*.H47` local under `*` upstream).

import { issue } from '../errors.ts';
import type { Issue, Result } from '../errors.ts';

/** One pattern and where it routes; no route = local (the inbox). */
export interface RoutePattern {
  readonly pattern: string;
  readonly route?: string | undefined;
}

const PATTERN = /^[A-Za-z0-9._*-]{1,100}$/;

/** Checks a pattern's shape (the CHECK of route_patterns.pattern), with an issue saying what is wrong. */
export function checkRoutePattern(pattern: string, path = 'pattern'): Result<string> {
  if (!PATTERN.test(pattern)) {
    const issues: Issue[] = [
      issue(
        'EDX_ERR_ROUTE_PATTERN_INVALID',
        path,
        'A pattern is 1 to 100 letters, digits, dots, hyphens, underscores and * (any run of characters), e.g. *.H47 or *.',
        pattern,
      ),
    ];
    return { ok: false, issues };
  }
  return { ok: true, value: pattern, warnings: [] };
}

/** Literal characters of a pattern: its specificity. */
function specificity(pattern: string): number {
  return pattern.replace(/\*/g, '').length;
}

function toRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.\-]/g, (c) => `\\${c}`))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** A compiled, ordered set of patterns. */
export class RoutePatterns {
  readonly #compiled: readonly { readonly pattern: RoutePattern; readonly test: RegExp }[];

  private constructor(patterns: readonly RoutePattern[]) {
    const sorted = [...patterns].sort((a, b) => specificity(b.pattern) - specificity(a.pattern) || (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0));
    this.#compiled = sorted.map((p) => ({ pattern: Object.freeze({ ...p }), test: toRegExp(p.pattern) }));
  }

  /** No patterns: every agency without a route of its own is local. */
  static readonly none = new RoutePatterns([]);

  /** Compiles patterns, refusing malformed ones (paths `patterns[i]`). */
  static from(patterns: readonly RoutePattern[]): Result<RoutePatterns> {
    const issues = patterns.flatMap((p, i) => {
      const checked = checkRoutePattern(p.pattern, `patterns[${i}]`);
      return checked.ok ? [] : checked.issues;
    });
    if (issues.length > 0) return { ok: false, issues };
    return { ok: true, value: new RoutePatterns(patterns), warnings: [] };
  }

  /** The most specific pattern matching `code`, or undefined. */
  match(code: string): RoutePattern | undefined {
    return this.#compiled.find((c) => c.test.test(code))?.pattern;
  }

  /** Every pattern, most specific first. */
  list(): readonly RoutePattern[] {
    return this.#compiled.map((c) => c.pattern);
  }

  get size(): number {
    return this.#compiled.length;
  }
}
