// model.js: a Chrome trace (VizTracer's JSON) -> what the UI draws.
//
// One pass over traceEvents groups function slices ("X", and "B"/"E" pairs)
// by process and thread and nests them by time; instants become marks,
// counters become time series. Times are microseconds from the first event,
// so flame-chart-js works with small numbers. No DOM here.

const PALETTE = [
  '#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f',
  '#e15759', '#86bcb6', '#8cd17d', '#a0cbe8', '#ffbe7d', '#d4a6c8', '#b6992d',
];

export function colorOf(name) {
  // Functions keep their colour across threads and reloads: a hash of the
  // name without its "(file:line)" tail picks it.
  let h = 0;
  const end = name.indexOf(' (');
  const n = end > 0 ? end : name.length;
  for (let i = 0; i < n; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
  return PALETTE[(h >>> 0) % PALETTE.length];
}

function threadOf(threads, pid, tid) {
  const key = pid + ':' + tid;
  let t = threads.get(key);
  if (!t) {
    t = { key, pid, tid, name: null, slices: [], open: [], roots: [], count: 0, maxDepth: 0 };
    threads.set(key, t);
  }
  return t;
}

// Nests the thread's slices (sorted by start, longer first) into trees.
function nest(t) {
  const s = t.slices;
  s.sort((a, b) => a.start - b.start || b.duration - a.duration);
  const stack = [];
  for (const node of s) {
    while (stack.length && node.start >= stack[stack.length - 1].start + stack[stack.length - 1].duration) stack.pop();
    if (stack.length) {
      const parent = stack[stack.length - 1];
      (parent.children || (parent.children = [])).push(node);
      node.parent = parent;
    } else {
      t.roots.push(node);
    }
    stack.push(node);
    if (stack.length > t.maxDepth) t.maxDepth = stack.length;
  }
  t.count = s.length;
  t.slices = null;
}

export function buildModel(trace) {
  const events = Array.isArray(trace) ? trace : (trace && trace.traceEvents) || [];
  const fileInfo = (trace && trace.file_info) || { files: {}, functions: {} };
  const threads = new Map();
  const procNames = new Map();
  const instants = [];
  const counters = new Map(); // "pid name key" -> {name, points}
  let min = Infinity;
  let max = -Infinity;
  for (const e of events) {
    if (e == null || typeof e !== 'object') continue;
    const ts = +e.ts;
    if (e.ph !== 'M' && Number.isFinite(ts)) {
      if (ts < min) min = ts;
      const end = ts + Math.max(+e.dur || 0, 0); // as the slices clamp it
      if (end > max) max = end;
    }
  }
  if (!Number.isFinite(min)) { min = 0; max = 1; }
  const base = min;
  for (const e of events) {
    if (e == null || typeof e !== 'object') continue;
    const ph = e.ph;
    if (ph === 'X') {
      const t = threadOf(threads, e.pid, e.tid);
      const name = String(e.name);
      t.slices.push({ name, start: +e.ts - base, duration: Math.max(+e.dur || 0, 0), color: colorOf(name), ev: e });
    } else if (ph === 'B') {
      threadOf(threads, e.pid, e.tid).open.push(e);
    } else if (ph === 'E') {
      const t = threadOf(threads, e.pid, e.tid);
      const b = t.open.pop();
      if (b) {
        const name = String(b.name);
        t.slices.push({ name, start: +b.ts - base, duration: Math.max(+e.ts - +b.ts, 0), color: colorOf(name), ev: b });
      }
    } else if (ph === 'i' || ph === 'I' || ph === 'R') {
      instants.push({ name: String(e.name), ts: +e.ts - base, ev: e });
    } else if (ph === 'C') {
      const args = e.args || {};
      for (const k of Object.keys(args)) {
        const v = +args[k];
        if (!Number.isFinite(v)) continue;
        const id = e.pid + ' ' + e.name + ' ' + k;
        let c = counters.get(id);
        if (!c) {
          c = { name: k === e.name || k === 'value' ? String(e.name) : e.name + '.' + k, pid: e.pid, points: [] };
          counters.set(id, c);
        }
        c.points.push([+e.ts - base, v]);
      }
    } else if (ph === 'M') {
      const n = e.args && e.args.name;
      if (e.name === 'process_name') procNames.set(e.pid, n);
      else if (e.name === 'thread_name') threadOf(threads, e.pid, e.tid).name = n;
    }
  }
  let slices = 0;
  const list = [];
  for (const t of threads.values()) {
    // an unfinished "B" is shown up to the end of the trace
    for (const b of t.open) {
      const name = String(b.name);
      t.slices.push({ name, start: +b.ts - base, duration: max - +b.ts, color: colorOf(name), ev: b });
    }
    nest(t);
    slices += t.count;
    const proc = procNames.get(t.pid);
    t.title = (proc ? proc + ' ' : '') + 'pid ' + t.pid + ' / ' + (t.name || 'thread') + ' ' + t.tid + ' (' + t.count + ')';
    if (t.count > 0) list.push(t);
  }
  list.sort((a, b) => a.pid - b.pid || (a.tid === a.pid ? -1 : b.tid === b.pid ? 1 : a.tid - b.tid));
  for (const c of counters.values()) c.points.sort((a, b) => a[0] - b[0]);
  instants.sort((a, b) => a.ts - b.ts);
  return {
    threads: list, instants, counters: [...counters.values()], fileInfo,
    base, duration: max - min, slices, metadata: (trace && trace.viztracer_metadata) || {},
  };
}

export function selfTime(node) {
  let s = node.duration;
  if (node.children) for (const c of node.children) s -= c.duration;
  return Math.max(s, 0);
}

// Where a slice's function lives: [path, line] from file_info, else parsed
// from the "name (path:line)" form; null for builtins.
export function sourceOf(name, fileInfo) {
  const f = fileInfo.functions && fileInfo.functions[name];
  if (f) return { path: f[0], line: +f[1] };
  const m = /\((.*):([0-9]+)\)$/.exec(name);
  return m ? { path: m[1], line: +m[2] } : null;
}

// Call tree merged by name, for the flame graph: {name, value, children}.
export function aggregate(rootsList, title) {
  const top = { name: title, value: 0, children: [] };
  const index = new Map([[top, new Map()]]);
  const work = [];
  for (const roots of rootsList) for (const r of roots) work.push([r, top]);
  while (work.length) {
    const [node, into] = work.pop();
    let kids = index.get(into);
    let agg = kids.get(node.name);
    if (!agg) {
      agg = { name: node.name, value: 0, children: [] };
      kids.set(node.name, agg);
      into.children.push(agg);
      index.set(agg, new Map());
    }
    agg.value += node.duration;
    if (into === top) top.value += node.duration;
    if (node.children) for (const c of node.children) work.push([c, agg]);
  }
  return top;
}

export function formatUs(us) {
  if (!Number.isFinite(us)) return '-';
  const a = Math.abs(us);
  if (a >= 1e6) return (us / 1e6).toFixed(3) + ' s';
  if (a >= 1e3) return (us / 1e3).toFixed(3) + ' ms';
  return us.toFixed(3) + ' µs';
}

// A time on the axis: in ns, µs, ms or s by its size (or the step's, for 0),
// with 4 significant digits ("18.65 ms", "186.5 ms", "1.200 s"), more only
// when ticks `step` µs apart would otherwise read the same, and never finer
// than a nanosecond.
const UNITS = [[1e6, 's', 9], [1e3, 'ms', 6], [1, 'µs', 3], [1e-3, 'ns', 0]];

export function formatTime(us, step = 0) {
  if (!Number.isFinite(us)) return '-';
  const mag = Math.max(Math.abs(us), Math.abs(step) || 0);
  const [scale, unit, finest] = UNITS.find(([sc]) => mag >= sc) || UNITS[UNITS.length - 1];
  const v = us / scale;
  const a = Math.abs(v);
  let d = a > 0 ? 3 - Math.floor(Math.log10(a)) : 0;
  if (step > 0) d = Math.max(d, Math.ceil(-Math.log10(step / scale) - 1e-9));
  d = Math.min(Math.max(d, 0), finest);
  let text = v.toFixed(d);
  if (Number(text) === 0) text = text.replace('-', '');
  return text + ' ' + unit;
}

// The answer of /api/slices for one track (levels: one flat array each of
// stride numbers per item, [start, dur, name id, slice, n(, match)] with
// stride 6 when searching; names by id) -> the nested nodes flame-chart-js
// draws. Each item hangs under the item of the level above that holds its
// start (or the last one before it: a merged block may straddle two).
// Merged items (n > 1) are named after their first slice with "+N"; a
// search's items are yellow where they hold a match, else grey. A node also
// says where it came from (track, slice, n, base: its function's name).
// With rows (an array), also appends per level its nodes, by start, as
// flame-chart-js clusters of one node each (source and nodes: [itself], end,
// level, and reach: the latest end so far in the row, for rowInView): the
// server already merged what is under a pixel, so clustering every node
// again on every answer and frame would only cost time (RemoteFlamePlugin in
// main.js draws these). One object per item: an answer of 12,000 items made
// 4 before, and their allocation was most of its cost in the tab.
export function nestLevels(levels, names, track, stride, rows = null) {
  const roots = [];
  // an answer names few functions: each name's text and colour once
  const ctx = { names, track, stride, bases: new Map(), colors: new Map(), roots };
  let above = null;
  for (let d = 0; d < levels.length; d++) {
    above = nestRow(ctx, levels[d], d, above);
    if (rows) rows.push(above);
  }
  return roots;
}

// One level of nestLevels. A function of its own, so that V8 optimizes it
// whole: as the inner loop of nestLevels it ran as on-stack-replaced code
// that fell back to the interpreter at the end of every level.
function nestRow(ctx, v, d, above) {
  const row = [];
  const k = ctx.stride;
  const searching = k > 5;
  let p = 0;
  let reach = -Infinity;
  for (let i = 0; i + k <= v.length; i += k) {
    const id = v[i + 2];
    let base = ctx.bases.get(id);
    if (base === undefined) {
      base = String(ctx.names[id] ?? '');
      ctx.bases.set(id, base);
      ctx.colors.set(id, colorOf(base));
    }
    const n = v[i + 4];
    const start = v[i];
    const duration = v[i + 1];
    const end = start + duration;
    if (end > reach) reach = end;
    const node = {
      name: n > 1 ? base + ' +' + (n - 1) : base,
      start,
      duration,
      color: searching ? (v[i + 5] ? '#ffd400' : '#d8d8d8') : n > 1 ? '#a9b4c0' : ctx.colors.get(id),
      children: null,
      track: ctx.track,
      slice: v[i + 3],
      n,
      base,
      source: null,
      nodes: null,
      end,
      level: d,
      reach,
    };
    node.source = node;
    node.nodes = [node];
    if (d === 0) ctx.roots.push(node);
    else if (above.length) {
      while (p + 1 < above.length && above[p + 1].start <= start) p++;
      const parent = above[p];
      if (parent.children === null) parent.children = [node];
      else parent.children.push(node);
    } else ctx.roots.push(node);
    row.push(node);
  }
  return row;
}

// Runs nestLevels on a made-up answer (12 rows of 300 items, three times)
// so that V8 has optimized it before the first real answer: in Chromium the
// first answers of 12,000 items took 28-39 ms to nest, later ones 3-8 ms;
// after this, 5-10 ms (about 20 ms spent here, while the page loads).
export function warmNest() {
  const names = { 1: 'a', 2: 'b', 3: 'c', 4: 'd', 5: 'e', 6: 'f', 7: 'g' };
  for (let k = 0; k < 3; k++) {
    const levels = [];
    for (let d = 0; d < 12; d++) {
      const row = [];
      for (let i = 0; i < 300; i++) row.push(i * 10.5 + d, 5.25, (i % 7) + 1, i, i % 3 ? 1 : 4);
      levels.push(row);
    }
    nestLevels(levels, names, 0, 5, []);
  }
}

// The clusters of one row (from nestLevels) that meet [t0, t1): a binary
// search on reach for the first, then those starting before t1.
export function rowInView(row, t0, t1, out) {
  let lo = 0;
  let hi = row.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (row[m].reach <= t0) lo = m + 1;
    else hi = m;
  }
  for (let i = lo; i < row.length && row[i].start < t1; i++) if (row[i].end > t0) out.push(row[i]);
  return out;
}

// The functions of [t0, t1) on the chosen threads (indexes into threads), as
// the server's /api/area answers for a trace it indexed: [name, total, self,
// count] with times clipped to the range, sorted by key ('total', 'self',
// 'count' or 'name'). For the standalone report, which has no server.
export function areaRows(threads, chosen, t0, t1, key = 'total') {
  const acc = new Map();
  const clip = (n) => Math.max(0, Math.min(n.start + n.duration, t1) - Math.max(n.start, t0));
  for (const i of chosen) {
    const stack = [...threads[i].roots];
    while (stack.length) {
      const n = stack.pop();
      if (n.start >= t1 || n.start + n.duration <= t0) continue;
      const c = clip(n);
      let r = acc.get(n.name);
      if (!r) acc.set(n.name, (r = [n.name, 0, 0, 0]));
      r[1] += c;
      r[2] += c;
      r[3]++;
      if (n.children) for (const ch of n.children) { r[2] -= clip(ch); stack.push(ch); }
    }
  }
  const rows = [...acc.values()];
  const col = { total: 1, self: 2, count: 3 }[key];
  rows.sort(key === 'name' ? (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0) : (a, b) => b[col] - a[col] || (a[0] < b[0] ? -1 : 1));
  return rows;
}
