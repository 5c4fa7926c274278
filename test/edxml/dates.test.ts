import t from 'tap';
import {
  formatCalendarDate,
  formatTimestamp,
  parseCalendarDate,
  parseTimestamp,
  vietnamToday,
  VIETNAM_OFFSET_MS,
} from '../../src/edxml/dates.ts';

t.test('parseCalendarDate accepts real yyyy/MM/dd days', async (t) => {
  t.same(parseCalendarDate('2015/09/30'), { year: 2015, month: 9, day: 30 });
  t.same(parseCalendarDate('2024/02/29'), { year: 2024, month: 2, day: 29 }, 'leap year');
  t.same(parseCalendarDate('2000/02/29'), { year: 2000, month: 2, day: 29 }, 'divisible by 400');
  t.same(parseCalendarDate('2018/12/31'), { year: 2018, month: 12, day: 31 });
  t.same(parseCalendarDate('0099/01/01'), { year: 99, month: 1, day: 1 }, 'small years are not shifted');
});

t.test('parseCalendarDate refuses impossible days and other shapes', async (t) => {
  for (const text of [
    '2014/02/30', // the samples' Bussiness/DocumentId date
    '2023/02/29',
    '1900/02/29',
    '2018/04/31',
    '2018/13/01',
    '2018/00/10',
    '2018/01/00',
    '0000/01/01',
    '30/10/2020', // the parser normalises dd/MM/yyyy; what reaches here unnormalised is wrong
    '2018-09-28',
    '2018/9/28',
    '2018/09/28 00:00:00',
    ' 2018/09/28',
    '',
  ]) {
    t.equal(parseCalendarDate(text), undefined, text);
  }
});

t.test('parseTimestamp reads Vietnam time (UTC+7)', async (t) => {
  t.equal(parseTimestamp('2018/09/28 17:25:11')?.toISOString(), '2018-09-28T10:25:11.000Z');
  t.equal(parseTimestamp('2018/09/28 00:00:00')?.toISOString(), '2018-09-27T17:00:00.000Z', 'midnight is the previous UTC day');
  t.equal(parseTimestamp('2024/02/29 23:59:59')?.toISOString(), '2024-02-29T16:59:59.000Z');
  t.equal(parseTimestamp('2025/01/01 06:59:59')?.toISOString(), '2024-12-31T23:59:59.000Z', 'crosses the year backwards');
});

t.test('parseTimestamp refuses malformed or impossible timestamps', async (t) => {
  for (const text of [
    '2018/09/28 24:00:00',
    '2018/09/28 23:60:00',
    '2018/09/28 23:59:60',
    '2014/02/30 10:00:00',
    '2018/09/28',
    '2018/09/28T10:00:00',
    '2018/09/28 10:00',
    '2018/09/28 10:00:00.123',
    '28/09/2018 10:00:00',
    '',
  ]) {
    t.equal(parseTimestamp(text), undefined, text);
  }
});

t.test('formatTimestamp writes the Vietnam wall clock', async (t) => {
  t.equal(formatTimestamp(new Date('2018-09-28T10:25:11.999Z')), '2018/09/28 17:25:11', 'milliseconds dropped');
  t.equal(formatTimestamp(new Date('2024-12-31T17:00:00Z')), '2025/01/01 00:00:00', 'crosses the year forwards');
  t.equal(formatTimestamp(new Date('2024-02-28T20:00:00Z')), '2024/02/29 03:00:00');
  t.throws(() => formatTimestamp(new Date(Number.NaN)), RangeError);
});

t.test('formatTimestamp and parseTimestamp round-trip', async (t) => {
  for (const text of ['2018/09/28 17:25:11', '2015/09/20 11:08:36', '2000/01/01 00:00:00', '2099/12/31 23:59:59']) {
    const instant = parseTimestamp(text);
    t.ok(instant, text);
    if (instant) t.equal(formatTimestamp(instant), text);
  }
});

t.test('vietnamToday turns at 17:00 UTC', async (t) => {
  t.equal(vietnamToday(new Date('2025-03-04T16:59:59.999Z')), '2025/03/04');
  t.equal(vietnamToday(new Date('2025-03-04T17:00:00.000Z')), '2025/03/05');
  t.equal(vietnamToday(new Date('2024-02-28T17:00:00Z')), '2024/02/29');
  t.equal(VIETNAM_OFFSET_MS, 7 * 3600 * 1000);
});

t.test('formatCalendarDate pads each field', async (t) => {
  t.equal(formatCalendarDate({ year: 2015, month: 9, day: 3 }), '2015/09/03');
  const parsed = parseCalendarDate('2019/01/17');
  t.ok(parsed);
  if (parsed) t.equal(formatCalendarDate(parsed), '2019/01/17');
});
