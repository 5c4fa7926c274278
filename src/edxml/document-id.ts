// The document identifier (mã định danh văn bản, QĐ 395/QĐ-BTTTT; spec/edxml.md §8): issuer's agency
// code, promulgation date (or only its year) and "Number/Notation", joined by commas, e.g.
// `000.00.00.G22,2015/09/30,7816/VPCP-TTĐT` or `000.00.01.H01,2018,10/UBND`.
//
// Only the shape is checked here. The embedded date is deliberately NOT checked against the calendar:
// the official samples carry `000.00.00.G22,2014/02/30,7806/VPCP-TTĐT`, and an identifier is a name,
// not a date to compute with.

import type { DocumentHeader } from './model.ts';

/** The parts of a QĐ 395 document identifier. */
export interface DocumentIdParts {
  /** Agency code of the issuer, as written (its form is judged elsewhere). */
  readonly organId: string;
  /** `yyyy/MM/dd` when the identifier carries a full date (possibly not a real day). */
  readonly date?: string | undefined;
  /** The year of promulgation (from the date when there is one). */
  readonly year: number;
  /** Số văn bản. */
  readonly number: string;
  /** Ký hiệu văn bản; may itself contain `/`, `-` and Vietnamese letters (`VPCP-TTĐT`). */
  readonly notation: string;
}

// Number is everything up to the first '/' after the date; the notation keeps any further '/'.
// The organ group excludes ',' so the first comma always ends it.
const DOCUMENT_ID = /^([^,]+),(\d{4})(\/\d{2}\/\d{2})?,([^/,]+)\/(.+)$/u;

/** The parts of a QĐ 395 identifier (`OrganId,yyyy/MM/dd,Number/Notation` or `OrganId,yyyy,Number/Notation`), or undefined. */
export function parseDocumentId(text: string): DocumentIdParts | undefined {
  const m = DOCUMENT_ID.exec(text);
  if (!m) return undefined;
  const [, organId, year, monthDay, number, notation] = m;
  if (organId === undefined || year === undefined || number === undefined || notation === undefined) return undefined;
  return {
    organId,
    date: monthDay === undefined ? undefined : `${year}${monthDay}`,
    year: Number(year),
    number,
    notation,
  };
}

/** The identifier text for `parts`: the date form when a date is known (what the VPCP samples write), else the year form. */
export function formatDocumentId(parts: DocumentIdParts): string {
  const when = parts.date ?? String(parts.year).padStart(4, '0');
  return `${parts.organId},${when},${parts.number}/${parts.notation}`;
}

const WIRE_DATE = /^(\d{4})\/\d{2}\/\d{2}$/;

/**
 * The identifier a document header should carry, from From/OrganId, PromulgationDate and Code, or
 * undefined when PromulgationDate is not in `yyyy/MM/dd` form (the model keeps such values as written).
 */
export function documentIdFor(
  header: Pick<DocumentHeader, 'from' | 'code' | 'promulgationInfo'>,
): string | undefined {
  const date = header.promulgationInfo.promulgationDate;
  const m = WIRE_DATE.exec(date);
  if (!m) return undefined;
  return formatDocumentId({
    organId: header.from.organId,
    date,
    year: Number(m[1]),
    number: header.code.codeNumber,
    notation: header.code.codeNotation,
  });
}
