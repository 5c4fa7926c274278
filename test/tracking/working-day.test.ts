// The working-day calendar of the service-level timers: when a receipt is due, the overdue cut-off,
// and the settings as config gives them. March 2025: the 5th is a Wednesday, the 7th a Friday.

import t from 'tap';
import {
  DEFAULT_SERVICE_LEVEL,
  WorkingCalendar,
  formatVietnamDay,
  isoWeekday,
  parseVietnamDay,
  receiptDueAt,
  serviceLevelFromSettings,
  serviceLevelOf,
  serviceLevelProblems,
  vietnamDayOf,
  vietnamDayStart,
} from '../../src/tracking/working-day.ts';
import { loadConfig } from '../../src/config/load.ts';

/** An instant written in Vietnam time. */
const vn = (text: string): Date => new Date(`${text}+07:00`);
const iso = (d: Date): string => d.toISOString();

const calendar = WorkingCalendar.of();
// 30/4 and 1/5 are public holidays; Friday 2/5 stands for a compensatory day off next to them.
const withHolidays = WorkingCalendar.of({ ...DEFAULT_SERVICE_LEVEL, holidays: ['2025-04-30', '2025-05-01', '2025-05-02'] });

t.test('Vietnam days: parsing, weekday, start, and the +7 h offset', async (t) => {
  const day = parseVietnamDay('2025-03-05');
  t.equal(day !== undefined && formatVietnamDay(day), '2025-03-05');
  t.equal(day !== undefined && isoWeekday(day), 3, 'a Wednesday');
  t.equal(isoWeekday(0), 4, '1970-01-01 was a Thursday');
  t.equal(day !== undefined && iso(vietnamDayStart(day)), '2025-03-04T17:00:00.000Z', '00:00 in Vietnam is 17:00 UTC the day before');
  t.equal(vietnamDayOf(new Date('2025-03-05T16:59:59.999Z')), day, 'still the 5th in Vietnam');
  t.equal(vietnamDayOf(new Date('2025-03-05T17:00:00.000Z')), (day ?? 0) + 1, 'already the 6th in Vietnam');
  t.equal(parseVietnamDay('2025-02-29'), undefined, 'no such day');
  t.not(parseVietnamDay('2024-02-29'), undefined, 'a leap day');
  t.equal(parseVietnamDay('2025/03/05'), undefined, 'the wire format is not the query format');
  t.equal(parseVietnamDay('2025-3-5'), undefined);
});

t.test('a delivery during a working day is due at the end of that day', async (t) => {
  t.equal(iso(calendar.dueAt(vn('2025-03-05T10:00:00'))), iso(vn('2025-03-05T17:00:00')));
  t.equal(iso(calendar.dueAt(vn('2025-03-05T00:00:00'))), iso(vn('2025-03-05T17:00:00')), 'just after midnight');
  t.equal(iso(calendar.dueAt(vn('2025-03-05T17:00:00'))), iso(vn('2025-03-05T17:00:00')), 'exactly at the end still belongs to the day');
  // 06:30 on Thursday in Vietnam is still Wednesday in UTC: the day is Vietnam's.
  t.equal(iso(calendar.dueAt(new Date('2025-03-05T23:30:00Z'))), iso(vn('2025-03-06T17:00:00')));
  t.equal(iso(receiptDueAt(vn('2025-03-05T10:00:00'))), iso(vn('2025-03-05T17:00:00')), 'the one-shot helper agrees');
});

t.test('after the end of a working day, or on a day off, it is due at the end of the next working day', async (t) => {
  t.equal(iso(calendar.dueAt(vn('2025-03-05T17:00:00.001'))), iso(vn('2025-03-06T17:00:00')), 'a millisecond after the end');
  t.equal(iso(calendar.dueAt(vn('2025-03-07T18:00:00'))), iso(vn('2025-03-10T17:00:00')), 'Friday evening → Monday');
  t.equal(iso(calendar.dueAt(vn('2025-03-08T09:00:00'))), iso(vn('2025-03-10T17:00:00')), 'Saturday → Monday');
  t.equal(iso(calendar.dueAt(vn('2025-03-09T23:59:59'))), iso(vn('2025-03-10T17:00:00')), 'Sunday night → Monday');
  t.equal(iso(withHolidays.dueAt(vn('2025-04-29T18:00:00'))), iso(vn('2025-05-05T17:00:00')), 'over 30/4, 1/5, the day off on 2/5 and the weekend');
  t.equal(iso(withHolidays.dueAt(vn('2025-04-30T09:00:00'))), iso(vn('2025-05-05T17:00:00')), 'on a holiday');
  t.equal(iso(calendar.dueAt(vn('2025-04-30T09:00:00'))), iso(vn('2025-04-30T17:00:00')), 'without the holiday listed, 30/4 is a Wednesday like any other');
});

t.test('another end of day and a six-day week', async (t) => {
  const c = WorkingCalendar.of({ workdayEnd: '16:30', workingDays: [1, 2, 3, 4, 5, 6], holidays: [] });
  t.equal(iso(c.dueAt(vn('2025-03-07T16:45:00'))), iso(vn('2025-03-08T16:30:00')), 'Friday after 16:30 → Saturday');
  t.equal(iso(c.dueAt(vn('2025-03-08T20:00:00'))), iso(vn('2025-03-10T16:30:00')), 'Saturday evening → Monday');
  t.equal(iso(c.cutoffAt(vn('2025-03-09T12:00:00'))), iso(vn('2025-03-08T16:30:00')), 'on Sunday the last end was Saturday\'s');
});

t.test('the cut-off is the last working-day end strictly before now', async (t) => {
  t.equal(iso(calendar.cutoffAt(vn('2025-03-05T16:00:00'))), iso(vn('2025-03-04T17:00:00')), 'before today\'s end: yesterday\'s');
  t.equal(iso(calendar.cutoffAt(vn('2025-03-05T17:00:00'))), iso(vn('2025-03-04T17:00:00')), 'at the end exactly, nothing of today is late yet');
  t.equal(iso(calendar.cutoffAt(vn('2025-03-05T17:00:01'))), iso(vn('2025-03-05T17:00:00')), 'just after: today\'s');
  t.equal(iso(calendar.cutoffAt(vn('2025-03-10T09:00:00'))), iso(vn('2025-03-07T17:00:00')), 'Monday morning: Friday\'s');
  t.equal(iso(calendar.cutoffAt(vn('2025-03-09T12:00:00'))), iso(vn('2025-03-07T17:00:00')), 'Sunday: Friday\'s');
  t.equal(iso(withHolidays.cutoffAt(vn('2025-05-02T12:00:00'))), iso(vn('2025-04-29T17:00:00')), 'over the holidays: the last working day\'s');
});

t.test('overdue at now ⇔ delivered at or before the cut-off (what the queries rely on)', async (t) => {
  // Every half hour over three weeks around the holidays, both ways.
  const start = vn('2025-04-24T00:00:00').getTime();
  const step = 30 * 60_000;
  const instants = Array.from({ length: 21 * 48 }, (_, i) => new Date(start + i * step + (i % 7) * 1000));
  let checked = 0;
  let mismatches = 0;
  for (const now of instants.filter((_, i) => i % 5 === 0)) {
    const cutoff = withHolidays.cutoffAt(now).getTime();
    for (const delivered of instants) {
      if (delivered.getTime() > now.getTime()) break;
      const overdue = withHolidays.dueAt(delivered).getTime() < now.getTime();
      if (overdue !== delivered.getTime() <= cutoff) mismatches++;
      checked++;
    }
  }
  t.ok(checked > 10_000, `${checked} pairs checked`);
  t.equal(mismatches, 0);
});

t.test('endsCovering lists every working-day end from the first after `from` to the first after `to`', async (t) => {
  const ends = withHolidays.endsCovering(vn('2025-04-28T18:00:00'), vn('2025-05-02T00:00:00'));
  t.same(ends.map(iso), [vn('2025-04-29T17:00:00'), vn('2025-05-05T17:00:00')].map(iso));
  const week = calendar.endsCovering(vn('2025-03-03T00:00:00'), vn('2025-03-07T17:00:00'));
  t.equal(week.length, 5, 'Monday to Friday');
  for (const d of [vn('2025-03-03T08:00:00'), vn('2025-03-05T17:30:00'), vn('2025-03-07T17:00:00')]) {
    const first = week.find((e) => e.getTime() >= d.getTime());
    t.equal(first && iso(first), iso(calendar.dueAt(d)), 'the first end at or after a delivery is its due time');
  }
});

t.test('settings as config gives them', async (t) => {
  t.same(serviceLevelFromSettings({ workdayEnd: '17:00', workingDays: '1-5', holidays: '' }), { workdayEnd: '17:00', workingDays: [1, 2, 3, 4, 5], holidays: [] });
  t.same(serviceLevelFromSettings({ workdayEnd: '16:30', workingDays: '1,2,3, 4,5 ,6', holidays: '2025-04-30, 2025-05-01 2025-05-02,' }), {
    workdayEnd: '16:30',
    workingDays: [1, 2, 3, 4, 5, 6],
    holidays: ['2025-04-30', '2025-05-01', '2025-05-02'],
  });
  t.same(serviceLevelFromSettings({ workdayEnd: '17:00', workingDays: '1-3,5', holidays: '' }).workingDays, [1, 2, 3, 5]);
  t.throws(() => serviceLevelFromSettings({ workdayEnd: '17:00', workingDays: '0-4', holidays: '' }), RangeError, 'weekday 0 does not exist in ISO numbering');
  t.throws(() => serviceLevelFromSettings({ workdayEnd: '17:00', workingDays: 'Mon-Fri', holidays: '' }), RangeError);
  t.throws(() => serviceLevelFromSettings({ workdayEnd: '25:00', workingDays: '1-5', holidays: '' }), /workdayEnd "25:00"/);
  t.throws(() => serviceLevelFromSettings({ workdayEnd: '17:00', workingDays: '1-5', holidays: '2025-02-30' }), /holiday "2025-02-30"/);
  t.throws(() => serviceLevelFromSettings({ workdayEnd: '17:00', workingDays: '1-5', holidays: '30/04/2025' }), /holidays/);
  t.same(serviceLevelProblems({ workdayEnd: '17:00', workingDays: [], holidays: [] }), ['workingDays is empty: at least one weekday must be a working day.']);
  t.throws(() => WorkingCalendar.of({ workdayEnd: '5pm', workingDays: [1], holidays: [] }), RangeError);
});

t.test('serviceLevelOf reads the config\'s tracking group', async (t) => {
  const defaults = loadConfig({ env: {}, files: [] });
  t.ok(defaults.ok);
  if (defaults.ok) t.same(serviceLevelOf(defaults.value), DEFAULT_SERVICE_LEVEL, 'the schema\'s defaults are the calendar\'s');
  const set = loadConfig({ env: { TRACKING_WORKDAY_END: '16:30', TRACKING_WORKING_DAYS: '1,2,3,4,5,6', TRACKING_HOLIDAYS: '2025-04-30,2025-05-01' }, files: [] });
  t.ok(set.ok);
  if (set.ok) t.same(serviceLevelOf(set.value), { workdayEnd: '16:30', workingDays: [1, 2, 3, 4, 5, 6], holidays: ['2025-04-30', '2025-05-01'] });
  t.same(serviceLevelOf({ tracking: { workdayEnd: '17:00', workingDays: '1-5' } }), DEFAULT_SERVICE_LEVEL, 'no holidays');
  // The schema's pattern lets a day that does not exist through; the calendar refuses it.
  t.throws(() => serviceLevelOf({ tracking: { workdayEnd: '17:00', workingDays: '1-5', holidays: '2025-02-29' } }), /holiday "2025-02-29"/);
});
