// The dashboard script (GET /dashboard/app.js): vanilla JS, no library, no build step, run as an ES module.
// A TS module rather than a file next to the code: tsconfig.build.json compiles src/ and copies no
// other file, so an asset read from disk would be missing from the compiled build (dist/) the
// Dockerfile ships. String.raw keeps backslashes as written; the text must contain no backtick and
// no dollar-brace (tsc rejects the first; the second would interpolate).

export const DASHBOARD_JS = String.raw`// edxgate dashboard: fetches v1/dashboard every few seconds and draws it as inline SVG.
// Plain ES2020, no library, no build step. Text only ever goes in through textContent.
'use strict';

const REFRESH_MS = 3000;
const TOKEN_KEY = 'edxgate.dashboard.adminToken';
const SVG_NS = 'http://www.w3.org/2000/svg';
const TIME_ZONE = 'Asia/Ho_Chi_Minh';
const QUEUE_HISTORY = 200;
const STAGE_ORDER = ['decode', 'validate', 'verify', 'admit', 'wait_to_claim', 'deliver'];
const DELIVERY_STATES = ['queued', 'delivering', 'delivered', 'dead', 'withdrawn'];

const TEXT = {
  vi: {
    title: 'edxgate — Bảng điều hành liên thông văn bản',
    switchLang: 'English',
    signOut: 'Quên mã',
    tokenTitle: 'Nhập mã quản trị',
    tokenLabel: 'Mã quản trị (ADMIN_TOKEN)',
    tokenHint: 'Mã chỉ được giữ trong phiên của thẻ trình duyệt này (sessionStorage) và chỉ gửi trong tiêu đề Authorization, không bao giờ trên địa chỉ URL.',
    tokenSubmit: 'Mở bảng điều hành',
    tokenRefused: 'Mã không được chấp nhận: cần mã quản trị (ADMIN_TOKEN) của cổng.',
    updated: 'Cập nhật lúc',
    loading: 'Đang tải…',
    stale: 'Không tải được số liệu mới; đang thử lại.',
    partMissing: 'Tạm thiếu số liệu:',
    part_database: 'cơ sở dữ liệu',
    part_certificates: 'chứng thư số',
    p99: 'Độ trễ p99',
    p50: 'Độ trễ p50',
    budget: 'Ngưỡng',
    admittedRate: 'Tiếp nhận / giây',
    eventLoop: 'Vòng lặp sự kiện bận',
    admitted: 'Gói tin đã tiếp nhận',
    delivered: 'Đã chuyển giao',
    rejected: 'Bị từ chối',
    queueDepth: 'Đang chờ chuyển',
    oldest: 'Chờ lâu nhất',
    misses: 'Trễ hạn',
    deadLetters: 'Không chuyển được',
    sinceStart: 'từ khi nút khởi động',
    inWindow: 'trong {w}',
    overBudget: '{n} lần vượt ngưỡng',
    latencyTitle: 'Độ trễ đầu-cuối so với ngưỡng {b}',
    latencyNote: 'p50, p90, p99 của các lần chuyển giao trong {w} trước mỗi thời điểm (thang logarit).',
    stagesTitle: 'Thời gian từng bước xử lý',
    stagesNote: 'Thanh đậm: p50; thanh nhạt: p99; trong {w}, hoặc từ khi khởi động nếu không có dữ liệu gần đây (thang logarit).',
    throughputTitle: 'Lưu lượng (gói / giây)',
    queueTitle: 'Hàng đợi chuyển giao',
    queueNote: 'Số chuyển giao chờ hoặc đang chuyển, theo các lần làm mới của trang này.',
    statesTitle: 'Chuyển giao theo trạng thái (gói tin {h} giờ qua)',
    agenciesTitle: 'Cơ quan trao đổi nhiều nhất ({h} giờ qua)',
    deadTitle: 'Gói tin không chuyển được gần đây',
    certsTitle: 'Chứng thư số sắp hết hạn ({d} ngày)',
    colCode: 'Mã định danh',
    colName: 'Tên cơ quan',
    colSent: 'Gửi',
    colReceived: 'Nhận',
    colRecipient: 'Nơi nhận',
    colSender: 'Nơi gửi',
    colAttempts: 'Số lần thử',
    colError: 'Lỗi lần cuối',
    colAt: 'Lần thử cuối',
    colRole: 'Vai trò',
    colSubject: 'Chủ thể',
    colNotAfter: 'Hết hạn',
    colDays: 'Còn lại',
    days: '{n} ngày',
    expired: 'ĐÃ HẾT HẠN',
    none: 'Không có.',
    noData: 'Chưa có dữ liệu',
    unreadable: '{n} chứng thư không đọc được (xem edxgate doctor).',
    scopeNote: 'Độ trễ, lưu lượng và các bộ đếm là của nút đang phục vụ trang này, tính từ khi nút khởi động; hàng đợi, trạng thái, cơ quan và chứng thư là của cả hệ thống (cơ sở dữ liệu chung).',
    series_p50: 'p50',
    series_p90: 'p90',
    series_p99: 'p99',
    series_admitted: 'tiếp nhận',
    series_delivered: 'đã chuyển',
    series_rejected: 'từ chối',
    stage_decode: 'Giải mã',
    stage_validate: 'Kiểm tra',
    stage_verify: 'Xác thực chữ ký',
    stage_admit: 'Ghi nhận',
    stage_wait_to_claim: 'Chờ nhận xử lý',
    stage_deliver: 'Chuyển giao',
    state_queued: 'chờ chuyển',
    state_delivering: 'đang chuyển',
    state_delivered: 'đã chuyển',
    state_dead: 'không chuyển được',
    state_withdrawn: 'đã thu hồi',
    role_anchor: 'CA gốc tin cậy',
    role_intermediate: 'CA trung gian',
    role_signing: 'Khóa ký của cổng',
    'role_signing-chain': 'Chuỗi khóa ký',
    role_agency: 'Cơ quan',
    total: 'từ khi khởi động',
  },
  en: {
    title: 'edxgate — document exchange operations',
    switchLang: 'Tiếng Việt',
    signOut: 'Forget token',
    tokenTitle: 'Enter the admin token',
    tokenLabel: 'Admin token (ADMIN_TOKEN)',
    tokenHint: 'The token is kept only for this browser tab\u2019s session (sessionStorage) and only sent in the Authorization header, never in a URL.',
    tokenSubmit: 'Open the dashboard',
    tokenRefused: 'Token refused: the gateway\u2019s admin token (ADMIN_TOKEN) is needed.',
    updated: 'Updated at',
    loading: 'Loading…',
    stale: 'Could not load fresh figures; retrying.',
    partMissing: 'Figures missing for now:',
    part_database: 'database',
    part_certificates: 'certificates',
    p99: 'Latency p99',
    p50: 'Latency p50',
    budget: 'Budget',
    admittedRate: 'Admitted / second',
    admitted: 'Packets admitted',
    delivered: 'Delivered',
    rejected: 'Rejected',
    eventLoop: 'Event loop busy',
    queueDepth: 'Waiting for delivery',
    oldest: 'Oldest undelivered',
    misses: 'Deadline misses',
    deadLetters: 'Dead letters',
    sinceStart: 'since the node started',
    inWindow: 'in the last {w}',
    overBudget: '{n} over budget',
    latencyTitle: 'End-to-end latency against the {b} budget',
    latencyNote: 'p50, p90, p99 of the deliveries in the {w} before each instant (log scale).',
    stagesTitle: 'Per-stage timings',
    stagesNote: 'Dark bar: p50; light bar: p99; over the last {w}, or since start when nothing recent (log scale).',
    throughputTitle: 'Throughput (packets / second)',
    queueTitle: 'Delivery queue',
    queueNote: 'Deliveries waiting or in progress, at each refresh of this page.',
    statesTitle: 'Deliveries by state (packets of the last {h} h)',
    agenciesTitle: 'Top agencies by traffic (last {h} h)',
    deadTitle: 'Latest dead letters',
    certsTitle: 'Certificates expiring within {d} days',
    colCode: 'Code',
    colName: 'Agency',
    colSent: 'Sent',
    colReceived: 'Received',
    colRecipient: 'Recipient',
    colSender: 'Sender',
    colAttempts: 'Attempts',
    colError: 'Last error',
    colAt: 'Last attempt',
    colRole: 'Role',
    colSubject: 'Subject',
    colNotAfter: 'Expires',
    colDays: 'Left',
    days: '{n} days',
    expired: 'EXPIRED',
    none: 'None.',
    noData: 'No data yet',
    unreadable: '{n} certificates could not be read (see edxgate doctor).',
    scopeNote: 'Latency, throughput and counters are those of the node serving this page, since it started; queue, states, agencies and certificates are the whole system\u2019s (shared database).',
    series_p50: 'p50',
    series_p90: 'p90',
    series_p99: 'p99',
    series_admitted: 'admitted',
    series_delivered: 'delivered',
    series_rejected: 'rejected',
    stage_decode: 'Decode',
    stage_validate: 'Validate',
    stage_verify: 'Verify signature',
    stage_admit: 'Admit',
    stage_wait_to_claim: 'Wait to claim',
    stage_deliver: 'Deliver',
    state_queued: 'queued',
    state_delivering: 'delivering',
    state_delivered: 'delivered',
    state_dead: 'dead',
    state_withdrawn: 'withdrawn',
    role_anchor: 'Trust anchor',
    role_intermediate: 'Intermediate CA',
    role_signing: 'Gateway signing key',
    'role_signing-chain': 'Signing chain',
    role_agency: 'Agency',
    total: 'since start',
  },
};

const state = {
  lang: langFromUrl(),
  token: readToken(),
  data: null,
  queueHistory: [],
  timer: undefined,
  inflight: false,
  stale: false,
};

// --- text and formatting ----------------------------------------------------------------------------

function langFromUrl() {
  return new URLSearchParams(window.location.search).get('lang') === 'en' ? 'en' : 'vi';
}

function t(key, params) {
  const text = TEXT[state.lang][key] ?? TEXT.vi[key] ?? key;
  if (params === undefined) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

function locale() {
  return state.lang === 'en' ? 'en-GB' : 'vi-VN';
}

function formatNumber(value, digits) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits ?? 0 }).format(value);
}

/** A duration in ms, with a unit that keeps it short: 0.42 ms, 12.3 ms, 1.25 s. */
function formatMs(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms >= 1000) return formatNumber(ms / 1000, ms >= 10000 ? 0 : 2) + ' s';
  if (ms >= 100) return formatNumber(ms, 0) + ' ms';
  if (ms >= 1) return formatNumber(ms, 1) + ' ms';
  return formatNumber(ms, 2) + ' ms';
}

function formatSeconds(seconds) {
  if (seconds < 60) return formatNumber(seconds, seconds < 10 ? 1 : 0) + ' s';
  if (seconds < 3600) return formatNumber(seconds / 60, 1) + ' min';
  return formatNumber(seconds / 3600, 1) + ' h';
}

function formatClock(epochMs) {
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(new Date(epochMs));
}

function formatShortClock(epochMs) {
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(epochMs));
}

function formatDay(iso) {
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}

function formatDateTime(iso) {
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, dateStyle: 'short', timeStyle: 'medium', hour12: false }).format(new Date(iso));
}

// --- DOM helpers ---------------------------------------------------------------------------------------

function $(selector) {
  return document.querySelector(selector);
}

function html(name, attrs, parent, text) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attrs ?? {})) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function svg(name, attrs, parent, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attrs ?? {})) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** Static texts: every element with data-i18n gets its text in the current language. */
function applyTexts() {
  document.documentElement.lang = state.lang;
  document.title = t('title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.getAttribute('data-i18n'));
}

// --- scales and paths ---------------------------------------------------------------------------------

function logScale(min, max, from, to) {
  const lo = Math.log10(min);
  const span = Math.log10(max) - lo;
  return (v) => from + ((Math.log10(Math.min(Math.max(v, min), max)) - lo) / span) * (to - from);
}

function linearScale(min, max, from, to) {
  const span = max - min || 1;
  return (v) => from + ((v - min) / span) * (to - from);
}

/** A round step for about "count" ticks over [0, max]. */
function niceStep(max, count) {
  const raw = max / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/** An SVG path through the points, broken where a value is null; isolated points get a dot. */
function seriesPath(points, x, y, value, parent, cls) {
  let d = '';
  let drawn = 0;
  points.forEach((p, i) => {
    const v = value(p);
    if (v === null || v === undefined) return;
    const prev = i > 0 ? value(points[i - 1]) : null;
    const next = i < points.length - 1 ? value(points[i + 1]) : null;
    d += (prev === null || prev === undefined ? 'M' : 'L') + x(p.t).toFixed(1) + ' ' + y(v).toFixed(1) + ' ';
    drawn++;
    if ((prev === null || prev === undefined) && (next === null || next === undefined)) {
      svg('circle', { cx: x(p.t).toFixed(1), cy: y(v).toFixed(1), r: 3, class: 'dot ' + cls }, parent);
    }
  });
  if (d !== '') svg('path', { d: d.trim(), class: 'series ' + cls, 'data-points': drawn }, parent);
  return drawn;
}

/**
 * A chart's frame: the SVG emptied, its viewBox as wide as the element is on screen (so text is
 * drawn at its CSS size, not scaled), returned with its plot area.
 */
function frame(node, fallbackWidth, height, margin) {
  clear(node);
  const width = Math.max(Math.round(node.getBoundingClientRect().width), 0) || fallbackWidth;
  node.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
  return { left: margin.left, right: width - margin.right, top: margin.top, bottom: height - margin.bottom, width, height };
}

/** Ticks on whole minutes (the same in UTC and Vietnam time), about five across the range. */
function timeAxis(node, f, x, from, to) {
  const g = svg('g', { class: 'axis' }, node);
  svg('line', { x1: f.left, x2: f.right, y1: f.bottom, y2: f.bottom }, g);
  const step = 60000 * Math.max(1, Math.round((to - from) / 60000 / 5));
  for (let at = Math.ceil(from / step) * step; at <= to; at += step) {
    svg('line', { x1: x(at).toFixed(1), x2: x(at).toFixed(1), y1: f.bottom, y2: f.bottom + 4 }, g);
    svg('text', { x: x(at).toFixed(1), y: f.bottom + 16, 'text-anchor': 'middle' }, g, formatShortClock(at));
  }
}

function noData(node, f) {
  svg('text', { x: (f.left + f.right) / 2, y: (f.top + f.bottom) / 2, 'text-anchor': 'middle', class: 'empty' }, node, t('noData'));
}

function legend(container, items) {
  clear(container);
  for (const [cls, label] of items) {
    const item = html('span', { class: 'legend-item' }, container);
    html('span', { class: 'swatch ' + cls, 'aria-hidden': 'true' }, item);
    html('span', {}, item, label);
  }
}

// --- charts ------------------------------------------------------------------------------------------------

function historyRange(data) {
  const to = Date.parse(data.generatedAt);
  return { from: to - data.historySeconds * 1000, to };
}

function drawLatency(data) {
  const node = $('#chart-latency');
  const f = frame(node, 720, 240, { left: 60, right: 24, top: 12, bottom: 26 });
  const points = data.latency.series;
  const { from, to } = historyRange(data);
  const x = linearScale(from, to, f.left, f.right);
  let max = data.budgetMs * 2;
  for (const p of points) if (p.p99Ms !== null) max = Math.max(max, p.p99Ms);
  const top = Math.pow(10, Math.ceil(Math.log10(max)));
  const y = logScale(1, top, f.bottom, f.top);
  const grid = svg('g', { class: 'grid' }, node);
  for (let v = 1; v <= top; v *= 10) {
    svg('line', { x1: f.left, x2: f.right, y1: y(v).toFixed(1), y2: y(v).toFixed(1) }, grid);
    svg('text', { x: f.left - 6, y: (y(v) + 4).toFixed(1), 'text-anchor': 'end' }, grid, formatMs(v));
  }
  const budget = svg('g', { class: 'budget' }, node);
  svg('line', { x1: f.left, x2: f.right, y1: y(data.budgetMs).toFixed(1), y2: y(data.budgetMs).toFixed(1) }, budget);
  svg('text', { x: f.right - 4, y: (y(data.budgetMs) - 5).toFixed(1), 'text-anchor': 'end' }, budget, t('budget') + ' ' + formatMs(data.budgetMs));
  timeAxis(node, f, x, from, to);
  let drawn = 0;
  for (const q of ['p99', 'p90', 'p50']) drawn += seriesPath(points, x, y, (p) => p[q + 'Ms'], node, 's-' + q);
  if (drawn === 0) noData(node, f);
  node.setAttribute('data-points', String(drawn));
  legend($('#legend-latency'), [['s-p50', t('series_p50')], ['s-p90', t('series_p90')], ['s-p99', t('series_p99')], ['budget', t('budget')]]);
}

function drawStages(data) {
  const node = $('#chart-stages');
  const rowHeight = 30;
  const f = frame(node, 720, data.stages.length * rowHeight + 40, { left: 140, right: 200, top: 8, bottom: 26 });
  const x = logScale(0.01, 10000, f.left, f.right);
  const grid = svg('g', { class: 'grid' }, node);
  for (let v = 0.01; v <= 10000; v *= 10) {
    svg('line', { x1: x(v).toFixed(1), x2: x(v).toFixed(1), y1: f.top, y2: f.bottom }, grid);
    svg('text', { x: x(v).toFixed(1), y: f.bottom + 16, 'text-anchor': 'middle' }, grid, formatMs(v));
  }
  const budget = svg('g', { class: 'budget' }, node);
  svg('line', { x1: x(data.budgetMs).toFixed(1), x2: x(data.budgetMs).toFixed(1), y1: f.top, y2: f.bottom }, budget);
  let drawn = 0;
  const stages = STAGE_ORDER.map((name) => data.stages.find((s) => s.stage === name)).filter(Boolean);
  stages.forEach((s, i) => {
    const recent = s.window.count > 0;
    const figures = recent ? s.window : s.total;
    const yTop = f.top + i * rowHeight;
    const row = svg('g', { class: 'stage-row', 'data-stage': s.stage }, node);
    svg('text', { x: f.left - 8, y: yTop + 19, 'text-anchor': 'end', class: 'label' }, row, t('stage_' + s.stage));
    if (figures.count === 0) {
      svg('text', { x: f.left + 6, y: yTop + 19, class: 'empty' }, row, t('noData'));
      return;
    }
    svg('rect', { x: f.left, y: yTop + 6, width: Math.max(x(figures.p99Ms) - f.left, 1).toFixed(1), height: 18, class: 'bar-p99' }, row);
    svg('rect', { x: f.left, y: yTop + 10, width: Math.max(x(figures.p50Ms) - f.left, 1).toFixed(1), height: 10, class: 'bar-p50' }, row);
    const text = 'p50 ' + formatMs(figures.p50Ms) + ' · p99 ' + formatMs(figures.p99Ms) + (recent ? '' : ' (' + t('total') + ')');
    svg('text', { x: f.right + 8, y: yTop + 19, class: 'value' }, row, text);
    drawn++;
  });
  node.setAttribute('data-points', String(drawn));
}

function drawThroughput(data) {
  const node = $('#chart-throughput');
  const f = frame(node, 720, 200, { left: 60, right: 24, top: 12, bottom: 26 });
  const points = data.throughput.series;
  const { from, to } = historyRange(data);
  const x = linearScale(from, to, f.left, f.right);
  let max = 0;
  for (const p of points) max = Math.max(max, p.admitted, p.delivered, p.rejected);
  const step = niceStep(Math.max(max, 0.1), 4);
  const top = Math.max(step * Math.ceil(max / step), step);
  const y = linearScale(0, top, f.bottom, f.top);
  const grid = svg('g', { class: 'grid' }, node);
  for (let v = 0; v <= top + step / 2; v += step) {
    svg('line', { x1: f.left, x2: f.right, y1: y(v).toFixed(1), y2: y(v).toFixed(1) }, grid);
    svg('text', { x: f.left - 6, y: (y(v) + 4).toFixed(1), 'text-anchor': 'end' }, grid, formatNumber(v, 2));
  }
  timeAxis(node, f, x, from, to);
  let drawn = 0;
  for (const key of ['rejected', 'delivered', 'admitted']) drawn += seriesPath(points, x, y, (p) => p[key], node, 's-' + key);
  if (drawn === 0) noData(node, f);
  node.setAttribute('data-points', String(drawn));
  legend($('#legend-throughput'), [['s-admitted', t('series_admitted')], ['s-delivered', t('series_delivered')], ['s-rejected', t('series_rejected')]]);
}

function drawQueue() {
  const node = $('#chart-queue');
  const f = frame(node, 360, 120, { left: 40, right: 8, top: 8, bottom: 8 });
  const points = state.queueHistory;
  if (points.length === 0) {
    noData(node, f);
    node.setAttribute('data-points', '0');
    return;
  }
  const x = linearScale(points[0].t, points[points.length - 1].t, f.left, f.right);
  let max = 1;
  for (const p of points) max = Math.max(max, p.depth);
  const y = linearScale(0, max, f.bottom, f.top);
  const grid = svg('g', { class: 'grid' }, node);
  for (const v of [0, max]) {
    svg('line', { x1: f.left, x2: f.right, y1: y(v).toFixed(1), y2: y(v).toFixed(1) }, grid);
    svg('text', { x: f.left - 6, y: (y(v) + 4).toFixed(1), 'text-anchor': 'end' }, grid, formatNumber(v));
  }
  const drawn = seriesPath(points, x, y, (p) => p.depth, node, 's-queue');
  node.setAttribute('data-points', String(drawn));
}

function drawStates(data) {
  const node = $('#chart-states');
  const f = frame(node, 360, 44, { left: 0, right: 0, top: 6, bottom: 6 });
  const list = $('#legend-states');
  clear(list);
  if (data.deliveries === null) {
    noData(node, f);
    node.setAttribute('data-points', '0');
    return;
  }
  const counts = DELIVERY_STATES.map((s) => [s, data.deliveries.byState[s] ?? 0]);
  const total = counts.reduce((sum, c) => sum + c[1], 0);
  let at = f.left;
  let drawn = 0;
  for (const [name, n] of counts) {
    const item = html('span', { class: 'legend-item', 'data-state': name, 'data-value': n }, list);
    html('span', { class: 'swatch st-' + name, 'aria-hidden': 'true' }, item);
    html('span', {}, item, t('state_' + name) + ': ' + formatNumber(n));
    if (total === 0 || n === 0) continue;
    const width = ((f.right - f.left) * n) / total;
    svg('rect', { x: at.toFixed(1), y: f.top, width: width.toFixed(1), height: f.bottom - f.top, class: 'st-' + name }, node);
    at += width;
    drawn++;
  }
  if (total === 0) {
    svg('rect', { x: f.left, y: f.top, width: f.right - f.left, height: f.bottom - f.top, class: 'st-empty' }, node);
  }
  node.setAttribute('data-points', String(drawn));
}

// --- tiles and tables ------------------------------------------------------------------------------------

function setTile(name, value, text, sub, level) {
  const tile = document.querySelector('[data-stat="' + name + '"]');
  if (!tile) return;
  tile.setAttribute('data-value', value === null || value === undefined ? '' : String(value));
  tile.classList.remove('warn', 'bad');
  if (level) tile.classList.add(level);
  tile.querySelector('.value').textContent = text;
  tile.querySelector('.sub').textContent = sub ?? '';
}

function drawTiles(data) {
  const w = formatSeconds(data.windowSeconds);
  const lw = data.latency.window;
  const p99 = lw.p99Ms ?? data.latency.total.p99Ms;
  const recent = lw.count > 0;
  const level = p99 === null ? undefined : p99 > data.budgetMs ? 'bad' : p99 > data.budgetMs / 2 ? 'warn' : undefined;
  const latencySub = recent ? t('inWindow', { w }) + (lw.overBudget > 0 ? ' · ' + t('overBudget', { n: lw.overBudget }) : '') : t('sinceStart');
  setTile('p99', p99, formatMs(p99), latencySub, level);
  setTile('p50', lw.p50Ms ?? data.latency.total.p50Ms, formatMs(lw.p50Ms ?? data.latency.total.p50Ms), t('budget') + ' ' + formatMs(data.budgetMs));
  setTile('admittedRate', data.throughput.admittedPerSecond, formatNumber(data.throughput.admittedPerSecond, 2), t('inWindow', { w }));
  // Latency climbs with the loop's busy share (docs/benchmarks.md): amber from 70 %, red from 90 %.
  const busy = data.throughput.eventLoopBusyShare;
  setTile('eventLoop', busy, formatNumber(busy * 100, 0) + ' %', t('inWindow', { w }), busy >= 0.9 ? 'bad' : busy >= 0.7 ? 'warn' : undefined);
  setTile('admitted', data.totals.admitted, formatNumber(data.totals.admitted), t('sinceStart'));
  setTile('delivered', data.totals.delivered, formatNumber(data.totals.delivered), t('rejected') + ': ' + formatNumber(data.totals.rejected));
  const q = data.queue;
  setTile('queueDepth', q ? q.depth : null, q ? formatNumber(q.depth) : '–', q ? t('state_queued') + ' ' + formatNumber(q.queued) + ' · ' + t('state_delivering') + ' ' + formatNumber(q.delivering) : '');
  const oldest = q ? q.oldestUndeliveredAgeSeconds : null;
  setTile('oldest', oldest, q ? formatSeconds(oldest) : '–', '', oldest !== null && oldest * 1000 > data.budgetMs ? 'warn' : undefined);
  setTile('misses', data.deadlineMisses.total, formatNumber(data.deadlineMisses.total), t('inWindow', { w }) + ': ' + formatNumber(data.deadlineMisses.window), data.deadlineMisses.window > 0 ? 'bad' : undefined);
  const dead = data.deadLetters ? data.deadLetters.total : null;
  setTile('deadLetters', dead, dead === null ? '–' : formatNumber(dead), '', dead ? 'bad' : undefined);
}

function table(container, columns, rows) {
  clear(container);
  if (rows.length === 0) {
    html('p', { class: 'empty' }, container, t('none'));
    return;
  }
  const tableNode = html('table', {}, container);
  const head = html('tr', {}, html('thead', {}, tableNode));
  for (const [key, cls] of columns) html('th', { class: cls ?? '' }, head, t(key));
  const body = html('tbody', {}, tableNode);
  for (const row of rows) {
    const tr = html('tr', {}, body);
    row.forEach((cell, i) => html('td', { class: columns[i][1] ?? '' }, tr, cell));
  }
}

function drawTables(data) {
  const agencies = data.topAgencies;
  $('#agencies-title').textContent = t('agenciesTitle', { h: agencies ? agencies.sinceHours : 1 });
  table(
    $('#agencies'),
    [['colCode', 'mono'], ['colName'], ['colSent', 'num'], ['colReceived', 'num']],
    (agencies ? agencies.items : []).map((a) => [a.code, a.name ?? '', formatNumber(a.sent), formatNumber(a.received)]),
  );
  table(
    $('#dead-letters'),
    [['colRecipient', 'mono'], ['colSender', 'mono'], ['colAttempts', 'num'], ['colAt'], ['colError']],
    (data.deadLetters ? data.deadLetters.latest : []).map((d) => [d.recipient, d.sender, formatNumber(d.attempts), formatDateTime(d.lastAttemptAt), d.lastError ?? '']),
  );
  const certs = data.certificates;
  $('#certs-title').textContent = t('certsTitle', { d: certs ? certs.withinDays : 30 });
  table(
    $('#certificates'),
    [['colRole'], ['colSubject'], ['colNotAfter'], ['colDays', 'num']],
    (certs ? certs.expiring : []).map((c) => [
      t('role_' + c.role) + (c.agency ? ' ' + c.agency : ''),
      c.subject,
      formatDay(c.notAfter),
      c.expired ? t('expired') : t('days', { n: formatNumber(c.daysToExpiry) }),
    ]),
  );
  const note = $('#certs-unreadable');
  note.textContent = certs && certs.unreadable > 0 ? t('unreadable', { n: certs.unreadable }) : '';
  $('#section-certs').classList.toggle('alert', Boolean(certs && certs.expiring.length > 0));
}

function drawStatus(data) {
  const status = $('#status');
  status.classList.toggle('stale', state.stale);
  let text = state.stale ? t('stale') : data ? t('updated') + ' ' + formatClock(Date.parse(data.generatedAt)) : t('loading');
  if (data && data.errors.length > 0) text += ' · ' + t('partMissing') + ' ' + data.errors.map((p) => t('part_' + p)).join(', ');
  status.textContent = text;
}

function render() {
  applyTexts();
  const data = state.data;
  drawStatus(data);
  if (!data) return;
  const w = formatSeconds(data.windowSeconds);
  $('#latency-title').textContent = t('latencyTitle', { b: formatMs(data.budgetMs) });
  $('#latency-note').textContent = t('latencyNote', { w });
  $('#stages-note').textContent = t('stagesNote', { w });
  $('#states-title').textContent = t('statesTitle', { h: data.deliveries ? data.deliveries.sinceHours : 1 });
  drawTiles(data);
  drawLatency(data);
  drawStages(data);
  drawThroughput(data);
  drawQueue();
  drawStates(data);
  drawTables(data);
  document.body.setAttribute('data-generated-at', data.generatedAt);
}

// --- token and refresh ----------------------------------------------------------------------------------

function readToken() {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

function storeToken(token) {
  state.token = token;
  try {
    if (token === '') window.sessionStorage.removeItem(TOKEN_KEY);
    else window.sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage disabled: the token lives in this page only, and is asked again after a reload.
  }
}

function showLogin(message) {
  window.clearTimeout(state.timer);
  state.timer = undefined;
  $('#board').hidden = true;
  $('#sign-out').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message ?? '';
  $('#token').focus();
}

function showBoard() {
  $('#login').hidden = true;
  $('#board').hidden = false;
  $('#sign-out').hidden = false;
}

function schedule(delay) {
  window.clearTimeout(state.timer);
  state.timer = window.setTimeout(refresh, delay);
}

async function refresh() {
  if (state.inflight || state.token === '') return;
  if (document.hidden) {
    // Nobody is looking: no request until the tab is visible again (visibilitychange refreshes).
    schedule(REFRESH_MS);
    return;
  }
  state.inflight = true;
  const token = state.token;
  try {
    const response = await window.fetch('v1/dashboard', {
      headers: { authorization: 'Bearer ' + token, accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
    });
    // Signed out (or another token entered) while this request was on its way: drop its answer.
    if (state.token !== token) return;
    if (response.status === 401 || response.status === 403) {
      storeToken('');
      showLogin(t('tokenRefused'));
      return;
    }
    if (!response.ok) throw new Error('HTTP ' + response.status);
    const data = await response.json();
    state.data = data;
    state.stale = false;
    if (data.queue) {
      state.queueHistory.push({ t: Date.parse(data.generatedAt), depth: data.queue.depth });
      if (state.queueHistory.length > QUEUE_HISTORY) state.queueHistory.shift();
    }
    showBoard();
    render();
    schedule(REFRESH_MS);
  } catch {
    if (state.token !== token) return;
    state.stale = true;
    drawStatus(state.data);
    schedule(REFRESH_MS);
  } finally {
    state.inflight = false;
    // A token entered while the previous one's request was on its way: start with the new one now.
    if (state.token !== token && state.token !== '') refresh();
  }
}

function switchLanguage() {
  state.lang = state.lang === 'vi' ? 'en' : 'vi';
  const url = new URL(window.location.href);
  if (state.lang === 'en') url.searchParams.set('lang', 'en');
  else url.searchParams.delete('lang');
  window.history.replaceState(null, '', url.pathname + url.search + url.hash);
  render();
}

function start() {
  applyTexts();
  $('#lang').addEventListener('click', switchLanguage);
  $('#sign-out').addEventListener('click', () => {
    storeToken('');
    state.data = null;
    state.queueHistory = [];
    showLogin();
  });
  $('#login').addEventListener('submit', (event) => {
    // Never a real submission: the token must not travel as a form field or end up in a URL.
    event.preventDefault();
    const input = $('#token');
    const token = input.value.trim();
    input.value = '';
    if (token === '') return;
    storeToken(token);
    $('#login-error').textContent = '';
    showBoard();
    drawStatus(null);
    refresh();
  });
  // The charts are drawn at the size they have on screen: redraw when it changes.
  let resizing;
  window.addEventListener('resize', () => {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(() => {
      if (state.data) render();
    }, 150);
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.token !== '') refresh();
  });
  if (state.token === '') showLogin();
  else {
    showBoard();
    drawStatus(null);
    refresh();
  }
}

start();
`;
