// The dashboard stylesheet (GET /dashboard/app.css).
// A TS module rather than a file next to the code: tsconfig.build.json compiles src/ and copies no
// other file, so an asset read from disk would be missing from the compiled build (dist/) the
// Dockerfile ships. String.raw keeps backslashes as written; the text must contain no backtick and
// no dollar-brace (tsc rejects the first; the second would interpolate).

export const DASHBOARD_CSS = String.raw`/* edxgate dashboard. No web fonts, no external resources (the page's CSP allows only 'self'). */
:root {
  --bg: #f4f6f8;
  --panel: #ffffff;
  --ink: #1d2733;
  --muted: #5b6b7c;
  --line: #d9e0e7;
  --accent: #0b5cad;
  --p50: #0b7a75;
  --p90: #d48806;
  --p99: #b4232a;
  --budget: #c0392b;
  --ok: #2e7d32;
  --warn: #b26a00;
  --bad: #b4232a;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  color: var(--ink);
  background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; padding: 0 20px 24px; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 12px 20px; padding: 14px 0 10px; border-bottom: 1px solid var(--line); margin-bottom: 16px; }
h1 { font-size: 1.3rem; margin: 0; flex: 1 1 auto; }
h2 { font-size: 1rem; margin: 0 0 6px; }
#status { margin: 0; color: var(--muted); font-size: 0.9rem; }
#status.stale { color: var(--bad); font-weight: 600; }
.actions { display: flex; gap: 8px; }
button { font: inherit; padding: 5px 12px; border: 1px solid var(--accent); background: var(--panel); color: var(--accent); border-radius: 4px; cursor: pointer; }
button[type="submit"] { background: var(--accent); color: #fff; }
[hidden] { display: none !important; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; margin-bottom: 16px; }
#login { max-width: 520px; display: grid; gap: 8px; }
#login input { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 4px; }
.hint, .note { color: var(--muted); font-size: 0.85rem; margin: 0 0 6px; }
.error { color: var(--bad); margin: 0; min-height: 1em; }
.noscript { color: var(--bad); }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; margin-bottom: 16px; }
.tile { background: var(--panel); border: 1px solid var(--line); border-left: 4px solid var(--ok); border-radius: 6px; padding: 8px 10px; display: flex; flex-direction: column; gap: 2px; }
.tile.warn { border-left-color: var(--warn); }
.tile.bad { border-left-color: var(--bad); }
.tile .label { color: var(--muted); font-size: 0.8rem; }
.tile .value { font-size: 1.45rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile.bad .value { color: var(--bad); }
.tile .sub { color: var(--muted); font-size: 0.75rem; min-height: 1em; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; }
.columns .panel { margin-bottom: 16px; }
/* Grid items default to min-width: auto and would push the page wider than the window. */
.columns > *, .panel { min-width: 0; }
.panel > div { overflow-x: auto; }
.chart { display: block; width: 100%; height: auto; font-size: 11px; }
.chart text { fill: var(--muted); }
.chart .grid line, .chart .axis line { stroke: var(--line); stroke-width: 1; }
.chart .budget line { stroke: var(--budget); stroke-width: 1.5; stroke-dasharray: 6 4; }
.chart .budget text { fill: var(--budget); font-weight: 600; }
.chart .series { fill: none; stroke-width: 2; stroke-linejoin: round; }
.chart .empty { fill: var(--muted); font-style: italic; }
.chart .label { fill: var(--ink); font-size: 12px; }
.chart .value { fill: var(--ink); font-variant-numeric: tabular-nums; }
.s-p50 { stroke: var(--p50); fill: var(--p50); }
.s-p90 { stroke: var(--p90); fill: var(--p90); }
.s-p99 { stroke: var(--p99); fill: var(--p99); }
.s-admitted { stroke: var(--accent); fill: var(--accent); }
.s-delivered { stroke: var(--p50); fill: var(--p50); }
.s-rejected { stroke: var(--bad); fill: var(--bad); }
.s-queue { stroke: var(--accent); fill: var(--accent); }
.chart path.series { fill: none; }
.bar-p50 { fill: var(--accent); }
.bar-p99 { fill: #a9c7e6; }
.st-queued { fill: #8fb3d9; background: #8fb3d9; }
.st-delivering { fill: var(--p90); background: var(--p90); }
.st-delivered { fill: var(--ok); background: var(--ok); }
.st-dead { fill: var(--bad); background: var(--bad); }
.st-withdrawn { fill: #9e9e9e; background: #9e9e9e; }
.st-empty { fill: var(--line); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 6px 0 0; font-size: 0.85rem; }
.legend-item { display: inline-flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 14px; height: 4px; border-radius: 2px; }
.swatch.s-p50 { background: var(--p50); }
.swatch.s-p90 { background: var(--p90); }
.swatch.s-p99 { background: var(--p99); }
.swatch.s-admitted { background: var(--accent); }
.swatch.s-delivered { background: var(--p50); }
.swatch.s-rejected { background: var(--bad); }
.swatch.budget { background: var(--budget); }
#legend-states .swatch { height: 12px; width: 12px; }
table { width: 100%; border-collapse: collapse; font-size: 0.88rem; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { color: var(--muted); font-weight: 600; overflow-wrap: normal; }
td.num { overflow-wrap: normal; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; white-space: nowrap; }
p.empty { color: var(--muted); font-style: italic; margin: 4px 0; }
#section-certs.alert { border-color: var(--warn); border-left: 4px solid var(--warn); }
.scope { margin-top: 4px; }
`;
