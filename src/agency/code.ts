// Agency identifier codes as values: which form a code has, and for QCVN 102 codes where it sits in
// the four-level tree (spec/edxml.md §2.1). The syntax itself is src/edxml/agency-code.ts; this file
// adds meaning (levels, parents) and says precisely which rule a refused code breaks.

import {
  AGENCY_CODE_QD20,
  acceptsAgencyCode,
  classifyAgencyCode,
  qcvn102Groups,
  qcvn102HierarchyFault,
} from '../edxml/agency-code.ts';
import type { AgencyCodeForm, Qcvn102Groups } from '../edxml/agency-code.ts';
import { issue } from '../errors.ts';
import type { Result } from '../errors.ts';

export type { AgencyCodeForm, Qcvn102Groups } from '../edxml/agency-code.ts';

/** Level in the QCVN 102 tree: 1 is the ministry or province, 4 the deepest unit. */
export type AgencyLevel = 1 | 2 | 3 | 4;

/** A parsed agency code; the hierarchy fields are present only for well-formed QCVN 102 codes. */
export interface AgencyCode {
  readonly code: string;
  /** The narrowest form the code satisfies, whatever form was asked for. */
  readonly form: AgencyCodeForm;
  readonly groups?: Qcvn102Groups;
  readonly level?: AgencyLevel;
  /**
   * The level-1 group (`H47`). Also set for QCVN 102-shaped codes that break the hierarchy rule
   * (`002.00.20.H13`), because the province or ministry is still unambiguous and routing and
   * merger aliases key on it.
   */
  readonly level1?: string;
  /** The code one level up (`000.01.15.H47` → `000.00.15.H47`); absent at level 1. */
  readonly parent?: string;
}

/** Options for `parseAgencyCode`. */
export interface ParseAgencyCodeOptions {
  /** The widest form to accept; QĐ 20/2020 (the legal general identifier) by default. */
  readonly form?: AgencyCodeForm;
  /** Where the code came from, for the issue; `code` by default. */
  readonly path?: string;
}

const GROUP_NAMES = ['L4', 'L3', 'L2', 'L1'] as const;
const GROUP_SHAPES = [/^\d{3}$/, /^\d{2}$/, /^\d{2}$/, /^[A-Z]\d{2}$/] as const;
const GROUP_RULES = [
  'three digits',
  'two digits',
  'two digits',
  'one upper-case letter and two digits',
] as const;
const LENIENT_MAX_LENGTH = 64;
const QD20_MAX_LENGTH = 35;

/** Parse an agency code, accepting it if it satisfies `options.form` (default 'qd20'). */
export function parseAgencyCode(code: string, options: ParseAgencyCodeOptions = {}): Result<AgencyCode> {
  const form = options.form ?? 'qd20';
  const path = options.path ?? 'code';
  if (!acceptsAgencyCode(code, form)) {
    return { ok: false, issues: [issue('EDX_ERR_AGENCY_CODE_INVALID', path, describeFault(code, form), code)] };
  }
  // Accepted codes always classify, since every form accepts what the narrower ones do.
  const narrowest = classifyAgencyCode(code) ?? form;
  return { ok: true, value: describe(code, narrowest), warnings: [] };
}

function describe(code: string, form: AgencyCodeForm): AgencyCode {
  const groups = qcvn102Groups(code);
  if (!groups) return { code, form };
  if (form !== 'qcvn102') return { code, form, level1: groups.l1 };
  const level = levelOfGroups(groups);
  const parent = parentOfGroups(groups, level);
  return parent === undefined
    ? { code, form, groups, level, level1: groups.l1 }
    : { code, form, groups, level, level1: groups.l1, parent };
}

/** Why `code` is not acceptable in `form`, naming the first rule it breaks. */
function describeFault(code: string, form: AgencyCodeForm): string {
  if (code.length === 0) return 'The agency code is empty.';
  if (code.trim() !== code) return 'The agency code has leading or trailing whitespace.';
  if (form === 'qcvn102') return qcvn102Fault(code);
  if (form === 'qd20') return qd20Fault(code);
  return lenientFault(code);
}

function qcvn102Fault(code: string): string {
  const groups = qcvn102Groups(code);
  if (groups) {
    // Right shape, so the hierarchy rule is what failed.
    return `${qcvn102HierarchyFault(groups) ?? 'the hierarchy rule is broken'}.`;
  }
  const parts = code.split('.');
  if (parts.length !== 4) {
    return `The code has ${parts.length} group(s); a QCVN 102 code has four, L4.L3.L2.L1 (ddd.dd.dd.Xdd).`;
  }
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? '';
    if (!(GROUP_SHAPES[i] ?? /^$/).test(part)) {
      return `Group ${GROUP_NAMES[i]} is '${part}'; it must be ${GROUP_RULES[i]} (ddd.dd.dd.Xdd).`;
    }
  }
  return 'The code is not in the QCVN 102 form ddd.dd.dd.Xdd.';
}

function qd20Fault(code: string): string {
  if (code.length > QD20_MAX_LENGTH) {
    return `The code is ${code.length} characters; QĐ 20/2020 allows at most ${QD20_MAX_LENGTH}.`;
  }
  const bad = [...code].find((ch) => !/[0-9A-Z.]/.test(ch));
  if (bad !== undefined) {
    return `The code contains '${bad}'; QĐ 20/2020 allows only digits, upper-case letters A–Z and dots.`;
  }
  if (!AGENCY_CODE_QD20.test(code)) {
    return 'The code has an empty group (a leading, trailing or doubled dot).';
  }
  return 'The code is not a QĐ 20/2020 identifier.';
}

function lenientFault(code: string): string {
  if (code.length > LENIENT_MAX_LENGTH) {
    return `The code is ${code.length} characters; at most ${LENIENT_MAX_LENGTH} are accepted.`;
  }
  if (!/^[0-9A-Za-z]/.test(code)) return 'The code must start with a letter or a digit.';
  const bad = [...code].find((ch) => !/[0-9A-Za-z._:-]/.test(ch));
  if (bad !== undefined) {
    return `The code contains '${bad}'; only letters, digits, '.', '_', ':' and '-' are accepted.`;
  }
  // Unreachable while the checks above mirror AGENCY_CODE_LENIENT; kept so a change there still
  // yields a sentence rather than nothing.
  return 'The code is not a lenient identifier.';
}

function levelOfGroups(groups: Qcvn102Groups): AgencyLevel {
  if (groups.l2 === '00') return 1;
  if (groups.l3 === '00') return 2;
  if (groups.l4 === '000') return 3;
  return 4;
}

function parentOfGroups(groups: Qcvn102Groups, level: AgencyLevel): string | undefined {
  const { l1, l2, l3 } = groups;
  switch (level) {
    case 1:
      return undefined;
    case 2:
      return `000.00.00.${l1}`;
    case 3:
      return `000.00.${l2}.${l1}`;
    case 4:
      return `000.${l3}.${l2}.${l1}`;
  }
}

function hierarchical(code: string): { groups: Qcvn102Groups; level: AgencyLevel } | undefined {
  const groups = qcvn102Groups(code);
  if (!groups || qcvn102HierarchyFault(groups) !== undefined) return undefined;
  return { groups, level: levelOfGroups(groups) };
}

/** The level of a well-formed QCVN 102 code, or undefined for any other code. */
export function levelOf(code: string): AgencyLevel | undefined {
  return hierarchical(code)?.level;
}

/** The code one level up, or undefined at level 1 and for codes outside the QCVN 102 tree. */
export function parentOf(code: string): string | undefined {
  const h = hierarchical(code);
  return h && parentOfGroups(h.groups, h.level);
}

/** The codes above `code` in the QCVN 102 tree, nearest first (empty at level 1 and outside it). */
export function ancestorsOf(code: string): readonly string[] {
  const out: string[] = [];
  for (let p = parentOf(code); p !== undefined; p = parentOf(p)) out.push(p);
  return out;
}

/** Whether `code` sits strictly below `ancestor` in the QCVN 102 tree (a code is not its own descendant). */
export function isDescendantOf(code: string, ancestor: string): boolean {
  return ancestorsOf(code).includes(ancestor);
}
