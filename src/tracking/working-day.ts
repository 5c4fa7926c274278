// The working-day calendar behind the service-level timers (spec/edxml.md §9). QĐ 28/2018/QĐ-TTg
// Điều 6 and NĐ 30/2020/NĐ-CP Điều 18 count in working days ("trong ngày", "chậm nhất là … ngày làm
// việc tiếp theo"), and NĐ 30 Điều 21(2) asks the receiver to notify receipt "on the same day". So a
// document delivered during a working day must be confirmed by the end of that day; one delivered
// after the end of a working day, or on a day off, by the end of the next working day.
//
// Everything is Vietnam time (UTC+7, no DST since 1975: see edxml/dates.ts), so a day is a fixed
// 24 h span and plain arithmetic on epoch milliseconds is exact. Days are numbered as "Vietnam
// epoch days" (days since 1970-01-01 in the Vietnam calendar) internally.
//
// Pure: no clock is read here; callers pass the instants.

import { VIETNAM_OFFSET_MS, parseCalendarDate } from '../edxml/dates.ts';

/** The calendar the timers use: when a working day ends, which weekdays work, which days are off. */
export interface ServiceLevelOptions {
  /** End of the working day, Vietnam time, `HH:mm` (24-hour). */
  readonly workdayEnd: string;
  /** Working weekdays, ISO 8601 numbering: 1 Monday … 7 Sunday. */
  readonly workingDays: readonly number[];
  /** Days off (public holidays, compensatory days), `yyyy-mm-dd` in the Vietnam calendar. */
  readonly holidays: readonly string[];
}

/**
 * The defaults. No seed states an hour: seed 002 Điều 18.1 speaks of "giờ làm việc hành chính" and
 * Điều 18.4.a of "đầu buổi sáng và đầu buổi chiều" without times, and seeds 000, 001, 003, 004 count
 * "ngày làm việc" only. 17:00 is the usual end of the afternoon session of state offices; Monday to
 * Friday is the 40-hour week of state offices (QĐ 188/1999/QĐ-TTg — background, not in spec/).
 * Holidays change every year (Tết and Giỗ Tổ follow the lunar calendar, and the government moves
 * days around them), so none is built in: operators list them.
 */
export const DEFAULT_SERVICE_LEVEL: ServiceLevelOptions = Object.freeze({
  workdayEnd: '17:00',
  workingDays: Object.freeze([1, 2, 3, 4, 5]),
  holidays: Object.freeze([]),
});

/** The service-level settings as config holds them (strings, as env variables give them). */
export interface ServiceLevelSettings {
  /** `HH:mm`, e.g. `17:00`. */
  readonly workdayEnd: string;
  /** ISO weekdays, comma-separated, ranges allowed: `1-5`, `1,2,3,4,5`, `1-5,6`. */
  readonly workingDays: string;
  /** `yyyy-mm-dd` days, separated by commas or spaces; empty or absent for none. */
  readonly holidays?: string | undefined;
}

/** The shape `workdayEnd` must have (for the config schema's `pattern`). */
export const WORKDAY_END_PATTERN = /^([01]\d|2[0-3]):[0-5]\d$/;
/** The shape `workingDays` settings must have. */
export const WORKING_DAYS_PATTERN = /^\s*[1-7](\s*-\s*[1-7])?(\s*,\s*[1-7](\s*-\s*[1-7])?)*\s*$/;
/** The shape `holidays` settings must have (each day is also checked to exist). */
export const HOLIDAYS_PATTERN = /^\s*(\d{4}-\d{2}-\d{2}([\s,]+\d{4}-\d{2}-\d{2})*)?[\s,]*$/;

const DAY_MS = 24 * 60 * 60 * 1000;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
// A calendar with only holidays ahead can have no working day for a long time; a year of days off
// on end is a configuration mistake, not a calendar.
const MAX_SEARCH_DAYS = 366;

/** The Vietnam epoch day of `yyyy-mm-dd`, or undefined if the text has another shape or the day does not exist. */
export function parseVietnamDay(text: string): number | undefined {
  if (!ISO_DAY.test(text)) return undefined;
  const date = parseCalendarDate(text.replaceAll('-', '/'));
  if (date === undefined) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(date.year, date.month - 1, date.day);
  return Math.round(d.getTime() / DAY_MS);
}

/** The instant a Vietnam day begins (00:00 Vietnam time). */
export function vietnamDayStart(day: number): Date {
  return new Date(day * DAY_MS - VIETNAM_OFFSET_MS);
}

/** The Vietnam day an instant falls in. */
export function vietnamDayOf(instant: Date): number {
  const ms = instant.getTime();
  if (Number.isNaN(ms)) throw new RangeError('Invalid Date');
  return Math.floor((ms + VIETNAM_OFFSET_MS) / DAY_MS);
}

/** A Vietnam day as `yyyy-mm-dd`. */
export function formatVietnamDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The same Vietnam day `months` calendar months before the day `instant` falls in, at 00:00 (clamped
 * to the end of a shorter month: 31 August − 6 months = 28 or 29 February).
 */
export function monthsBefore(instant: Date, months: number): Date {
  const day = new Date(vietnamDayOf(instant) * DAY_MS);
  const year = day.getUTCFullYear();
  const month = day.getUTCMonth() - months;
  // Day 0 of the following month is the last day of the target month.
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return vietnamDayStart(Math.round(Date.UTC(year, month, Math.min(day.getUTCDate(), lastDay)) / DAY_MS));
}

/** ISO weekday (1 Monday … 7 Sunday) of a Vietnam day; 1970-01-01 was a Thursday. */
export function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

/** What is wrong with `options`, one sentence each; empty when they are usable. */
export function serviceLevelProblems(options: ServiceLevelOptions): string[] {
  const problems: string[] = [];
  if (!WORKDAY_END_PATTERN.test(options.workdayEnd)) problems.push(`workdayEnd "${options.workdayEnd}" is not a time HH:mm between 00:00 and 23:59.`);
  const bad = options.workingDays.filter((d) => !Number.isInteger(d) || d < 1 || d > 7);
  if (bad.length > 0) problems.push(`workingDays ${bad.join(', ')} ${bad.length === 1 ? 'is' : 'are'} not ISO weekdays (1 Monday … 7 Sunday).`);
  else if (options.workingDays.length === 0) problems.push('workingDays is empty: at least one weekday must be a working day.');
  for (const h of options.holidays) {
    if (parseVietnamDay(h) === undefined) problems.push(`holiday "${h}" is not a day yyyy-mm-dd.`);
  }
  return problems;
}

/** Parses the string settings; throws RangeError naming every problem (the config schema's patterns catch most first). */
export function serviceLevelFromSettings(settings: ServiceLevelSettings): ServiceLevelOptions {
  const problems: string[] = [];
  if (!WORKING_DAYS_PATTERN.test(settings.workingDays)) problems.push(`workingDays "${settings.workingDays}" is not a list of ISO weekdays 1–7 such as "1-5" or "1,2,3,4,5".`);
  const holidays = settings.holidays ?? '';
  if (!HOLIDAYS_PATTERN.test(holidays)) problems.push(`holidays "${holidays}" is not a list of days yyyy-mm-dd separated by commas.`);
  if (problems.length > 0) throw new RangeError(problems.join(' '));
  const workingDays = new Set<number>();
  for (const part of settings.workingDays.split(',')) {
    const [a, b] = part.split('-').map((s) => Number(s.trim()));
    if (a === undefined) continue;
    const last = b ?? a;
    // A reversed range (5-1) is read as written backwards, not as empty.
    for (let d = Math.min(a, last); d <= Math.max(a, last); d++) workingDays.add(d);
  }
  const options: ServiceLevelOptions = {
    workdayEnd: settings.workdayEnd.trim(),
    workingDays: [...workingDays].sort((x, y) => x - y),
    holidays: holidays.split(/[\s,]+/).filter((h) => h !== ''),
  };
  const more = serviceLevelProblems(options);
  if (more.length > 0) throw new RangeError(more.join(' '));
  return options;
}

/** The service level of a config: its `tracking` group (TRACKING_WORKDAY_END, TRACKING_WORKING_DAYS, TRACKING_HOLIDAYS). */
export function serviceLevelOf(config: { readonly tracking: ServiceLevelSettings }): ServiceLevelOptions {
  return serviceLevelFromSettings(config.tracking);
}

/** A working-day calendar: built once from validated options, then asked many times. */
export class WorkingCalendar {
  readonly options: ServiceLevelOptions;
  /** Minutes after midnight at which a working day ends. */
  readonly #endMinutes: number;
  readonly #weekdays: ReadonlySet<number>;
  readonly #holidays: ReadonlySet<number>;

  private constructor(options: ServiceLevelOptions) {
    this.options = options;
    const [h, m] = options.workdayEnd.split(':').map(Number);
    this.#endMinutes = (h ?? 0) * 60 + (m ?? 0);
    this.#weekdays = new Set(options.workingDays);
    this.#holidays = new Set(options.holidays.map((d) => parseVietnamDay(d) ?? Number.NaN));
  }

  /** The calendar of `options`; throws RangeError when they are not usable (see serviceLevelProblems). */
  static of(options: ServiceLevelOptions = DEFAULT_SERVICE_LEVEL): WorkingCalendar {
    const problems = serviceLevelProblems(options);
    if (problems.length > 0) throw new RangeError(problems.join(' '));
    return new WorkingCalendar(options);
  }

  /** Whether a Vietnam day is a working day. */
  isWorkingDay(day: number): boolean {
    return this.#weekdays.has(isoWeekday(day)) && !this.#holidays.has(day);
  }

  /** The instant the working day `day` ends (meaningful for working days). */
  endOf(day: number): Date {
    return new Date(vietnamDayStart(day).getTime() + this.#endMinutes * 60_000);
  }

  /**
   * When receipt of something delivered at `deliveredAt` must be confirmed: the end of that working
   * day, or — delivered after it ends, or on a day off — the end of the next working day. An
   * instant exactly at the end still belongs to that day.
   */
  dueAt(deliveredAt: Date): Date {
    const day = vietnamDayOf(deliveredAt);
    if (this.isWorkingDay(day) && deliveredAt.getTime() <= this.endOf(day).getTime()) return this.endOf(day);
    return this.endOf(this.#nextWorkingDay(day, +1));
  }

  /**
   * The last working-day end strictly before `now`. Anything delivered at or before it is overdue
   * at `now` when still unconfirmed: its due time is the first working-day end at or after its
   * delivery, which is then at most this one, hence before `now`. Queries compare against this
   * one instant instead of computing a due time per row.
   */
  cutoffAt(now: Date): Date {
    const day = vietnamDayOf(now);
    if (this.isWorkingDay(day) && this.endOf(day).getTime() < now.getTime()) return this.endOf(day);
    return this.endOf(this.#nextWorkingDay(day, -1));
  }

  /**
   * Every working-day end from the first one at or after `from` up to and including the first one
   * at or after `to`: enough to find the due time of anything delivered in [from, to].
   */
  endsCovering(from: Date, to: Date): Date[] {
    const ends: Date[] = [];
    const last = this.dueAt(to).getTime();
    for (let day = vietnamDayOf(from); ; day++) {
      if (!this.isWorkingDay(day)) continue;
      const end = this.endOf(day);
      if (end.getTime() < from.getTime()) continue;
      ends.push(end);
      if (end.getTime() >= last) return ends;
    }
  }

  #nextWorkingDay(day: number, step: 1 | -1): number {
    for (let i = 1; i <= MAX_SEARCH_DAYS; i++) {
      const candidate = day + step * i;
      if (this.isWorkingDay(candidate)) return candidate;
    }
    throw new RangeError(`no working day within ${MAX_SEARCH_DAYS} days of ${formatVietnamDay(day)}: check the holidays and working days.`);
  }
}

/** The receipt due time of a delivery under `options` (see WorkingCalendar.dueAt). */
export function receiptDueAt(deliveredAt: Date, options: ServiceLevelOptions = DEFAULT_SERVICE_LEVEL): Date {
  return WorkingCalendar.of(options).dueAt(deliveredAt);
}
