// The SVG latency chart (bench/lib/latency-chart.ts): well-formed, escaped, and its marks where the
// figures say — parsed with saxes, not matched as text.

import { SaxesParser } from 'saxes';
import t from 'tap';
import { escapeXml, latencyChartSvg, logAxis, tickLabel } from '../../bench/lib/latency-chart.ts';

interface Element {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  text: string;
}

function parse(svg: string): Element[] {
  const parser = new SaxesParser({ xmlns: false });
  const elements: Element[] = [];
  const open: Element[] = [];
  parser.on('opentag', (tag) => {
    const element: Element = { name: tag.name, attributes: Object.fromEntries(Object.entries(tag.attributes).map(([k, v]) => [k, String(v)])), text: '' };
    elements.push(element);
    open.push(element);
  });
  parser.on('text', (text) => {
    const top = open[open.length - 1];
    if (top !== undefined) top.text += text;
  });
  parser.on('closetag', () => void open.pop());
  parser.write(svg).close();
  return elements;
}

const x = (e: Element | undefined): number => Number(e?.attributes.cx ?? e?.attributes.x1 ?? e?.attributes.x);

t.test('a well-formed SVG with one row per run and the budget line at 5 s', async (t) => {
  const svg = latencyChartSvg([
    { label: 'medium, Postgres, 100/s', p50: 12, p90: 30, p99: 80, max: 200, floor: 9 },
    { label: 'large, embedded, 1/s', p50: 900, p90: 1500, p99: 2500, max: 3100 },
  ]);
  const elements = parse(svg);
  t.equal(elements[0]?.name, 'svg');
  t.equal(elements[0]?.attributes.xmlns, 'http://www.w3.org/2000/svg');
  t.equal(elements[0]?.attributes.role, 'img');
  t.notMatch(svg, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'nothing fetched, nothing run');

  const ticks = new Map(elements.filter((e) => e.attributes['data-tick-ms'] !== undefined).map((e) => [Number(e.attributes['data-tick-ms']), x(e)]));
  t.same([...ticks.keys()], [1, 10, 100, 1000, 10_000], 'whole decades from 1 ms to past twice the budget');
  const budget = elements.find((e) => e.attributes['data-kind'] === 'budget');
  const x1000 = ticks.get(1000) ?? Number.NaN;
  const x10000 = ticks.get(10_000) ?? Number.NaN;
  t.ok(Math.abs(x(budget) - (x1000 + Math.log10(5) * (x10000 - x1000))) < 0.2, '5 s sits at log10(5) of the 1 s – 10 s decade');
  t.ok(elements.some((e) => e.name === 'text' && e.text === '5 s budget'));

  const marks = (kind: string) => elements.filter((e) => e.attributes['data-kind'] === kind);
  t.equal(marks('p50').length, 2);
  t.same(marks('p99').map((e) => e.attributes['data-ms']), ['80', '2500']);
  t.equal(marks('floor').length, 1, 'only the row with a floor has one');
  // Where a value must be: decades are evenly spaced, so log10(ms) decades right of the 1 ms tick.
  const decade = (ticks.get(10) ?? Number.NaN) - (ticks.get(1) ?? Number.NaN);
  const at = (ms: number): number => (ticks.get(1) ?? Number.NaN) + Math.log10(ms) * decade;
  for (const [i, row] of [[12, 30, 80, 200], [900, 1500, 2500, 3100]].entries()) {
    const xs = ['p50', 'p90', 'p99', 'max'].map((kind) => {
      const e = marks(kind)[i];
      // p90 and p99 are rects centred on the value; p50 a circle, max a text anchored at its middle.
      return kind === 'p50' || kind === 'max' ? x(e) : x(e) + Number(e?.attributes.width) / 2;
    });
    xs.forEach((value, k) => t.ok(Math.abs(value - at(row[k] ?? Number.NaN)) < 0.2, `row ${i}: ${['p50', 'p90', 'p99', 'max'][k]} at its log position`));
  }
});

t.test('labels are escaped, and odd rows do not break the chart', async (t) => {
  const svg = latencyChartSvg([
    { label: 'a <b> & "c"', p50: 1, p90: 2, p99: 3, max: 4 },
    { label: 'nothing delivered', p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN },
  ]);
  const elements = parse(svg);
  t.ok(elements.some((e) => e.text === 'a <b> & "c"'), 'the label reads back as written');
  t.ok(elements.some((e) => e.text === 'no deliveries measured'));
  t.equal(elements.filter((e) => e.attributes['data-kind'] === 'p50').length, 1);
  const empty = parse(latencyChartSvg([]));
  t.ok(empty.some((e) => e.text === 'no runs recorded yet'));
  t.ok(empty.some((e) => e.attributes['data-kind'] === 'budget'), 'the budget line is there even with no rows');
});

t.test('the axis widens to the figures', async (t) => {
  const axis = logAxis([0.3, 42_000], 5000, 0, 100);
  t.equal(axis.loExp, -1);
  t.equal(axis.hiExp, 5);
  t.equal(axis.x(0.1), 0);
  t.equal(axis.x(100_000), 100);
  t.equal(axis.x(1e9), 100, 'clamped');
  t.equal(axis.x(Number.MIN_VALUE), 0, 'clamped');
  t.equal(tickLabel(0.1), '0.1 ms');
  t.equal(tickLabel(10), '10 ms');
  t.equal(tickLabel(5000), '5 s');
  t.equal(escapeXml(`<&>"'`), '&lt;&amp;&gt;&quot;&apos;');
});
