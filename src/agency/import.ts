// Directory sync: agency lists from elsewhere — the upstream's getAgenciesList, or a CSV or JSON file
// an operator was given — read into records and merged into this gateway's directory.
//
// Decisions:
// - Three shapes are read: our own records ({code, name, parent, state, successor}), the axis's
//   getAgenciesList items ({id, pid, code, name, mail, oldCode}), and CSV with a header row naming
//   the same columns. Unknown columns and fields are ignored (an axis may add some).
// - An import adds and updates, it never deletes: a code the list does not name is kept as it is,
//   so a partial list (one province) or an upstream that lists only active agencies cannot erase
//   anything. Local routing decisions (a record's route) are never touched.
// - Aliases are kept: an item's `oldCode` (a merged or renamed agency's former code) becomes a closed
//   record forwarding to the item's code, and a closed code already here keeps its successor unless
//   the list says otherwise — packets to old codes keep reaching the agency that took them over.
// - The merged directory must pass the directory rules as a whole; otherwise nothing is written.

import { parentOf } from './code.ts';
import { AgencyDirectory, isAgencyState } from './directory.ts';
import type { AgencyRecord, AgencyState } from './directory.ts';
import { qcvn102Groups } from '../edxml/agency-code.ts';
import { issue } from '../errors.ts';
import type { Issue, Result } from '../errors.ts';

/** One agency as a list gives it. */
export interface ImportedAgency {
  readonly code: string;
  readonly name: string;
  readonly parent?: string | undefined;
  readonly state: AgencyState;
  readonly successor?: string | undefined;
  /** Former codes that now forward here (the axis's `oldCode`). */
  readonly formerCodes: readonly string[];
}

function bad(path: string, detail: string, value?: string): Issue {
  return issue('EDX_ERR_AGENCY_IMPORT_INVALID', path, detail, value);
}

function textField(item: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = item[key];
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * Reads list items (parsed JSON objects or CSV rows as objects). The axis's `pid` is the parent's
 * `id`, which on the axis need not be a code: it is mapped through the list's own ids, and for a
 * QCVN 102 code the parent the code implies is used instead.
 */
export function readAgencyItems(items: readonly unknown[], path = 'items'): Result<readonly ImportedAgency[]> {
  const issues: Issue[] = [];
  const objects: Readonly<Record<string, unknown>>[] = [];
  items.forEach((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) issues.push(bad(`${path}[${i}]`, 'Each item must be an object with at least code and name.'));
    else objects.push(item as Record<string, unknown>);
  });
  if (issues.length > 0) return { ok: false, issues };
  const codeById = new Map<string, string>();
  for (const o of objects) {
    const id = textField(o, 'id');
    const code = textField(o, 'code');
    if (id !== undefined && code !== undefined) codeById.set(id, code);
  }
  const out: ImportedAgency[] = [];
  objects.forEach((o, i) => {
    const at = `${path}[${i}]`;
    const code = textField(o, 'code');
    const name = textField(o, 'name');
    if (code === undefined) issues.push(bad(`${at}.code`, 'The item has no code.'));
    if (name === undefined) issues.push(bad(`${at}.name`, 'The item has no name.', code));
    const stateText = textField(o, 'state') ?? 'active';
    if (!isAgencyState(stateText)) issues.push(bad(`${at}.state`, 'The state must be active, suspended or closed.', stateText));
    if (code === undefined || name === undefined || !isAgencyState(stateText)) return;
    const pid = textField(o, 'pid');
    const explicitParent = textField(o, 'parent') ?? textField(o, 'parent_code') ?? (pid === undefined ? undefined : (codeById.get(pid) ?? undefined));
    // A QCVN 102 code names its parent itself; the directory fills it in.
    const parent = qcvn102Groups(code) === undefined ? explicitParent : undefined;
    const successor = textField(o, 'successor') ?? textField(o, 'successor_code');
    const former = textField(o, 'oldCode') ?? textField(o, 'old_code');
    const formerCodes = former === undefined ? [] : former.split(/[;,\s]+/).filter((c) => c !== '' && c !== code);
    out.push({ code, name, ...(parent === undefined ? {} : { parent }), state: stateText, ...(successor === undefined ? {} : { successor }), formerCodes });
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: out, warnings: [] };
}

/** Parses a JSON array (or `{data: [...]}`, the axis reply itself) of agency items. */
export function parseAgencyJson(text: string): Result<readonly ImportedAgency[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, issues: [bad('file', `The file is not JSON (${error instanceof Error ? error.message : String(error)}).`)] };
  }
  const list = Array.isArray(parsed) ? parsed : typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { data?: unknown }).data) ? (parsed as { data: unknown[] }).data : undefined;
  if (list === undefined) return { ok: false, issues: [bad('file', 'The JSON must be an array of agencies, or an object whose data is one.')] };
  return readAgencyItems(list);
}

/** Splits CSV text into rows of fields (RFC 4180: quoted fields, "" inside quotes, CRLF or LF). */
export function parseCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

/** Parses CSV whose first row names the columns (code and name at least). */
export function parseAgencyCsv(text: string): Result<readonly ImportedAgency[]> {
  const rows = parseCsvRows(text);
  const header = rows[0]?.map((h) => h.trim());
  if (header === undefined || !header.includes('code') || !header.includes('name')) {
    return { ok: false, issues: [bad('file:row 1', 'The first row must name the columns, among them code and name (also parent or pid, state, successor, oldCode).')] };
  }
  const items = rows.slice(1).map((fields) => Object.fromEntries(header.map((h, i) => [h, fields[i] ?? ''])));
  const read = readAgencyItems(items, 'rows');
  if (read.ok) return read;
  // Rows as the operator counts them: the header is row 1.
  return { ok: false, issues: read.issues.map((i) => ({ ...i, path: i.path.replace(/^rows\[(\d+)\]/, (_m, n: string) => `file:row ${Number(n) + 2}`) })) };
}

/** What an import changes. */
export interface ImportPlan {
  /** The whole directory after the import, in directory order (new codes last). */
  readonly records: readonly AgencyRecord[];
  readonly added: readonly string[];
  readonly updated: readonly string[];
  /** Former codes now closed and forwarding to their successor. */
  readonly aliased: readonly string[];
  readonly unchanged: number;
  /** Codes already here that the list does not name: kept as they are. */
  readonly notListed: number;
}

/** Equal as the directory would hold them (the parent a QCVN 102 code implies filled in). */
function sameRecord(a: AgencyRecord, b: AgencyRecord): boolean {
  const parent = (r: AgencyRecord): string => r.parent ?? parentOf(r.code) ?? '';
  return a.name === b.name && a.state === b.state && parent(a) === parent(b) && (a.successor ?? '') === (b.successor ?? '') && (a.route ?? '') === (b.route ?? '');
}

/** Merges imported agencies into the current records; refuses when the result breaks a directory rule. */
export function planImport(current: readonly AgencyRecord[], imported: readonly ImportedAgency[]): Result<ImportPlan> {
  const byCode = new Map(current.map((r) => [r.code, r]));
  const order = current.map((r) => r.code);
  const touched = new Set<string>();
  const added: string[] = [];
  const updated: string[] = [];
  const aliased: string[] = [];
  let unchanged = 0;
  const put = (record: AgencyRecord, kind: 'item' | 'alias'): void => {
    const before = byCode.get(record.code);
    touched.add(record.code);
    if (before === undefined) {
      order.push(record.code);
      byCode.set(record.code, record);
      (kind === 'alias' ? aliased : added).push(record.code);
      return;
    }
    // The route is this gateway's decision, never the list's; a parent the list leaves out is kept.
    const parent = record.parent ?? before.parent;
    const next: AgencyRecord = {
      code: record.code,
      name: record.name,
      ...(parent === undefined ? {} : { parent }),
      state: record.state,
      ...(record.successor === undefined ? {} : { successor: record.successor }),
      ...(before.route === undefined ? {} : { route: before.route }),
    };
    if (sameRecord(before, next)) unchanged++;
    else (kind === 'alias' ? aliased : updated).push(record.code);
    byCode.set(record.code, next);
  };
  const seen = new Set<string>();
  const issues: Issue[] = [];
  imported.forEach((a, i) => {
    if (seen.has(a.code)) issues.push(bad(`items[${i}].code`, 'The code is listed twice.', a.code));
    seen.add(a.code);
  });
  if (issues.length > 0) return { ok: false, issues };

  for (const a of imported) {
    // A closed code the list names without a successor keeps the one it has here.
    const keptSuccessor = a.state === 'closed' && a.successor === undefined ? byCode.get(a.code)?.successor : undefined;
    const successor = a.state === 'closed' ? (a.successor ?? keptSuccessor) : undefined;
    put({ code: a.code, name: a.name, ...(a.parent === undefined ? {} : { parent: a.parent }), state: a.state, ...(successor === undefined ? {} : { successor }) }, 'item');
  }
  for (const a of imported) {
    for (const former of a.formerCodes) {
      if (seen.has(former)) continue; // listed in its own right: the list's word on it stands
      const before = byCode.get(former);
      put({ code: former, name: before?.name ?? a.name, ...(before?.parent === undefined ? {} : { parent: before.parent }), state: 'closed', successor: a.code }, 'alias');
    }
  }
  const records = order.map((code) => byCode.get(code) as AgencyRecord);
  const built = AgencyDirectory.fromRecords(records);
  if (!built.ok) return { ok: false, issues: built.issues.map((i) => ({ ...i, path: i.path.replace(/^records\[(\d+)\]/, (_m, n: string) => `agency ${records[Number(n)]?.code ?? n}`) })) };
  return { ok: true, value: { records, added, updated, aliased, unchanged, notListed: current.filter((r) => !touched.has(r.code)).length }, warnings: [] };
}
