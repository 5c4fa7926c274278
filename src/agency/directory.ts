// The agency directory as an immutable in-memory snapshot: code → name, parent, state, successor,
// route. The database-backed directory loads into and mirrors this model (rows of `agencies`, with
// `agency_aliases` holding the successor of each closed code), so every rule lives here once.
//
// Decisions:
// - A parent need not be in the directory: a gateway holds a partial view of the national tree
//   (a sở without its UBND, a ministry without its units). The parent of a QCVN 102 code is
//   implied by the code; a record may repeat it but not contradict it, so `children()` and
//   `ancestorsOf()` never disagree.
// - A successor must be in the directory, because resolving a closed code must end at a record.
// - Closed codes may forward to closed codes (a merger after a merger); `resolve` follows the chain
//   and a loop is refused when the snapshot is built, so lookups never loop.
// - Route patterns (route-patterns.ts) give a route to records that have none. A code no record
//   names, but that a pattern routes to another gateway (`*` → the upstream), resolves to an
//   active agency on that route: the far gateway holds the authoritative directory and refuses it if
//   it does not know it either. Codes a pattern keeps local stay unknown, refused at once.

import { parentOf, parseAgencyCode } from './code.ts';
import { qcvn102Groups } from '../edxml/agency-code.ts';
import { RoutePatterns } from './route-patterns.ts';
import { EdxError, issue } from '../errors.ts';
import type { Issue, Result } from '../errors.ts';

/** Lifecycle states of an agency code; a closed code may forward to a successor. */
export const AGENCY_STATES = ['active', 'suspended', 'closed'] as const;
export type AgencyState = (typeof AGENCY_STATES)[number];
const STATE_SET = new Set<unknown>(AGENCY_STATES);
/** Runtime guard for a state read from JSON or the database. */
export function isAgencyState(value: unknown): value is AgencyState {
  return STATE_SET.has(value);
}

/** One agency as the directory holds it. */
export interface AgencyRecord {
  readonly code: string;
  readonly name: string;
  /** The unit above; filled in from the code for QCVN 102 codes when the record leaves it out. */
  readonly parent?: string;
  readonly state: AgencyState;
  /** For a closed code only: the code that now receives its packets. */
  readonly successor?: string;
  /** How delivery reaches the agency (e.g. 'upstream'); interpreted by delivery/, not here. */
  readonly route?: string;
}

/**
 * The outcome of looking a code up. `path` lists the codes followed, from the one asked for to
 * `agency.code` (just the one code when no alias was involved). A chain of closed codes that ends
 * at a suspended or closed agency reports that state, so a caller never delivers through an alias
 * to an agency it would refuse directly.
 */
export type AgencyResolution =
  | { readonly kind: 'active'; readonly agency: AgencyRecord; readonly path: readonly string[] }
  | {
      readonly kind: 'alias';
      /** The closed code asked for. */
      readonly alias: string;
      /** The active agency the chain ends at. */
      readonly agency: AgencyRecord;
      readonly path: readonly string[];
    }
  | { readonly kind: 'suspended'; readonly agency: AgencyRecord; readonly path: readonly string[] }
  | { readonly kind: 'closed'; readonly agency: AgencyRecord; readonly path: readonly string[] }
  | { readonly kind: 'unknown'; readonly code: string };

/** How a snapshot routes the agencies that have no route of their own. */
export interface DirectoryRouting {
  readonly patterns: RoutePatterns;
  /** Routes that reach another gateway (axis, peer): codes unknown here are forwarded on them. */
  readonly gatewayRoutes: ReadonlySet<string>;
}

const NO_ROUTING: DirectoryRouting = { patterns: RoutePatterns.none, gatewayRoutes: new Set() };

/** An immutable snapshot of the directory; changes produce a new snapshot. */
export class AgencyDirectory {
  readonly #records: ReadonlyMap<string, AgencyRecord>;
  readonly #children: ReadonlyMap<string, readonly AgencyRecord[]>;
  readonly #routing: DirectoryRouting;

  private constructor(given: readonly AgencyRecord[], routing: DirectoryRouting) {
    this.#routing = routing;
    const records = routing.patterns.size === 0 ? given : given.map((r) => withPatternRoute(r, routing.patterns));
    this.#records = new Map(records.map((r) => [r.code, r]));
    const children = new Map<string, AgencyRecord[]>();
    for (const r of records) {
      if (r.parent === undefined) continue;
      const list = children.get(r.parent);
      if (list) list.push(r);
      else children.set(r.parent, [r]);
    }
    this.#children = children;
  }

  /**
   * Build a snapshot, refusing inconsistent records with one issue per fault (paths `records[i].…`).
   * `routing` routes the records without a route of their own (default: none, they are local).
   */
  static fromRecords(records: Iterable<AgencyRecord>, routing: DirectoryRouting = NO_ROUTING): Result<AgencyDirectory> {
    const normalised: AgencyRecord[] = [];
    const issues: Issue[] = [];
    const seen = new Set<string>();
    let i = 0;
    for (const record of records) {
      const n = normaliseRecord(record, `records[${i}]`, issues);
      if (n) {
        if (seen.has(n.code)) {
          issues.push(
            issue('EDX_ERR_AGENCY_RECORD_INVALID', `records[${i}].code`, 'The code is listed twice.', n.code),
          );
        } else {
          seen.add(n.code);
          normalised.push(n);
        }
      }
      i++;
    }
    if (issues.length > 0) return { ok: false, issues };
    checkReferences(normalised, issues);
    if (issues.length > 0) return { ok: false, issues };
    return { ok: true, value: new AgencyDirectory(normalised, routing), warnings: [] };
  }

  /** Build a snapshot from records known to be valid (demo data, tests); throws EdxError otherwise. */
  static create(records: Iterable<AgencyRecord>, routing: DirectoryRouting = NO_ROUTING): AgencyDirectory {
    const r = AgencyDirectory.fromRecords(records, routing);
    if (!r.ok) throw EdxError.fromIssues(r.issues);
    return r.value;
  }

  /** Number of records, closed ones included. */
  get size(): number {
    return this.#records.size;
  }

  /** The record for exactly this code, whatever its state; no alias is followed. */
  get(code: string): AgencyRecord | undefined {
    return this.#records.get(code);
  }

  /** Whether the directory holds a record for exactly this code. */
  has(code: string): boolean {
    return this.#records.has(code);
  }

  /** Look a code up, following successors of closed codes to the agency that now answers for it. */
  resolve(code: string): AgencyResolution {
    const first = this.#records.get(code);
    if (!first) {
      const route = this.#routing.patterns.match(code)?.route;
      if (route === undefined || !this.#routing.gatewayRoutes.has(route)) return { kind: 'unknown', code };
      // Known to the gateway the pattern points at, not here: named by its code until a sync brings its record.
      return { kind: 'active', agency: Object.freeze({ code, name: code, state: 'active', route }), path: [code] };
    }
    const path = [code];
    let agency = first;
    // Successors exist and do not loop (checked when the snapshot was built), so this ends.
    while (agency.state === 'closed' && agency.successor !== undefined) {
      const next = this.#records.get(agency.successor);
      if (!next) break;
      agency = next;
      path.push(agency.code);
    }
    if (agency.state === 'active') {
      return path.length === 1 ? { kind: 'active', agency, path } : { kind: 'alias', alias: code, agency, path };
    }
    return { kind: agency.state, agency, path };
  }

  /** The records whose parent is `code`, in directory order, closed ones included. */
  children(code: string): readonly AgencyRecord[] {
    return this.#children.get(code) ?? [];
  }

  /** How this snapshot routes agencies without a route of their own. */
  get routing(): DirectoryRouting {
    return this.#routing;
  }

  /** Every record in directory order (the order they were given; a replaced record keeps its place). */
  list(): readonly AgencyRecord[] {
    return [...this.#records.values()];
  }

  /** A new snapshot with `record` added, or replacing the record with the same code. */
  withRecord(record: AgencyRecord): Result<AgencyDirectory> {
    const records = this.list();
    const at = records.findIndex((r) => r.code === record.code);
    const next = at === -1 ? [...records, record] : records.map((r, j) => (j === at ? record : r));
    return AgencyDirectory.fromRecords(next, this.#routing);
  }
}

/** A record without a route of its own, with the route its most specific pattern gives (none: local). */
function withPatternRoute(record: AgencyRecord, patterns: RoutePatterns): AgencyRecord {
  if (record.route !== undefined) return record;
  const route = patterns.match(record.code)?.route;
  return route === undefined ? record : Object.freeze({ ...record, route });
}

/** Check one record on its own; returns a frozen copy with the implied parent filled in. */
function normaliseRecord(record: AgencyRecord, at: string, issues: Issue[]): AgencyRecord | undefined {
  const before = issues.length;
  const bad = (field: string, detail: string, value?: string): void => {
    issues.push(issue('EDX_ERR_AGENCY_RECORD_INVALID', `${at}.${field}`, detail, value));
  };
  // Records come from JSON and the database too, so the types are checked at run time.
  if (typeof record.code !== 'string') {
    bad('code', 'The code must be a string.');
    return undefined;
  }
  // The directory holds every form seen on real axes, sandbox ids included (spec §2.6).
  const code = parseAgencyCode(record.code, { form: 'lenient', path: `${at}.code` });
  if (!code.ok) issues.push(...code.issues);
  if (typeof record.name !== 'string' || record.name.trim() === '') bad('name', 'The name is empty.');
  if (!isAgencyState(record.state)) {
    bad('state', `The state must be one of ${AGENCY_STATES.join(', ')}.`, String(record.state));
  }

  const implied = parentOf(record.code);
  let parent = record.parent;
  if (parent !== undefined && typeof parent !== 'string') {
    bad('parent', 'The parent, when given, must be a string.');
  } else if (parent !== undefined) {
    const p = parseAgencyCode(parent, { form: 'lenient', path: `${at}.parent` });
    if (!p.ok) issues.push(...p.issues);
    else if (parent === record.code) bad('parent', 'A record cannot be its own parent.', parent);
    else if (code.ok && code.value.form === 'qcvn102' && parent !== implied) {
      bad(
        'parent',
        implied === undefined
          ? `${record.code} is a level-1 code and has no parent.`
          : `The parent of ${record.code} is ${implied}, as its code says, not ${parent}.`,
        parent,
      );
    }
  } else {
    parent = implied;
  }

  const successor = record.successor;
  if (successor !== undefined && typeof successor !== 'string') {
    bad('successor', 'The successor, when given, must be a string.');
  } else if (successor !== undefined) {
    const s = parseAgencyCode(successor, { form: 'lenient', path: `${at}.successor` });
    if (!s.ok) issues.push(...s.issues);
    else if (record.state !== 'closed') {
      bad('successor', `Only a closed code forwards to a successor; this one is ${String(record.state)}.`, successor);
    } else if (successor === record.code) {
      issues.push(
        issue('EDX_ERR_AGENCY_ALIAS_CYCLE', `${at}.successor`, 'The code forwards to itself.', successor),
      );
    }
  }
  if (record.route !== undefined && (typeof record.route !== 'string' || record.route === '')) {
    bad('route', 'The route, when given, must be a non-empty string.');
  }
  if (issues.length > before) return undefined;

  // Copy field by field so that extra properties of a JSON or database row do not leak in.
  return Object.freeze({
    code: record.code,
    name: record.name,
    ...(parent === undefined ? {} : { parent }),
    state: record.state,
    ...(successor === undefined ? {} : { successor }),
    ...(record.route === undefined ? {} : { route: record.route }),
  });
}

/** Cross-record rules: successors exist, successor chains and parent chains do not loop. */
function checkReferences(records: readonly AgencyRecord[], issues: Issue[]): void {
  const index = new Map(records.map((r, i) => [r.code, i]));
  records.forEach((r, i) => {
    if (r.successor !== undefined && !index.has(r.successor)) {
      issues.push(
        issue(
          'EDX_ERR_AGENCY_UNKNOWN',
          `records[${i}].successor`,
          `The successor ${r.successor} of ${r.code} is not in the directory; add it first.`,
          r.successor,
        ),
      );
    }
  });
  const byCode = new Map(records.map((r) => [r.code, r]));
  for (const loop of findLoops(records, (r) => (r.successor === undefined ? undefined : byCode.get(r.successor)))) {
    const head = loop[0] as AgencyRecord;
    issues.push(
      issue(
        'EDX_ERR_AGENCY_ALIAS_CYCLE',
        `records[${index.get(head.code) ?? -1}].successor`,
        `The closed codes forward in a loop: ${[...loop, head].map((r) => r.code).join(' → ')}.`,
        head.code,
      ),
    );
  }
  // Only explicit parents of non-QCVN 102 codes can loop; implied parents always go up a level.
  for (const loop of findLoops(records, (r) => (r.parent === undefined ? undefined : byCode.get(r.parent)))) {
    const head = loop[0] as AgencyRecord;
    issues.push(
      issue(
        'EDX_ERR_AGENCY_RECORD_INVALID',
        `records[${index.get(head.code) ?? -1}].parent`,
        `The parents form a loop: ${[...loop, head].map((r) => r.code).join(' → ')}.`,
        head.code,
      ),
    );
  }
}

/** Each loop of a graph where every node has at most one successor, reported once, in order. */
function findLoops(
  records: readonly AgencyRecord[],
  next: (r: AgencyRecord) => AgencyRecord | undefined,
): AgencyRecord[][] {
  const done = new Set<AgencyRecord>();
  const loops: AgencyRecord[][] = [];
  for (const start of records) {
    const onPath = new Map<AgencyRecord, number>();
    const path: AgencyRecord[] = [];
    let node: AgencyRecord | undefined = start;
    while (node && !done.has(node) && !onPath.has(node)) {
      onPath.set(node, path.length);
      path.push(node);
      node = next(node);
    }
    if (node && onPath.has(node)) loops.push(path.slice(onPath.get(node)));
    for (const n of path) done.add(n);
  }
  return loops;
}

/** Options of `mergeProvinces`: the level-1 code that closes and the one that takes over. */
export interface ProvinceMerger {
  readonly closed: string;
  readonly into: string;
}

const LEVEL1 = /^[A-Z]\d{2}$/;

/**
 * Apply a 2025 province merger (spec §2.5, QĐ 09/2025): every open code under `closed` is closed
 * and forwards to the same lower groups under `into` where that record exists, else to the
 * successor province's root `000.00.00.<into>`. Codes already closed keep their own successor.
 */
export function mergeProvinces(directory: AgencyDirectory, merger: ProvinceMerger): Result<AgencyDirectory> {
  const { closed, into } = merger;
  const issues: Issue[] = [];
  for (const [field, value] of [['closed', closed], ['into', into]] as const) {
    if (!LEVEL1.test(value)) {
      issues.push(
        issue('EDX_ERR_AGENCY_CODE_INVALID', field, 'A level-1 code is one upper-case letter and two digits (H22).', value),
      );
    }
  }
  if (issues.length === 0 && closed === into) {
    issues.push(issue('EDX_ERR_AGENCY_CODE_INVALID', 'into', 'A province cannot merge into itself.', into));
  }
  const root = `000.00.00.${into}`;
  if (issues.length === 0 && !directory.has(root)) {
    issues.push(
      issue('EDX_ERR_AGENCY_UNKNOWN', 'into', `The successor province's root ${root} is not in the directory.`, root),
    );
  }
  if (issues.length > 0) return { ok: false, issues };

  const records = directory.list().map((r): AgencyRecord => {
    // The QCVN 102 shape alone decides (not the hierarchy rule): `002.00.20.H22` is still Hà Giang's.
    const g = qcvn102Groups(r.code);
    if (r.state === 'closed' || g?.l1 !== closed) return r;
    const same = `${g.l4}.${g.l3}.${g.l2}.${into}`;
    return { ...r, state: 'closed', successor: directory.has(same) ? same : root };
  });
  return AgencyDirectory.fromRecords(records);
}
