// Which certificates may sign for which agency. A certificate from the Government CA proves who
// holds the key, not which agency code the holder may send as: without a binding, any agency's
// valid certificate could sign packets "From" any other agency. The binding is plain data; the
// directory (a database table owned elsewhere) stores it and hands it over per evaluation.

import { issue } from '../../errors.ts';
import type { Issue, Result } from '../../errors.ts';
import { normaliseFingerprint } from './certificate.ts';
import type { Certificate } from './certificate.ts';
import { attributeOid, attributeValues } from './names.ts';

/**
 * A rule on one subject attribute. With no `value`, the agency code itself is looked for, so one
 * pattern can serve every agency (e.g. as the fallback: "O is the agency code").
 */
export interface SubjectPattern {
  /** Short name (CN, O, OU, serialNumber, UID, organizationIdentifier…) or a dotted OID. */
  readonly attribute: string;
  /**
   * `equals` (default): the whole value, compared case-insensitively after Unicode normalisation.
   * `contains`: the value appears as a whole token, so 000.00.15.H47 is not found inside
   * 1000.00.15.H47 or 000.00.15.H470.
   */
  readonly match?: 'equals' | 'contains' | undefined;
  readonly value?: string | undefined;
}

/** The certificates of one agency: any listed fingerprint OR any subject pattern binds. */
export interface AgencyCertificates {
  /** SHA-256 of the certificate DER, hex; colons, spaces and case are ignored. */
  readonly fingerprints?: readonly string[] | undefined;
  readonly subjects?: readonly SubjectPattern[] | undefined;
}

export interface AgencyBinding {
  /** By agency code. */
  readonly agencies: ReadonlyMap<string, AgencyCertificates> | Readonly<Record<string, AgencyCertificates>>;
  /**
   * Applies to agencies without an entry. Absent: such an agency has no certificate, and all its
   * signatures are refused (fail closed).
   */
  readonly fallback?: AgencyCertificates | undefined;
}

export type BindingMatch =
  | { readonly ok: true; readonly by: 'fingerprint' | 'subject'; readonly detail: string }
  | { readonly ok: false; readonly reason: string };

/** Whether `certificate` may sign for `agency` under `binding`. */
export function matchAgencyBinding(certificate: Certificate, agency: string, binding: AgencyBinding): BindingMatch {
  const own = entryFor(binding, agency);
  const rules = own ?? binding.fallback;
  if (!rules) return { ok: false, reason: `no certificate is bound to agency ${agency}` };
  const fingerprint = certificate.fingerprint256;
  if ((rules.fingerprints ?? []).some((listed) => normaliseFingerprint(listed) === fingerprint)) {
    return { ok: true, by: 'fingerprint', detail: `fingerprint ${fingerprint} is bound to ${agency}` };
  }
  for (const pattern of rules.subjects ?? []) {
    const wanted = pattern.value ?? agency;
    const found = attributeValues(certificate.subject, pattern.attribute).find((value) =>
      (pattern.match ?? 'equals') === 'equals' ? sameText(value, wanted) : containsToken(value, wanted),
    );
    if (found !== undefined) {
      return { ok: true, by: 'subject', detail: `subject ${pattern.attribute}=${found} matches ${agency}` };
    }
  }
  const rule = own ? `the certificates bound to agency ${agency}` : `the default binding rule applied to agency ${agency}`;
  return { ok: false, reason: `${certificate.subject.text} (sha256 ${fingerprint}) does not match ${rule}` };
}

function entryFor(binding: AgencyBinding, agency: string): AgencyCertificates | undefined {
  const agencies = binding.agencies;
  if (agencies instanceof Map) return agencies.get(agency);
  const record = agencies as Readonly<Record<string, AgencyCertificates>>;
  return Object.hasOwn(record, agency) ? record[agency] : undefined;
}

function normaliseText(text: string): string {
  return text.normalize('NFC').trim().toLowerCase();
}

function sameText(value: string, wanted: string): boolean {
  return normaliseText(value) === normaliseText(wanted);
}

/** Letters, digits and the dot glue a token together (agency codes are dotted). */
const TOKEN_CHARACTER = /[\p{L}\p{N}.]/u;

function containsToken(value: string, wanted: string): boolean {
  const haystack = normaliseText(value);
  const needle = normaliseText(wanted);
  if (needle.length === 0) return false;
  for (let from = haystack.indexOf(needle); from !== -1; from = haystack.indexOf(needle, from + 1)) {
    const before = haystack[from - 1];
    const after = haystack[from + needle.length];
    const boundedBefore = before === undefined || !TOKEN_CHARACTER.test(before);
    const boundedAfter = after === undefined || !TOKEN_CHARACTER.test(after);
    if (boundedBefore && boundedAfter) return true;
  }
  return false;
}

/**
 * Checks binding data before it is stored or used (for the directory's admin path): fingerprints
 * are 64 hex digits, patterns name a known attribute and a match kind. Returns the binding as given.
 */
export function checkAgencyBinding(binding: AgencyBinding): Result<AgencyBinding> {
  const issues: Issue[] = [];
  const entries: [string, AgencyCertificates][] =
    binding.agencies instanceof Map ? [...binding.agencies.entries()] : Object.entries(binding.agencies);
  if (binding.fallback) entries.push(['(fallback)', binding.fallback]);
  for (const [agency, rules] of entries) {
    (rules.fingerprints ?? []).forEach((fingerprint, index) => {
      if (!/^[0-9a-f]{64}$/.test(normaliseFingerprint(fingerprint))) {
        issues.push(
          issue(
            'EDX_ERR_AGENCY_RECORD_INVALID',
            `${agency}/fingerprints[${index}]`,
            'A certificate fingerprint is the SHA-256 of its DER as 64 hex digits (colons allowed).',
            fingerprint,
          ),
        );
      }
    });
    (rules.subjects ?? []).forEach((pattern, index) => {
      if (attributeOid(pattern.attribute) === undefined) {
        issues.push(
          issue(
            'EDX_ERR_AGENCY_RECORD_INVALID',
            `${agency}/subjects[${index}]/attribute`,
            'Name a subject attribute as CN, O, OU, serialNumber, UID, organizationIdentifier, … or a dotted OID.',
            pattern.attribute,
          ),
        );
      }
      if (pattern.match !== undefined && pattern.match !== 'equals' && pattern.match !== 'contains') {
        issues.push(
          issue('EDX_ERR_AGENCY_RECORD_INVALID', `${agency}/subjects[${index}]/match`, 'Use equals or contains.', String(pattern.match)),
        );
      }
      if (pattern.value !== undefined && pattern.value.trim() === '') {
        issues.push(
          issue('EDX_ERR_AGENCY_RECORD_INVALID', `${agency}/subjects[${index}]/value`, 'Omit the value to match the agency code, or give a non-empty one.'),
        );
      }
    });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: binding, warnings: [] };
}
