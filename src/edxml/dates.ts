// Calendar dates and timestamps as edXML writes them (spec/edxml.md §3.3): `yyyy/MM/dd` and
// `yyyy/MM/dd HH:mm:ss`, with no zone on the wire and Vietnam local time (UTC+7) implied.
// Vietnam has had no daylight saving time since 1975, so the zone is a fixed +7 h offset; plain
// arithmetic is exact and avoids depending on the ICU data Intl would need.

/** Vietnam's fixed offset from UTC in milliseconds (UTC+7, no DST). */
export const VIETNAM_OFFSET_MS = 7 * 60 * 60 * 1000;

/** A day of the proleptic Gregorian calendar, month and day 1-based. */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const CALENDAR_DATE = /^(\d{4})\/(\d{2})\/(\d{2})$/;
const TIMESTAMP = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function realDate(year: number, month: number, day: number): CalendarDate | undefined {
  // Year 0000 does not exist in the calendar the standard means.
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

/** The calendar date written as `yyyy/MM/dd`, or undefined if the text has another shape or the day does not exist. */
export function parseCalendarDate(text: string): CalendarDate | undefined {
  const m = CALENDAR_DATE.exec(text);
  if (!m) return undefined;
  return realDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** Milliseconds since the epoch of a wall-clock time read as UTC (valid for years 1–9999). */
function utcMillis(date: CalendarDate, hour: number, minute: number, second: number): number {
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
  const d = new Date(0);
  d.setUTCFullYear(date.year, date.month - 1, date.day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** The instant a `yyyy/MM/dd HH:mm:ss` Vietnam-time timestamp names, or undefined if malformed or impossible. */
export function parseTimestamp(text: string): Date | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const date = realDate(Number(m[1]), Number(m[2]), Number(m[3]));
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  // No leap seconds: the Java DateUtils the samples come from cannot write :60 either.
  if (!date || hour > 23 || minute > 59 || second > 59) return undefined;
  return new Date(utcMillis(date, hour, minute, second) - VIETNAM_OFFSET_MS);
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** The Vietnam-time wall clock of an instant, as UTC fields of a shifted Date. */
function vietnamClock(instant: Date): Date {
  const ms = instant.getTime();
  if (Number.isNaN(ms)) throw new RangeError('Invalid Date');
  return new Date(ms + VIETNAM_OFFSET_MS);
}

function formatDay(clock: Date): string {
  return `${pad(clock.getUTCFullYear(), 4)}/${pad(clock.getUTCMonth() + 1, 2)}/${pad(clock.getUTCDate(), 2)}`;
}

/** The instant as the wire writes it: `yyyy/MM/dd HH:mm:ss` in Vietnam time (milliseconds dropped). */
export function formatTimestamp(date: Date): string {
  const c = vietnamClock(date);
  return `${formatDay(c)} ${pad(c.getUTCHours(), 2)}:${pad(c.getUTCMinutes(), 2)}:${pad(c.getUTCSeconds(), 2)}`;
}

/** The date it is in Vietnam at `now`, as `yyyy/MM/dd`. */
export function vietnamToday(now: Date): string {
  return formatDay(vietnamClock(now));
}

/** A calendar date as `yyyy/MM/dd`. */
export function formatCalendarDate(date: CalendarDate): string {
  return `${pad(date.year, 4)}/${pad(date.month, 2)}/${pad(date.day, 2)}`;
}
