// The latency chart of docs/benchmarks.md: one row per run, its end-to-end p50, p90, p99 and max on
// a logarithmic axis (latencies here span 1 ms to seconds), against a line at the 5-second budget,
// with the run's bare-ceiling floor as a grey tick. Written here as plain SVG text — no chart
// library, no CDN, nothing to build — and pure, so a test can parse it and check its geometry.

/** One row of the chart (ms). */
export interface ChartRow {
  readonly label: string;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  /** The bare ceilings' floor for the same traffic (receive + store p99), if measured. */
  readonly floor?: number | undefined;
}

/** Options of the chart. */
export interface ChartOptions {
  readonly title?: string;
  /** The budget line, ms (default 5000). */
  readonly budgetMs?: number;
}

const WIDTH = 880;
const LABEL_WIDTH = 290;
const PLOT_RIGHT = WIDTH - 30;
const TOP = 58;
const ROW = 26;
const BOTTOM = 46;

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** The log axis: [10^lo, 10^hi] ms onto [left, right] px. */
export interface LogAxis {
  readonly loExp: number;
  readonly hiExp: number;
  x(ms: number): number;
}

/** An axis covering every finite positive value and the budget, whole decades. */
export function logAxis(values: readonly number[], budgetMs: number, left: number, right: number): LogAxis {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.min(1, ...positive);
  const hi = Math.max(budgetMs * 2, ...positive);
  const loExp = Math.floor(Math.log10(lo));
  const hiExp = Math.max(loExp + 1, Math.ceil(Math.log10(hi)));
  const span = hiExp - loExp;
  return {
    loExp,
    hiExp,
    x(ms) {
      const clamped = Math.min(Math.max(ms, 10 ** loExp), 10 ** hiExp);
      return left + ((Math.log10(clamped) - loExp) / span) * (right - left);
    },
  };
}

/** "0.1 ms", "10 ms", "1 s", "10 s". */
export function tickLabel(ms: number): string {
  if (ms >= 1000) return `${ms / 1000} s`;
  return `${ms >= 1 ? ms.toFixed(0) : ms.toPrecision(1)} ms`;
}

const fmt = (v: number): string => (Math.round(v * 10) / 10).toString();
const msText = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`);

/** The chart as an SVG document. */
export function latencyChartSvg(rows: readonly ChartRow[], options: ChartOptions = {}): string {
  const budget = options.budgetMs ?? 5000;
  const title = options.title ?? 'End-to-end latency from the scheduled send, against the 5 s budget';
  const height = TOP + Math.max(1, rows.length) * ROW + BOTTOM;
  const axis = logAxis(
    rows.flatMap((r) => [r.p50, r.p90, r.p99, r.max, r.floor ?? Number.NaN]),
    budget,
    LABEL_WIDTH,
    PLOT_RIGHT,
  );
  const plotBottom = TOP + Math.max(1, rows.length) * ROW;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeXml(title)}" font-family="system-ui, sans-serif" font-size="12">`,
  );
  out.push(`<title>${escapeXml(title)}</title>`);
  out.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="12" y="20" font-size="14" font-weight="600">${escapeXml(title)}</text>`);
  // Legend.
  const legendY = 40;
  out.push(`<circle cx="${LABEL_WIDTH + 6}" cy="${legendY - 4}" r="4" fill="#1f5fa8"/><text x="${LABEL_WIDTH + 14}" y="${legendY}">p50</text>`);
  out.push(`<rect x="${LABEL_WIDTH + 52}" y="${legendY - 9}" width="3" height="10" fill="#1f5fa8"/><text x="${LABEL_WIDTH + 60}" y="${legendY}">p90</text>`);
  out.push(`<rect x="${LABEL_WIDTH + 96}" y="${legendY - 8}" width="8" height="8" fill="#c26a00"/><text x="${LABEL_WIDTH + 108}" y="${legendY}">p99</text>`);
  out.push(`<text x="${LABEL_WIDTH + 144}" y="${legendY}" fill="#555">× max</text>`);
  out.push(`<rect x="${LABEL_WIDTH + 196}" y="${legendY - 9}" width="2" height="10" fill="#999"/><text x="${LABEL_WIDTH + 202}" y="${legendY}">bare receive + store p99 (same run)</text>`);
  // Decades.
  for (let e = axis.loExp; e <= axis.hiExp; e++) {
    const ms = 10 ** e;
    const x = fmt(axis.x(ms));
    out.push(`<line data-tick-ms="${ms}" x1="${x}" y1="${TOP - 6}" x2="${x}" y2="${plotBottom}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${x}" y="${plotBottom + 16}" text-anchor="middle" fill="#444">${escapeXml(tickLabel(ms))}</text>`);
  }
  out.push(`<text x="${fmt((LABEL_WIDTH + PLOT_RIGHT) / 2)}" y="${plotBottom + 36}" text-anchor="middle" fill="#444">milliseconds, logarithmic</text>`);
  rows.forEach((row, i) => {
    const y = TOP + i * ROW + ROW / 2;
    const yText = fmt(y + 4);
    if (i % 2 === 1) out.push(`<rect x="0" y="${fmt(y - ROW / 2)}" width="${WIDTH}" height="${ROW}" fill="#f6f8fa"/>`);
    out.push(`<text x="12" y="${yText}">${escapeXml(row.label)}</text>`);
    const finite = [row.p50, row.p90, row.p99, row.max].every((v) => Number.isFinite(v));
    if (!finite) {
      out.push(`<text x="${LABEL_WIDTH}" y="${yText}" fill="#a00">no deliveries measured</text>`);
      return;
    }
    const y1 = fmt(y);
    out.push(`<line x1="${fmt(axis.x(row.p50))}" y1="${y1}" x2="${fmt(axis.x(row.max))}" y2="${y1}" stroke="#9db8d9" stroke-width="2"/>`);
    if (row.floor !== undefined && Number.isFinite(row.floor) && row.floor > 0) {
      out.push(`<rect data-kind="floor" data-ms="${fmt(row.floor)}" x="${fmt(axis.x(row.floor) - 1)}" y="${fmt(y - 8)}" width="2" height="16" fill="#999"><title>bare receive + store p99 ${escapeXml(msText(row.floor))}</title></rect>`);
    }
    out.push(`<circle data-kind="p50" data-ms="${fmt(row.p50)}" cx="${fmt(axis.x(row.p50))}" cy="${y1}" r="5" fill="#1f5fa8"><title>p50 ${escapeXml(msText(row.p50))}</title></circle>`);
    out.push(`<rect data-kind="p90" data-ms="${fmt(row.p90)}" x="${fmt(axis.x(row.p90) - 1.5)}" y="${fmt(y - 6)}" width="3" height="12" fill="#1f5fa8"><title>p90 ${escapeXml(msText(row.p90))}</title></rect>`);
    out.push(`<rect data-kind="p99" data-ms="${fmt(row.p99)}" x="${fmt(axis.x(row.p99) - 4)}" y="${fmt(y - 4)}" width="8" height="8" fill="#c26a00"><title>p99 ${escapeXml(msText(row.p99))}</title></rect>`);
    out.push(`<text data-kind="max" data-ms="${fmt(row.max)}" x="${fmt(axis.x(row.max))}" y="${yText}" text-anchor="middle" fill="#555">×<title>max ${escapeXml(msText(row.max))}</title></text>`);
    out.push(`<text x="${fmt(Math.min(axis.x(row.max) + 10, PLOT_RIGHT - 70))}" y="${fmt(y - 6)}" font-size="10" fill="#555">p99 ${escapeXml(msText(row.p99))}</text>`);
  });
  const xb = fmt(axis.x(budget));
  out.push(`<line data-kind="budget" data-ms="${budget}" x1="${xb}" y1="${TOP - 10}" x2="${xb}" y2="${plotBottom}" stroke="#c0392b" stroke-width="2" stroke-dasharray="6 4"/>`);
  out.push(`<text x="${fmt(axis.x(budget) - 4)}" y="${TOP - 14}" text-anchor="end" fill="#c0392b" font-weight="600">${escapeXml(tickLabel(budget))} budget</text>`);
  if (rows.length === 0) out.push(`<text x="${LABEL_WIDTH}" y="${TOP + ROW / 2 + 4}" fill="#777">no runs recorded yet</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
