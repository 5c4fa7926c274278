// Wire-level syntax of agency identifier codes (mã định danh cơ quan, spec/edxml.md §2.7).
// Three forms, each a superset of the one before: strict QCVN 102 (13 characters, hierarchical),
// QĐ 20/2020 generic (≤35 chars of [0-9A-Z.]) and lenient (axis test ids such as `vxp.saas.02`).
// Only syntax lives here; levels, parents and the directory are src/agency/'s business.

/** The forms, narrowest first; `classifyAgencyCode` relies on this order. */
export const AGENCY_CODE_FORMS = ['qcvn102', 'qd20', 'lenient'] as const;
export type AgencyCodeForm = (typeof AGENCY_CODE_FORMS)[number];

const FORM_SET = new Set<unknown>(AGENCY_CODE_FORMS);
/** Runtime guard for a form name read from config or a request. */
export function isAgencyCodeForm(value: unknown): value is AgencyCodeForm {
  return FORM_SET.has(value);
}

/** QCVN 102 shape `L4.L3.L2.L1`; captures 1–4 are L4, L3, L2, L1 (written right-to-left). */
export const AGENCY_CODE_QCVN102 = /^(\d{3})\.(\d{2})\.(\d{2})\.([A-Z]\d{2})$/;
/** QĐ 20/2020 generic electronic identifier: at most 35 characters, groups of [0-9A-Z] split by dots. */
export const AGENCY_CODE_QD20 = /^(?=.{1,35}$)[0-9A-Z]+(\.[0-9A-Z]+)*$/;
/** Lenient: sandbox and X-Road style ids seen on real axes (`vxp.saas.02`, `H37.DN.001`). */
export const AGENCY_CODE_LENIENT = /^[0-9A-Za-z][0-9A-Za-z._:-]{0,63}$/;

/** The four groups of a QCVN 102-shaped code, named by level (l1 is the rightmost group). */
export interface Qcvn102Groups {
  readonly l1: string;
  readonly l2: string;
  readonly l3: string;
  readonly l4: string;
}

/** The groups of a code with the QCVN 102 shape, or undefined; the hierarchy rule is not checked. */
export function qcvn102Groups(code: string): Qcvn102Groups | undefined {
  const m = AGENCY_CODE_QCVN102.exec(code);
  if (!m) return undefined;
  // The regex has exactly four capture groups, so these are always strings on a match.
  return { l4: m[1] as string, l3: m[2] as string, l2: m[3] as string, l1: m[4] as string };
}

/**
 * The hierarchy rule a QCVN 102-shaped code breaks, as a sentence, or undefined when it holds.
 * `00`/`000` means "no unit at this level", so nothing can sit to the left of an empty group.
 */
export function qcvn102HierarchyFault(groups: Qcvn102Groups): string | undefined {
  const { l2, l3, l4 } = groups;
  if (l2 === '00' && l3 !== '00') {
    return `group L2 is 00 but L3 is ${l3}: a unit cannot sit under an empty level`;
  }
  if (l2 === '00' && l4 !== '000') {
    return `group L2 is 00 but L4 is ${l4}: a unit cannot sit under an empty level`;
  }
  if (l3 === '00' && l4 !== '000') {
    return `group L3 is 00 but L4 is ${l4}: a unit cannot sit under an empty level`;
  }
  return undefined;
}

function isQcvn102(code: string): boolean {
  const groups = qcvn102Groups(code);
  return groups !== undefined && qcvn102HierarchyFault(groups) === undefined;
}

/** Whether `code` is acceptable in `form`: each form accepts everything the narrower ones do. */
export function acceptsAgencyCode(code: string, form: AgencyCodeForm): boolean {
  switch (form) {
    case 'qcvn102':
      return isQcvn102(code);
    case 'qd20':
      // Every QCVN 102 shape, even one breaking the hierarchy rule (`002.00.20.H13`), fits QĐ 20.
      return AGENCY_CODE_QD20.test(code);
    case 'lenient':
      return AGENCY_CODE_QD20.test(code) || AGENCY_CODE_LENIENT.test(code);
  }
}

/** The narrowest form `code` satisfies, or undefined when no form accepts it. */
export function classifyAgencyCode(code: string): AgencyCodeForm | undefined {
  return AGENCY_CODE_FORMS.find((form) => acceptsAgencyCode(code, form));
}
