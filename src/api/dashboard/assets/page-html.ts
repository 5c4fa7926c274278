// The dashboard page (GET /dashboard): static markup; app.js fills it in and sets its texts.
// A TS module rather than a file next to the code: tsconfig.build.json compiles src/ and copies no
// other file, so an asset read from disk would be missing from the compiled build (dist/) the
// Dockerfile ships. String.raw keeps backslashes as written; the text must contain no backtick and
// no dollar-brace (tsc rejects the first; the second would interpolate).

export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>edxgate</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="dashboard/app.css">
<script type="module" src="dashboard/app.js"></script>
</head>
<body>
<header>
  <h1 data-i18n="title">edxgate</h1>
  <p id="status" role="status" aria-live="polite"></p>
  <div class="actions">
    <button type="button" id="lang" data-i18n="switchLang">English</button>
    <button type="button" id="sign-out" data-i18n="signOut" hidden>Quên mã</button>
  </div>
</header>
<noscript><p class="noscript">Trang này cần JavaScript. · This page needs JavaScript.</p></noscript>

<form id="login" class="panel" autocomplete="off" hidden>
  <h2 data-i18n="tokenTitle"></h2>
  <label for="token" data-i18n="tokenLabel"></label>
  <input id="token" type="password" autocomplete="off" spellcheck="false" required>
  <button type="submit" data-i18n="tokenSubmit"></button>
  <p class="hint" data-i18n="tokenHint"></p>
  <p id="login-error" class="error" role="alert"></p>
</form>

<main id="board" hidden>
  <section class="tiles" aria-label="summary">
    <div class="tile" data-stat="p99"><span class="label" data-i18n="p99"></span><span class="value">–</span><span class="sub"></span></div>
    <div class="tile" data-stat="p50"><span class="label" data-i18n="p50"></span><span class="value">–</span><span class="sub"></span></div>
    <div class="tile" data-stat="admittedRate"><span class="label" data-i18n="admittedRate"></span><span class="value">–</span><span class="sub"></span></div>
    <div class="tile" data-stat="eventLoop"><span class="label" data-i18n="eventLoop"></span><span class="value">–</span><span class="sub"></span></div>
    <div class="tile" data-stat="admitted"><span class="label" data-i18n="admitted"></span><span class="value">–</span><span class="sub"></span></div>
    <div class="tile" data-stat="delivered"><span class="label" data-i18n="delivered"></span><span class="value">–</span><span class="sub"></span></div>
    <div class="tile" data-stat="queueDepth"><span class="label" data-i18n="queueDepth"></span><span class="value">–</span><span class="sub"></span></div>
    <div class="tile" data-stat="oldest"><span class="label" data-i18n="oldest"></span><span class="value">–</span><span class="sub"></span></div>
    <div class="tile" data-stat="misses"><span class="label" data-i18n="misses"></span><span class="value">–</span><span class="sub"></span></div>
    <div class="tile" data-stat="deadLetters"><span class="label" data-i18n="deadLetters"></span><span class="value">–</span><span class="sub"></span></div>
  </section>

  <section class="panel wide">
    <h2 id="latency-title"></h2>
    <p class="note" id="latency-note"></p>
    <svg id="chart-latency" class="chart" data-chart="latency" role="img" aria-labelledby="latency-title"></svg>
    <p class="legend" id="legend-latency"></p>
  </section>

  <section class="panel wide">
    <h2 data-i18n="stagesTitle"></h2>
    <p class="note" id="stages-note"></p>
    <svg id="chart-stages" class="chart" data-chart="stages" role="img" aria-label="stages"></svg>
  </section>

  <section class="panel wide">
    <h2 data-i18n="throughputTitle"></h2>
    <svg id="chart-throughput" class="chart" data-chart="throughput" role="img" aria-label="throughput"></svg>
    <p class="legend" id="legend-throughput"></p>
  </section>

  <div class="columns">
    <section class="panel">
      <h2 data-i18n="queueTitle"></h2>
      <p class="note" data-i18n="queueNote"></p>
      <svg id="chart-queue" class="chart small" data-chart="queue" role="img" aria-label="queue"></svg>
    </section>
    <section class="panel">
      <h2 id="states-title"></h2>
      <svg id="chart-states" class="chart bar" data-chart="states" role="img" aria-labelledby="states-title"></svg>
      <p class="legend" id="legend-states"></p>
    </section>
  </div>

  <div class="columns">
    <section class="panel">
      <h2 id="agencies-title"></h2>
      <div id="agencies"></div>
    </section>
    <section class="panel">
      <h2 data-i18n="deadTitle"></h2>
      <div id="dead-letters"></div>
    </section>
  </div>

  <section class="panel wide" id="section-certs">
    <h2 id="certs-title"></h2>
    <div id="certificates"></div>
    <p class="note" id="certs-unreadable"></p>
  </section>

  <p class="note scope" data-i18n="scopeNote"></p>
</main>
</body>
</html>
`;
