// main.js: the vizviewer page. Loads the trace (inline in a standalone
// report, or from the server's /localtrace), draws one collapsible
// flame-chart track per thread with instant marks and counter graphs, shows
// the details and source of a clicked slice, searches, and draws the
// aggregated flame graph. Keys: W/S zoom, A/D pan, / search, ? help.
import {
  FlameChartContainer, FlameChartPlugin, MarksPlugin, TimeGridPlugin, TimeseriesPlugin, TogglePlugin,
} from 'flame-chart-js';
import flamegraph from 'd3-flame-graph';
import { select } from 'd3-selection';
import { aggregate, buildModel, formatTime, formatUs, selfTime, sourceOf } from './model.js';

const $ = (id) => document.getElementById(id);
const state = { model: null, chart: null, plugins: [], selected: null, fg: null, tab: 'timeline', matches: 0 };
window.vt = {
  state,
  ready: false,
  error: null,
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
    mp.on('select', (ev) => selectMark(ev && ev.node ? model.instants[ev.node.index] : null));
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
    const p = new FlameChartPlugin({ data: t.roots, name: 'thread' + i });
    p.on('select', (ev) => selectNode(ev && ev.node ? ev.node.source : null, t));
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
  const src = $('source');
  const where = sourceOf(name, state.model.fileInfo);
  const file = where && state.model.fileInfo.files && state.model.fileInfo.files[where.path];
  $('source-title').textContent = where ? where.path + ':' + where.line : 'no source (builtin or C function)';
  if (!file) return;
  const lines = String(file[0]).split('\n');
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

function search(term) {
  const q = term.trim().toLowerCase();
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

function drawFlamegraph() {
  const model = state.model;
  const which = $('fg-thread').value;
  const roots = which === 'all' ? model.threads.map((t) => t.roots) : [model.threads[+which].roots];
  const title = which === 'all' ? 'all threads' : model.threads[+which].title;
  const tree = aggregate(roots, title);
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
  else return;
  ev.preventDefault();
}

async function start() {
  const t0 = performance.now();
  setStatus('loading trace…');
  let loaded;
  try {
    loaded = await loadTrace();
  } catch (e) {
    fail('cannot load the trace: ' + e.message);
    return;
  }
  const model = buildModel(loaded.trace);
  loaded.trace = null;
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
  // One zoom and back while loading: flame-chart-js re-clusters every track
  // the first time the zoom changes, which would otherwise slow the first key.
  const initial = window.vt.view();
  state.chart.setZoom(initial.start, (initial.start + initial.end) / 2);
  await new Promise((r) => requestAnimationFrame(() => r()));
  state.chart.setZoom(initial.start, initial.end);
  setStatus(model.slices + ' slices in ' + model.threads.length + ' thread' + (model.threads.length === 1 ? '' : 's') +
    ', ' + formatUs(model.duration) + (model.metadata.overflow ? ' (buffer overflowed: oldest events lost)' : '') +
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
  if (loaded.info && loaded.info.is_flamegraph) showTab('flamegraph');
  selectNode(null, null);
  window.vt.ready = true;
  document.body.dataset.ready = '1';
}

start();
