// main.js: the vizviewer page. Loads the trace (inline in a standalone
// report, or from the server's /localtrace), draws one collapsible
// flame-chart track per thread with instant marks and counter graphs, shows
// the details and source of a clicked slice, searches, and draws the
// aggregated flame graph. Keys: W/S zoom, A/D pan, / search, ? help.
// A large trace (the server says so on /api/status) is never loaded whole:
// the page asks the server for the slices of what is on screen at its
// width (/api/slices, narrow ones merged there), for details, search, the
// flame graph and area selections (Shift+drag) — see viewer/README.md.
import {
  FlameChartContainer, FlameChartPlugin, MarksPlugin, TimeGridPlugin, TimeseriesPlugin, TogglePlugin,
} from 'flame-chart-js';
import flamegraph from 'd3-flame-graph';
import { EventEmitter } from 'events';
import { select } from 'd3-selection';
import {
  aggregate, areaRows, buildModel, formatTime, formatUs, nestLevels, selfTime, sourceOf, warmNest,
} from './model.js';
import { RemoteFlamePlugin, setRemoteSpan } from './remote_plugin.js';

// flame-chart-js's interactions engine takes a few listeners per track from
// each plugin; past ten tracks the events package warned of a leak that is
// none ("MaxListenersExceededWarning" in the console).
EventEmitter.defaultMaxListeners = 0;

const $ = (id) => document.getElementById(id);
const state = {
  model: null, chart: null, plugins: [], selected: null, fg: null, tab: 'timeline', matches: 0,
  remote: null, // large traces: {fetched, busy, again, q, frames}
  area: null, // the last area selection: {t0, t1, tracks, sort, rows, ...}
};

window.vt = {
  state,
  ready: false,
  error: null,
  // large traces: 1 when no answer is awaited or due for the current view
  idle() {
    const r = state.remote;
    return !r || (!r.busy && !r.again && !viewNeedsFetch());
  },
  // the visible time range, in microseconds from the trace start
  view() {
    const e = state.chart.renderEngine;
    return { start: e.positionX, end: e.positionX + e.width / e.zoom, zoom: e.zoom };
  },
  // the path (child indexes from a root) of the first slice whose name has text
  findPath(track, text) {
    const walk = (nodes, path) => {
      for (let i = 0; i < nodes.length; i++) {
        if (nodes[i].name.includes(text)) return [...path, i];
        const sub = nodes[i].children && walk(nodes[i].children, [...path, i]);
        if (sub) return sub;
      }
      return null;
    };
    return walk(state.model.threads[track].roots, []);
  },
  // canvas coordinates of the middle of a slice: track index, path of child indexes
  slicePoint(track, path) {
    const p = state.plugins[track];
    let node = state.model.threads[track].roots[path[0]];
    for (const i of path.slice(1)) node = node.children[i];
    const level = path.length - 1;
    const r = p.calcRect(node.start, node.duration, level);
    const x0 = Math.max(r.x, 0);
    const x1 = Math.min(r.x + r.w, p.renderEngine.width);
    return { x: (x0 + x1) / 2, y: p.renderEngine.position + r.y + p.renderEngine.blockHeight / 2, name: node.name };
  },
};

function setStatus(text) {
  $('status').textContent = text;
}

function fail(msg) {
  window.vt.error = msg;
  setStatus(msg);
  $('status').classList.add('error');
}

async function loadTrace() {
  const inline = $('vt-trace');
  if (inline) return { trace: JSON.parse(inline.textContent), info: { is_flamegraph: false, mode: 'html' }, title: document.title };
  if (location.protocol === 'file:') throw new Error('this page has no trace inside; open it through vizviewer');
  let info = {};
  try {
    info = await (await fetch('/vizviewer_info')).json();
  } catch (e) {
    info = {};
  }
  const url = '/localtrace';
  const title = 'trace';
  const resp = await fetch(url);
  if (!resp.ok) throw new Error('the server answered ' + resp.status + ' for ' + url);
  const trace = await resp.json();
  // Asked last, as VizTracer's page does: a server started with --once
  // stops once it has answered (the trace itself holds the same file_info).
  await fetch(url.replace('/localtrace', '/file_info')).catch(() => null);
  return { trace, info, title };
}

// ---- timeline ---------------------------------------------------------------

function buildTimeline(model) {
  const canvas = $('canvas');
  const box = $('timeline-box');
  canvas.width = box.clientWidth;
  canvas.height = box.clientHeight;
  const plugins = [new TimeGridPlugin()];
  if (model.instants.length) {
    // flame-chart-js copies marks; index leads back to the instant
    const marks = model.instants.slice(0, 5000).map((m, index) => ({
      shortName: m.name.slice(0, 12), fullName: m.name, timestamp: m.ts, color: '#d62728', index,
    }));
    plugins.push(new TogglePlugin('instant events (' + model.instants.length + ')'));
    const mp = new MarksPlugin({ data: marks });
    mp.on('select', (ev) => {
      const mark = ev && ev.node ? model.instants[ev.node.index] : null;
      if (model.remote) selectRemoteMark(mark);
      else selectMark(mark);
    });
    plugins.push(mp);
  }
  if (model.counters.length) {
    plugins.push(new TogglePlugin('counters (' + model.counters.length + ')'));
    plugins.push(new TimeseriesPlugin({
      name: 'counters',
      data: model.counters.map((c) => ({ name: c.name, points: c.points, group: c.name })),
    }));
  }
  state.plugins = [];
  model.threads.forEach((t, i) => {
    plugins.push(new TogglePlugin(t.title));
    const Plugin = model.remote ? RemoteFlamePlugin : FlameChartPlugin;
    const p = new Plugin({ data: t.roots, name: 'thread' + i });
    p.on('select', (ev) => {
      const node = ev && ev.node ? ev.node.source : null;
      if (model.remote) selectRemote(node, t);
      else selectNode(node, t);
    });
    state.plugins.push(p);
    plugins.push(p);
  });
  const chart = new FlameChartContainer({
    canvas,
    plugins,
    settings: { options: { timeUnits: 'µs' }, styles: { main: { blockHeight: 18 } } },
  });
  state.chart = chart;
  // flame-chart-js labels the axis `${value.toFixed(n)}${units}` ("186503µs");
  // label it in the unit a person reads instead ("186.5 ms").
  const grid = chart.timeGrid;
  grid.renderTimes = function renderTimes(engine = this.renderEngine) {
    engine.setCtxValue('fillStyle', engine.styles.fontColor);
    engine.setCtxFont(engine.styles.font);
    this.forEachTime((x, t) => engine.fillText(formatTime(t, this.delta), x + engine.blockPaddingLeftRight, engine.charHeight));
  };
  layoutTracks();
  window.addEventListener('resize', () => {
    if (state.tab !== 'timeline') return;
    chart.resize(box.clientWidth, box.clientHeight);
    layoutTracks();
  });
}

// flame-chart-js shares the height equally between tracks; give each thread
// what its call depth needs instead. When the canvas is too short, the space
// is water-filled by weight log2(2 + slices): shallow tracks get all they
// need, busy ones share the rest, each keeps a row. A track still scrolls
// vertically by dragging, and its title bar folds or resizes it.
function layoutTracks() {
  const engine = state.chart.renderEngine;
  const flames = state.plugins.map((p) => p.renderEngine);
  const row = engine.blockHeight + 1;
  let space = engine.height;
  for (const e of engine.children) if (!flames.includes(e) && !e.collapsed) space -= e.height;
  const threads = state.model.threads;
  const want = threads.map((t) => (t.maxDepth + 1) * row);
  const weight = threads.map((t) => Math.log2(2 + t.count));
  const heights = want.map(() => 0);
  let open = threads.map((_, i) => i);
  while (open.length) {
    const sum = open.reduce((a, i) => a + weight[i], 0);
    const fits = open.filter((i) => want[i] <= (space * weight[i]) / sum);
    if (!fits.length) {
      for (const i of open) heights[i] = Math.max(row, Math.floor((space * weight[i]) / sum));
      break;
    }
    for (const i of fits) {
      heights[i] = want[i];
      space -= want[i];
    }
    open = open.filter((i) => !fits.includes(i));
  }
  flames.forEach((e, i) => e.resize({ height: heights[i] }, true));
  engine.recalcChildrenLayout();
  state.chart.render();
}

function zoomBy(factor) {
  const v = window.vt.view();
  const mid = (v.start + v.end) / 2;
  const half = ((v.end - v.start) * factor) / 2;
  state.chart.setZoom(mid - half, mid + half);
}

function panBy(fraction) {
  const v = window.vt.view();
  const d = (v.end - v.start) * fraction;
  state.chart.setZoom(v.start + d, v.end + d);
}

// ---- details ------------------------------------------------------------

function row(label, value) {
  const tr = document.createElement('tr');
  const th = document.createElement('th');
  const td = document.createElement('td');
  th.textContent = label;
  td.textContent = value;
  tr.append(th, td);
  return tr;
}

function selectNode(node, thread) {
  state.selected = node;
  const table = $('detail-table');
  table.replaceChildren();
  const src = $('source');
  src.replaceChildren();
  if (!node) {
    $('detail-name').textContent = 'Click a slice to see its details.';
    return;
  }
  $('detail-name').textContent = node.name;
  table.append(
    row('thread', thread ? thread.title : ''),
    row('start', formatUs(node.start) + '  (ts ' + node.ev.ts + ')'),
    row('duration', formatUs(node.duration)),
    row('self time', formatUs(selfTime(node))),
  );
  if (node.ev.args !== undefined && node.ev.args !== null) {
    const args = node.ev.args;
    for (const k of Object.keys(args)) {
      const v = args[k];
      table.append(row(k, typeof v === 'string' ? v : JSON.stringify(v, null, 1)));
    }
  }
  showSource(node.name);
}

function selectMark(mark) {
  if (!mark) return;
  state.selected = null;
  $('detail-name').textContent = mark.name;
  const table = $('detail-table');
  table.replaceChildren(row('instant at', formatUs(mark.ts) + '  (ts ' + mark.ev.ts + ')'),
    row('scope', mark.ev.s || 't'));
  if (mark.ev.args) table.append(row('args', JSON.stringify(mark.ev.args, null, 1)));
  $('source').replaceChildren();
  $('source-title').textContent = '';
}

function showSource(name) {
  const where = sourceOf(name, state.model.fileInfo);
  const file = where && state.model.fileInfo.files && state.model.fileInfo.files[where.path];
  renderSource(where, file ? file[0] : null);
}

// where: {path, line} or null; text: the file's source or null.
function renderSource(where, text) {
  const src = $('source');
  src.replaceChildren();
  $('source-title').textContent = where ? where.path + ':' + where.line : 'no source (builtin or C function)';
  if (text === null || text === undefined) return;
  const lines = String(text).split('\n');
  const frag = document.createDocumentFragment();
  let hl = null;
  lines.forEach((text, i) => {
    const div = document.createElement('div');
    div.className = 'line' + (i + 1 === where.line ? ' hl' : '');
    const num = document.createElement('span');
    num.className = 'num';
    num.textContent = String(i + 1);
    div.append(num, document.createTextNode(text));
    if (i + 1 === where.line) hl = div;
    frag.append(div);
  });
  src.append(frag);
  if (hl) src.scrollTop = Math.max(hl.offsetTop - src.clientHeight / 3, 0);
}

// ---- search -------------------------------------------------------------

async function searchRemote(q) {
  state.remote.q = q;
  if (q === '') {
    state.matches = 0;
    $('matches').textContent = '';
  } else {
    const r = await api('search', { q, limit: 1 });
    if (state.remote.q !== q || !r.ok) return;
    state.matches = r.body.total;
    $('matches').textContent = r.body.total + ' match' + (r.body.total === 1 ? '' : 'es');
  }
  if (state.fg) state.fg.search(q);
}

function search(term) {
  const q = term.trim().toLowerCase();
  if (state.remote) {
    searchRemote(term.trim());
    return;
  }
  let matches = 0;
  const walk = (nodes) => {
    const stack = [...nodes];
    while (stack.length) {
      const n = stack.pop();
      const hit = q !== '' && n.name.toLowerCase().includes(q);
      if (hit) matches++;
      if (n.baseColor === undefined) n.baseColor = n.color;
      n.color = q === '' ? n.baseColor : hit ? '#ffd400' : '#d8d8d8';
      if (n.children) stack.push(...n.children);
    }
  };
  state.model.threads.forEach((t, i) => {
    walk(t.roots);
    state.plugins[i].setData(t.roots);
  });
  state.matches = matches;
  $('matches').textContent = q === '' ? '' : matches + ' match' + (matches === 1 ? '' : 'es');
  state.chart.render();
  if (state.fg) state.fg.search(q);
}

// ---- flame graph --------------------------------------------------------

async function drawFlamegraph() {
  const model = state.model;
  const which = $('fg-thread').value;
  const title = which === 'all' ? 'all threads' : model.threads[+which].title;
  let tree;
  if (model.remote) {
    const r = await api('flame', which === 'all' ? {} : { track: which });
    if (!r.ok) return;
    tree = r.body.tree;
    tree.name = title;
  } else {
    const roots = which === 'all' ? model.threads.map((t) => t.roots) : [model.threads[+which].roots];
    tree = aggregate(roots, title);
  }
  const box = $('flamegraph');
  box.replaceChildren();
  const fg = flamegraph().width(Math.max(box.clientWidth - 8, 200)).cellHeight(18).minFrameSize(1)
    .transitionDuration(0).sort(true).label((d) => d.data.name + ' — ' + formatUs(d.value));
  select(box).datum(tree).call(fg);
  state.fg = fg;
  // The roots are drawn at the bottom of a graph as tall as its deepest
  // stack: open it scrolled down to them, not to the empty top.
  const view = $('flamegraph-view');
  view.scrollTop = view.scrollHeight;
  const q = $('search').value.trim();
  if (q) fg.search(q);
  state.fgDrawn = (state.fgDrawn || 0) + 1;
}

function showTab(tab) {
  state.tab = tab;
  $('tab-timeline').classList.toggle('active', tab === 'timeline');
  $('tab-flamegraph').classList.toggle('active', tab === 'flamegraph');
  $('timeline-view').hidden = tab !== 'timeline';
  $('flamegraph-view').hidden = tab !== 'flamegraph';
  if (tab === 'flamegraph') drawFlamegraph();
  else {
    state.chart.resize($('timeline-box').clientWidth, $('timeline-box').clientHeight);
    layoutTracks();
  }
}

// ---- keys and start -----------------------------------------------------

function onKey(ev) {
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) {
    if (ev.key === 'Escape') ev.target.blur();
    return;
  }
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const k = ev.key.toLowerCase();
  const help = $('help');
  if (k === '?' || (k === 'escape' && !help.hidden)) {
    help.hidden = !help.hidden;
    return;
  }
  if (k === '/') {
    ev.preventDefault();
    $('search').focus();
    return;
  }
  if (state.tab !== 'timeline' || !state.chart) return;
  const fast = ev.shiftKey ? 2 : 1;
  if (k === 'w') zoomBy(Math.pow(0.75, fast));
  else if (k === 's') zoomBy(Math.pow(1 / 0.75, fast));
  else if (k === 'a') panBy(-0.2 * fast);
  else if (k === 'd') panBy(0.2 * fast);
  else if (k === '0') state.chart.setZoom(0, state.model.duration);
  else if (k === 'escape') clearArea();
  else return;
  ev.preventDefault();
  checkView();
}

// ---- large traces: the server's index ------------------------------------

// GET /api/<path> with params; {ok, status, body}.
async function api(path, params = {}) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) u.set(k, String(v));
  for (let tries = 0; ; tries++) {
    const resp = await fetch('/api/' + path + '?' + u);
    const th = performance.now();
    let body = null;
    try {
      body = await resp.json();
    } catch (e) {
      body = { error: 'not JSON' };
    }
    // 503: the index is still being built (an area selection of a small trace)
    if (resp.status === 503 && tries < 600) {
      setStatus('indexing the trace for this question…');
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    return { ok: resp.ok, status: resp.status, body, headers: th };
  }
}

function progressText(st) {
  const pct = st.total ? Math.floor((100 * st.done) / st.total) : 0;
  return 'indexing the trace: ' + pct + '% (' + st.events.toLocaleString('en-US') + ' events, ' +
    Math.round(st.seconds) + ' s)';
}

// The model of a remote trace: what /api/tracks says, no slices yet.
function remoteModel(tr, marks) {
  const threads = tr.tracks.map((t, i) => ({
    key: t.pid + ':' + t.tid, pid: t.pid, tid: t.tid, name: t.thread, count: t.count, maxDepth: t.depth,
    roots: [], index: i,
    title: (t.proc ? t.proc + ' ' : '') + 'pid ' + t.pid + ' / ' + (t.thread || 'thread') + ' ' + t.tid + ' (' + t.count + ')',
  }));
  const instants = marks.instants.map(([ts, name, idx, n]) => ({
    name: String(marks.names[name] ?? '') + (n > 1 ? ' +' + (n - 1) : ''), ts, idx,
  }));
  const counters = tr.counters.map((c, i) => ({
    name: c.key === c.name || c.key === 'value' ? String(c.name) : c.name + '.' + c.key, pid: c.pid,
    points: marks.counters[i],
  }));
  return {
    remote: true, threads, instants, counters, fileInfo: { files: {}, functions: {} },
    base: tr.start_us, duration: tr.duration, slices: tr.slices, metadata: tr.metadata || {},
  };
}

// What the view needs: the visible range widened by half a screen on each
// side, at the view's resolution; refetched when the view leaves it or the
// resolution changes by more than 1.5x.
function wantedView() {
  const e = state.chart.renderEngine;
  const v = window.vt.view();
  const span = Math.max(v.end - v.start, 1e-3);
  const t0 = Math.max(0, v.start - span / 2);
  const t1 = Math.min(state.model.duration, v.end + span / 2);
  return { v, t0, t1: t1 > t0 ? t1 : t0 + span, res: span / Math.max(e.width, 1) };
}

function viewNeedsFetch() {
  const r = state.remote;
  if (!r || !state.chart || state.tab !== 'timeline') return false;
  // while an answer is awaited, compare with what it was asked for
  const f = r.busy ? r.inflight : r.fetched;
  if (!f) return true;
  const w = wantedView();
  const eps = 1e-6 * Math.max(1, state.model.duration);
  return (w.v.start < f.t0 - eps) || (w.v.end > f.t1 + eps) || w.res < f.res / 1.5 || w.res > f.res * 1.5 ||
    f.q !== r.q;
}

async function fetchView() {
  const r = state.remote;
  const w = wantedView();
  const q = r.q;
  r.busy = true;
  r.again = false;
  r.inflight = { t0: w.t0, t1: w.t1, res: w.res, q };
  const px = Math.max(1, Math.min(100000, Math.ceil((w.t1 - w.t0) / w.res)));
  const params = { t0: w.t0.toFixed(3), t1: w.t1.toFixed(3), px };
  if (q) params.q = q;
  let ans;
  const t0 = performance.now();
  try {
    ans = await api('slices', params);
  } finally {
    r.busy = false;
  }
  if (!ans.ok) {
    setStatus('the server answered ' + ans.status + ': ' + (ans.body && ans.body.error));
    return;
  }
  const t1 = performance.now();
  let nest = 0;
  for (const t of ans.body.tracks) {
    const rows = [];
    const tn = performance.now();
    const roots = nestLevels(t.levels, ans.body.names, t.track, ans.body.stride, rows);
    nest += performance.now() - tn;
    state.model.threads[t.track].roots = roots;
    const p = state.plugins[t.track];
    p.data = roots;
    p.setRows(rows);
  }
  const t2 = performance.now();
  r.fetched = { t0: w.t0, t1: w.t1, res: w.res, q };
  r.frames++;
  state.chart.render();
  // the last answer's cost: waiting for the server, then building and drawing
  r.timing = { start: t0, fetch: t1 - t0, headers: ans.headers - t0, apply: performance.now() - t1, nest, init: t2 - t1 - nest, render: performance.now() - t2, px };
}

// Checks the view on every animation frame (and at once after a key's
// zoom or pan, so its request does not wait a frame); one request at a time.
function watchView() {
  requestAnimationFrame(watchView);
  checkView();
}

function checkView() {
  const r = state.remote;
  if (!r || r.busy) {
    if (r && viewNeedsFetch()) r.again = true;
    return;
  }
  if (r.again || viewNeedsFetch()) fetchView();
}

async function selectRemote(node, thread) {
  if (!node || node.slice === undefined) {
    selectNode(null, null);
    return;
  }
  state.selected = node;
  const table = $('detail-table');
  if (node.n > 1) {
    $('detail-name').textContent = node.n + ' slices, from ' + node.base;
    table.replaceChildren(row('thread', thread ? thread.title : ''), row('from', formatUs(node.start)),
      row('span', formatUs(node.duration)), row('', 'each is under a pixel wide here: zoom in (W) to see them'));
    renderSource(null, null);
    $('source-title').textContent = '';
    return;
  }
  const r = await api('detail', { track: node.track, slice: node.slice });
  if (!r.ok || state.selected !== node) return;
  const d = r.body;
  $('detail-name').textContent = d.name;
  table.replaceChildren(
    row('thread', thread ? thread.title : ''),
    row('start', formatUs(d.start) + (d.event && d.event.ts !== undefined ? '  (ts ' + d.event.ts + ')' : '')),
    row('duration', formatUs(d.dur)),
    row('self time', formatUs(d.self)),
  );
  const args = d.event && d.event.args;
  if (args !== undefined && args !== null) {
    for (const k of Object.keys(args)) {
      const v = args[k];
      table.append(row(k, typeof v === 'string' ? v : JSON.stringify(v, null, 1)));
    }
  }
  renderSource(d.source ? { path: d.source.path, line: d.source.line } : null, d.source ? d.source.text : null);
  state.detail = d;
}

async function selectRemoteMark(mark) {
  if (!mark) return;
  const r = await api('detail', { instant: mark.idx });
  if (!r.ok) return;
  const ev = r.body.event || {};
  selectMark({ name: r.body.name, ts: r.body.ts, ev });
}

// ---- area selection: Shift+drag on the timeline -----------------------------

// The thread tracks under canvas rows y0..y1 (indexes into model.threads).
function tracksUnder(y0, y1) {
  const out = [];
  state.plugins.forEach((p, i) => {
    const e = p.renderEngine;
    if (e.collapsed) return;
    const top = e.position;
    const bottom = top + e.height;
    if (bottom > Math.min(y0, y1) && top < Math.max(y0, y1)) out.push(i);
  });
  return out;
}

function clearArea() {
  $('area-box').hidden = true;
  state.area = null;
}

async function showArea(sel, sort) {
  sel.sort = sort;
  let rows;
  let slices = null;
  if (location.protocol === 'file:' || $('vt-trace')) {
    rows = areaRows(state.model.threads, sel.tracks, sel.t0, sel.t1, sort);
  } else {
    const r = await api('area', { t0: sel.t0.toFixed(3), t1: sel.t1.toFixed(3), tracks: sel.tracks.join(','), sort, limit: 1000 });
    if (!r.ok) {
      setStatus('area selection: ' + (r.body && r.body.error));
      return;
    }
    rows = r.body.rows;
    slices = r.body.slices;
  }
  sel.rows = rows;
  state.area = sel;
  state.areaShown = (state.areaShown || 0) + 1;
  state.selected = null;
  $('detail-name').textContent = 'Selection: ' + formatUs(sel.t1 - sel.t0) + ' on ' + sel.tracks.length + ' track' +
    (sel.tracks.length === 1 ? '' : 's') + ' — ' + rows.length + ' functions' +
    (slices !== null ? ', ' + slices + ' slices' : '') + ' (Esc clears)';
  const table = $('detail-table');
  const head = document.createElement('tr');
  for (const [key, label] of [['name', 'function'], ['total', 'total time'], ['self', 'self time'], ['count', 'count']]) {
    const th = document.createElement('th');
    th.textContent = label + (key === sort ? ' ▾' : '');
    th.className = 'sort';
    th.dataset.sort = key;
    th.onclick = () => showArea(sel, key);
    head.append(th);
  }
  const frag = document.createDocumentFragment();
  frag.append(head);
  for (const r of rows.slice(0, 1000)) {
    const tr = document.createElement('tr');
    tr.className = 'area-row';
    for (const v of [r[0], formatUs(r[1]), formatUs(r[2]), String(r[3])]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    frag.append(tr);
  }
  table.replaceChildren(frag);
  renderSource(null, null);
  $('source-title').textContent = '';
}

function setupArea() {
  const box = $('timeline-box');
  const canvas = $('canvas');
  const overlay = $('area-box');
  let drag = null;
  const toTime = (x) => {
    const e = state.chart.renderEngine;
    return Math.min(Math.max(e.positionX + x / e.zoom, 0), state.model.duration);
  };
  box.addEventListener('mousedown', (ev) => {
    if (!ev.shiftKey || state.tab !== 'timeline') return;
    ev.stopPropagation(); // flame-chart-js would pan
    ev.preventDefault();
    const r = canvas.getBoundingClientRect();
    drag = { x0: ev.clientX - r.left, y0: ev.clientY - r.top, x1: ev.clientX - r.left, y1: ev.clientY - r.top };
  }, true);
  window.addEventListener('mousemove', (ev) => {
    if (!drag) return;
    const r = canvas.getBoundingClientRect();
    drag.x1 = ev.clientX - r.left;
    drag.y1 = ev.clientY - r.top;
    overlay.hidden = false;
    overlay.style.left = Math.min(drag.x0, drag.x1) + 'px';
    overlay.style.top = Math.min(drag.y0, drag.y1) + 'px';
    overlay.style.width = Math.abs(drag.x1 - drag.x0) + 'px';
    overlay.style.height = Math.abs(drag.y1 - drag.y0) + 'px';
  }, true);
  window.addEventListener('mouseup', (ev) => {
    if (!drag) return;
    ev.stopPropagation();
    const d = drag;
    drag = null;
    const t0 = toTime(Math.min(d.x0, d.x1));
    const t1 = toTime(Math.max(d.x0, d.x1));
    const tracks = tracksUnder(d.y0, d.y1 === d.y0 ? d.y0 + 1 : d.y1);
    if (!(t1 > t0) || !tracks.length) {
      clearArea();
      return;
    }
    showArea({ t0, t1, tracks }, 'total');
  }, true);
}

// ---- start ----------------------------------------------------------------

// The server's word on the trace: "whole" (load it), or an index's status;
// null without a server that knows /api/ (the standalone report, file://).
async function probe() {
  if ($('vt-trace') || location.protocol === 'file:') return null;
  try {
    const resp = await fetch('/api/status');
    if (!resp.ok) return null;
    return await resp.json();
  } catch (e) {
    return null;
  }
}

async function loadRemote(st) {
  while (st.state === 'indexing') {
    setStatus(progressText(st));
    // status is cheap to answer: a short period keeps the wait after the
    // index is ready short
    await new Promise((r) => setTimeout(r, 100));
    st = await (await fetch('/api/status')).json();
  }
  if (st.state === 'error') throw new Error('cannot index the trace: ' + st.error);
  // the three answers do not depend on each other: asked at once
  const [tr, marks, info] = await Promise.all([
    api('tracks'),
    api('marks', { px: 4000 }),
    fetch('/vizviewer_info')
      .then((r) => r.json())
      .catch(() => ({})),
  ]);
  if (!tr.ok) throw new Error('the server answered ' + tr.status + ' for /api/tracks');
  if (!marks.ok) throw new Error('the server answered ' + marks.status + ' for /api/marks');
  return { model: remoteModel(tr.body, marks.body), info, title: 'trace', st };
}

async function start() {
  const t0 = performance.now();
  setStatus('loading trace…');
  let loaded;
  let model;
  try {
    const st = await probe();
    if (st && st.state !== 'whole') {
      warmNest();
      loaded = await loadRemote(st);
      model = loaded.model;
      setRemoteSpan(model.duration > 0 ? model.duration : 1);
      state.remote = { fetched: null, busy: false, again: false, q: '', frames: 0 };
    } else {
      loaded = await loadTrace();
      model = buildModel(loaded.trace);
      loaded.trace = null;
    }
  } catch (e) {
    fail('cannot load the trace: ' + e.message);
    return;
  }
  state.model = model;
  document.title = 'vizviewer — ' + loaded.title;
  const sel = $('fg-thread');
  model.threads.forEach((t, i) => {
    const o = document.createElement('option');
    o.value = String(i);
    o.textContent = t.title;
    sel.append(o);
  });
  buildTimeline(model);
  if (model.remote) {
    await fetchView();
    watchView();
  } else {
    // One zoom and back while loading: flame-chart-js re-clusters every track
    // the first time the zoom changes, which would otherwise slow the first key.
    const initial = window.vt.view();
    state.chart.setZoom(initial.start, (initial.start + initial.end) / 2);
    await new Promise((r) => requestAnimationFrame(() => r()));
    state.chart.setZoom(initial.start, initial.end);
  }
  setStatus(model.slices + ' slices in ' + model.threads.length + ' thread' + (model.threads.length === 1 ? '' : 's') +
    ', ' + formatUs(model.duration) + (model.metadata.overflow ? ' (buffer overflowed: oldest events lost)' : '') +
    (model.remote ? ' — indexed by the server in ' + loaded.st.seconds.toFixed(1) + ' s' : '') +
    ' — loaded in ' + Math.round(performance.now() - t0) + ' ms');
  $('tab-timeline').onclick = () => showTab('timeline');
  $('tab-flamegraph').onclick = () => showTab('flamegraph');
  $('fg-thread').onchange = drawFlamegraph;
  $('help-button').onclick = () => { $('help').hidden = !$('help').hidden; };
  $('help').onclick = () => { $('help').hidden = true; };
  let pending = 0;
  $('search').oninput = (e) => {
    clearTimeout(pending);
    pending = setTimeout(() => search(e.target.value), 200);
  };
  document.addEventListener('keydown', onKey);
  setupArea();
  if (loaded.info && loaded.info.is_flamegraph) showTab('flamegraph');
  selectNode(null, null);
  window.vt.remote = !!model.remote;
  window.vt.ready = true;
  document.body.dataset.ready = '1';
}

start();
