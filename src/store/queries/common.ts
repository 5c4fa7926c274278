// Small helpers shared by the query files.

import { EdxError } from '../../errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a uuid in its text form; ids from requests are checked before they reach a uuid column (which would throw). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Longest `last_error` kept: enough for a status line and a reason, never a whole response body. */
export const LAST_ERROR_MAX_LENGTH = 2000;

/** Cuts an error text to LAST_ERROR_MAX_LENGTH. */
export function clipError(text: string): string {
  return text.length <= LAST_ERROR_MAX_LENGTH ? text : `${text.slice(0, LAST_ERROR_MAX_LENGTH - 1)}…`;
}

// Cursors are opaque to clients (base64url of a tagged number) so nobody builds them by arithmetic.
/** Encodes a position in a `seq`-ordered listing. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`, 'utf8').toString('base64url');
}

/** Decodes a cursor made by encodeCursor; EDX_ERR_CURSOR_INVALID otherwise. */
export function decodeCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,32}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^s(\d{1,15})$/.exec(text);
  if (!match?.[1]) throw new EdxError('EDX_ERR_CURSOR_INVALID', `"${cursor.slice(0, 40)}" is not a cursor of this listing.`);
  return Number(match[1]);
}

/** Clamps a page size asked by a client to 1..max. */
export function pageSize(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(max, Math.max(1, Math.trunc(limit)));
}
