// model.test.mjs: unit tests of viewer/web/model.js (what the UI draws from a
// trace) under node's own test runner; no browser, no build.
//
//   node --test tests/web/model.test.mjs      (make test-web runs it)
//
// Expected values are worked out by hand from the traces below: the nesting
// of slices by time, the thread order and titles, counters, instants, the
// merged call tree of the flame graph and the number formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  aggregate, areaRows, buildModel, colorOf, formatTime, formatUs, nestLevels, rowInView, selfTime, sourceOf,
} from '../../viewer/web/model.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIB015 = resolve(here, '../data/vdb/fib015.json');

// Floating-point sums of microseconds: equal to a nanosecond.
function near(actual, expected, what) {
  assert.ok(Math.abs(actual - expected) < 1e-3, `${what}: ${actual} != ${expected}`);
}

// A node's subtree as [name, start, duration, [children...]] for deepEqual.
function shape(node) {
  const kids = (node.children || []).map(shape);
  return [node.name, +node.start.toFixed(3), +node.duration.toFixed(3), kids];
}

function x(name, ts, dur, extra = {}) {
  return { ph: 'X', pid: 1, tid: 1, name, ts, dur, ...extra };
}

test('fib015.json: one thread, slices nested by time, base and duration', () => {
  const model = buildModel(JSON.parse(readFileSync(FIB015, 'utf8')));
  assert.equal(model.threads.length, 1);
  assert.equal(model.slices, 6);
  near(model.base, 98.5, 'base (the first event)');
  near(model.duration, 10, 'duration (first start to last end)');
  const t = model.threads[0];
  assert.equal(t.title, 'MainProcess pid 4242 / MainThread 4242 (6)');
  assert.equal(t.count, 6);
  assert.equal(t.maxDepth, 4);
  assert.equal(t.slices, null, 'the flat list is dropped once nested');
  assert.equal(t.roots.length, 1);
  const fib = 'fib (@DIR@/fib015.py:1)';
  assert.deepEqual(shape(t.roots[0]), [
    'builtins.exec', 0, 10, [
      ['<module> (@DIR@/fib015.py:1)', 0.5, 9, [
        [fib, 1.3, 2, [[fib, 1.6, 0.5, []], [fib, 2.5, 0.4, []]]],
        ['builtins.print', 3.7, 5, []],
      ]],
    ],
  ]);
  const outer = t.roots[0].children[0].children[0];
  assert.equal(outer.children[0].parent, outer);
  assert.equal(outer.parent.parent, t.roots[0]);
  assert.equal(t.roots[0].parent, undefined);
  assert.equal(outer.ev.ts, 99.8, 'a slice keeps its event for the details pane');
  near(selfTime(outer), 1.1, 'fib(2) self time');
  assert.deepEqual(model.counters, [{ name: 'fibs.calls', pid: 4242, points: [[4.5, 3]] }]);
  assert.deepEqual(model.instants, []);
  assert.deepEqual(model.fileInfo, { files: {}, functions: {} });
  assert.equal(model.metadata.version, JSON.parse(readFileSync(FIB015, 'utf8')).viztracer_metadata.version);
});

test('slices starting together: the longer one is the parent; one ending where the next starts is its sibling', () => {
  const model = buildModel({
    traceEvents: [x('inner', 10, 2), x('outer', 10, 5), x('next', 15, 1), x('neg', 20, -3)],
  });
  const roots = model.threads[0].roots;
  assert.deepEqual(roots.map(shape), [
    ['outer', 0, 5, [['inner', 0, 2, []]]],
    ['next', 5, 1, []],
    ['neg', 10, 0, []],
  ]);
  assert.equal(model.threads[0].maxDepth, 2);
  near(model.duration, 10, 'a negative duration does not extend the trace');
});

test('B/E pairs nest like X slices; an E closes the latest B; an unfinished B runs to the end', () => {
  const model = buildModel({
    traceEvents: [
      { ph: 'E', pid: 1, tid: 1, ts: 0 }, // no B open: ignored
      { ph: 'B', pid: 1, tid: 1, ts: 1, name: 'a' },
      { ph: 'B', pid: 1, tid: 1, ts: 2, name: 'b' },
      { ph: 'E', pid: 1, tid: 1, ts: 4 },
      { ph: 'E', pid: 1, tid: 1, ts: 6 },
      { ph: 'B', pid: 1, tid: 1, ts: 7, name: 'open' },
      x('last', 8, 4),
    ],
  });
  assert.equal(model.slices, 4);
  near(model.base, 0, 'the stray E still counts as the first event');
  assert.deepEqual(model.threads[0].roots.map(shape), [
    ['a', 1, 5, [['b', 2, 2, []]]],
    ['open', 7, 5, [['last', 8, 4, []]]],
  ]);
  assert.equal(model.threads[0].roots[0].ev.ts, 1, 'a B/E slice keeps its B event');
});

test('threads: ordered by pid, the main thread first; titles from metadata; empty threads left out', () => {
  const ev = (pid, tid, ts) => ({ ph: 'X', pid, tid, ts, dur: 1, name: 'f' });
  const model = buildModel({
    traceEvents: [
      { ph: 'M', pid: 20, tid: 20, name: 'process_name', args: { name: 'Child' } },
      { ph: 'M', pid: 10, tid: 12, name: 'thread_name', args: { name: 'worker' } },
      { ph: 'M', pid: 10, tid: 99, name: 'thread_name', args: { name: 'idle' } },
      ev(20, 25, 5), ev(10, 12, 1), ev(20, 20, 6), ev(10, 11, 2), ev(10, 10, 3), ev(10, 12, 4),
    ],
  });
  assert.deepEqual(model.threads.map((t) => t.title), [
    'pid 10 / thread 10 (1)',
    'pid 10 / thread 11 (1)',
    'pid 10 / worker 12 (2)',
    'Child pid 20 / thread 20 (1)',
    'Child pid 20 / thread 25 (1)',
  ]);
  assert.equal(model.slices, 6);
});

test('instants: i, I and R events, by time, relative to the first event', () => {
  const model = buildModel({
    traceEvents: [
      x('f', 100, 10),
      { ph: 'i', pid: 1, tid: 1, ts: 108, name: 'late', args: { a: 1 } },
      { ph: 'I', pid: 1, tid: 1, ts: 102, name: 'early' },
      { ph: 'R', pid: 1, tid: 1, ts: 105, name: 'mark' },
    ],
  });
  assert.deepEqual(model.instants.map((m) => [m.name, m.ts]), [['early', 2], ['mark', 5], ['late', 8]]);
  assert.deepEqual(model.instants[2].ev.args, { a: 1 });
  assert.equal(model.slices, 1, 'instants are not slices');
});

test('counters: one series per pid, name and key; numbers only; points sorted by time', () => {
  const c = (pid, ts, name, args) => ({ ph: 'C', pid, tid: pid, ts, name, args });
  const model = buildModel({
    traceEvents: [
      c(1, 30, 'mem', { rss: 3, heap: '7' }),
      c(1, 10, 'mem', { rss: 1, heap: 'n/a' }),
      c(2, 20, 'mem', { rss: 5 }),
      c(1, 20, 'load', { value: 0.5 }),
      c(1, 25, 'x', { x: 9 }),
    ],
  });
  assert.deepEqual(model.counters.map((s) => [s.name, s.pid, s.points]), [
    ['mem.rss', 1, [[0, 1], [20, 3]]],
    ['mem.heap', 1, [[20, 7]]],
    ['mem.rss', 2, [[10, 5]]],
    ['load', 1, [[10, 0.5]]],
    ['x', 1, [[15, 9]]],
  ]);
  assert.deepEqual(model.threads, [], 'counters alone make no thread track');
});

test('odd input: a bare event array, null and non-object entries, no events at all', () => {
  const arr = buildModel([null, 7, 'x', x('f', 5, 2)]);
  assert.equal(arr.slices, 1);
  near(arr.base, 5, 'base');
  near(arr.duration, 2, 'duration');
  assert.deepEqual(arr.metadata, {});

  for (const empty of [{}, { traceEvents: [] }, null, []]) {
    const m = buildModel(empty);
    assert.deepEqual([m.base, m.duration, m.slices, m.threads, m.instants, m.counters],
      [0, 1, 0, [], [], []], JSON.stringify(empty));
  }
  // metadata events carry no time: they neither start nor end the trace
  const meta = buildModel({
    traceEvents: [{ ph: 'M', pid: 1, tid: 1, ts: 0, name: 'process_name', args: { name: 'P' } }, x('f', 50, 1)],
    file_info: { files: { 'a.py': ['x = 1\n', 1] }, functions: {} },
    viztracer_metadata: { overflow: true },
  });
  near(meta.base, 50, 'base ignores metadata');
  assert.equal(meta.metadata.overflow, true);
  assert.deepEqual(Object.keys(meta.fileInfo.files), ['a.py']);
});

test('selfTime: the duration less the children, never below zero', () => {
  assert.equal(selfTime({ duration: 7 }), 7);
  assert.equal(selfTime({ duration: 10, children: [{ duration: 3 }, { duration: 4 }] }), 3);
  assert.equal(selfTime({ duration: 1, children: [{ duration: 3 }] }), 0);
});

test('sourceOf: file_info first, else the "(path:line)" tail, null for builtins', () => {
  const info = { files: {}, functions: { 'f (a.py:3)': ['/src/a.py', '30'] } };
  assert.deepEqual(sourceOf('f (a.py:3)', info), { path: '/src/a.py', line: 30 });
  assert.deepEqual(sourceOf('g (/x/b.py:12)', info), { path: '/x/b.py', line: 12 });
  assert.deepEqual(sourceOf('h (C:/dir (1)/c.py:7)', { files: {} }), { path: 'C:/dir (1)/c.py', line: 7 });
  assert.deepEqual(sourceOf('<lambda> (d.py:1)', {}), { path: 'd.py', line: 1 });
  assert.equal(sourceOf('builtins.print', info), null);
  assert.equal(sourceOf('f (a.py:x)', {}), null);
});

test('aggregate: the call tree merged by name under the same parent, durations summed', () => {
  const model = buildModel({
    traceEvents: [
      x('main', 0, 10), x('f', 1, 2), x('g', 1.5, 1), x('f', 4, 3), x('g', 5, 1), x('h', 8, 1),
      x('main', 20, 4, { tid: 2 }), x('f', 21, 1, { tid: 2 }),
      x('g', 30, 2, { tid: 2 }),
    ],
  });
  const tree = aggregate(model.threads.map((t) => t.roots), 'all threads');
  const flat = (n) => [n.name, n.value, n.children.map(flat).sort((a, b) => (a[0] < b[0] ? -1 : 1))];
  assert.deepEqual(flat(tree), [
    'all threads', 16, [
      ['g', 2, []],
      ['main', 14, [
        ['f', 6, [['g', 2, []]]],
        ['h', 1, []],
      ]],
    ],
  ]);
  const one = aggregate([model.threads[0].roots], 'thread 1');
  assert.equal(one.value, 10);
  assert.equal(one.children.length, 1);
  assert.equal(model.threads[0].roots[0].children.length, 3, 'the input tree is left as it was');
});

test('colorOf: a palette colour per function name, the same whatever its (file:line)', () => {
  const c = colorOf('work (/a/b.py:10)');
  assert.match(c, /^#[0-9a-f]{6}$/);
  assert.equal(colorOf('work (/other/file.py:99)'), c);
  assert.equal(colorOf('work'), c);
  assert.equal(colorOf('work (/a/b.py:10)'), c, 'stable across calls');
  const names = ['a', 'b', 'c', 'main', 'fib', 'builtins.print', 'json.dumps', '<module>'];
  assert.ok(new Set(names.map(colorOf)).size > 3, 'different names spread over the palette');
  const model = buildModel({ traceEvents: [x('fib (f.py:1)', 0, 1)] });
  assert.equal(model.threads[0].roots[0].color, colorOf('fib'));
});

test('formatUs: microseconds, milliseconds or seconds with three decimals', () => {
  assert.equal(formatUs(0), '0.000 µs');
  assert.equal(formatUs(999.5), '999.500 µs');
  assert.equal(formatUs(1000), '1.000 ms');
  assert.equal(formatUs(1234.5678), '1.235 ms');
  assert.equal(formatUs(2.5e6), '2.500 s');
  assert.equal(formatUs(-1500), '-1.500 ms');
  assert.equal(formatUs(NaN), '-');
  assert.equal(formatUs(Infinity), '-');
});

test('formatTime: the axis in ns, µs, ms or s with 4 significant digits', () => {
  assert.equal(formatTime(18650, 5000), '18.65 ms');
  assert.equal(formatTime(186503, 50000), '186.5 ms');
  assert.equal(formatTime(1.2e6, 1e5), '1.200 s');
  assert.equal(formatTime(12.5, 2), '12.50 µs');
  assert.equal(formatTime(0.25, 0.05), '250 ns');
  assert.equal(formatTime(999.5, 100), '999.5 µs');
  assert.equal(formatTime(0, 5000), '0 ms');
  assert.equal(formatTime(0, 0), '0 ns');
  assert.equal(formatTime(-1500, 500), '-1.500 ms');
  // ticks closer than the 4 digits resolve get the digits that tell them apart
  assert.equal(formatTime(186503.1, 0.2), '186.5031 ms');
  assert.equal(formatTime(186503.3, 0.2), '186.5033 ms');
  // never finer than a nanosecond
  assert.equal(formatTime(3.14159e6, 1e-4), '3.141590000 s');
  assert.equal(formatTime(0.0004, 0.0001), '0 ns');
  assert.equal(formatTime(NaN), '-');
});

test('nestLevels: items under the item above that holds their start; merged ones named +N', () => {
  const names = { 1: 'main', 2: 'a', 3: 'b' };
  const levels = [
    [0, 100, 1, 0, 1],
    [0, 40, 2, 1, 1, 50, 50, 3, 7, 1],
    [1, 30, 2, 2, 12, 60, 10, 3, 9, 1],
  ];
  const roots = nestLevels(levels, names, 3, 5);
  assert.equal(roots.length, 1);
  assert.deepEqual(roots[0].children.map((c) => c.name), ['a', 'b']);
  assert.deepEqual(roots[0].children[0].children.map((c) => [c.name, c.n, c.slice, c.track]), [['a +11', 12, 2, 3]]);
  assert.deepEqual(roots[0].children[1].children.map((c) => c.name), ['b']);
  assert.equal(roots[0].children[0].children[0].color, '#a9b4c0');
  const hit = nestLevels([[0, 1, 1, 0, 1, 1, 2, 1, 2, 1, 1, 0]], names, 0, 6);
  assert.deepEqual(hit.map((n) => n.color), ['#ffd400', '#d8d8d8']);
});

test('nestLevels: its rows are one-node clusters of each level\'s nodes, by start', () => {
  const names = { 1: 'main', 2: 'a', 3: 'b' };
  const levels = [
    [0, 100, 1, 0, 1, 200, 50, 1, 1, 1],
    [0, 40, 2, 1, 1, 50, 50, 3, 7, 1, 200, 10, 2, 8, 3],
    [1, 30, 2, 2, 12, 60, 10, 3, 9, 1, 201, 2, 3, 10, 1],
  ];
  const rows = [];
  const roots = nestLevels(levels, names, 0, 5, rows);
  // the nodes of each level, walked from the roots
  const byLevel = [];
  const walk = (list, level) => list.forEach((n) => {
    (byLevel[level] || (byLevel[level] = [])).push(n);
    if (n.children) walk(n.children, level + 1);
  });
  walk(roots, 0);
  assert.equal(rows.length, 3);
  rows.forEach((row, d) => {
    assert.deepEqual(row.map((c) => c.source), byLevel[d].sort((x, y) => x.start - y.start));
    for (const c of row) {
      assert.deepEqual([c.start, c.end, c.duration, c.level, c.color],
        [c.source.start, c.source.start + c.source.duration, c.source.duration, d, c.source.color]);
      assert.deepEqual(c.nodes, [c]);
    }
  });
  assert.deepEqual(rows[1].map((c) => c.reach), [40, 100, 210]);
});

test('rowInView: the clusters meeting [t0, t1), also behind a long one', () => {
  const mk = (start, end) => ({ start, end });
  // a long item first: later short ones end before it does
  const row = [mk(0, 100), mk(10, 20), mk(30, 40), mk(120, 130), mk(140, 200)];
  let reach = -Infinity;
  for (const c of row) c.reach = reach = Math.max(reach, c.end);
  const brute = (t0, t1) => row.filter((c) => c.start < t1 && c.end > t0);
  for (const [t0, t1] of [[0, 5], [25, 28], [50, 125], [100, 120], [131, 139], [199, 500], [200, 300], [-5, 0]]) {
    assert.deepEqual(rowInView(row, t0, t1, []), brute(t0, t1), `[${t0}, ${t1})`);
  }
});

test('areaRows: clipped total, self less the children, count, sorted by the key', () => {
  const trace = {
    traceEvents: [
      { ph: 'X', pid: 1, tid: 1, ts: 0, dur: 100, name: 'main' },
      { ph: 'X', pid: 1, tid: 1, ts: 10, dur: 20, name: 'f' },
      { ph: 'X', pid: 1, tid: 1, ts: 50, dur: 40, name: 'f' },
      { ph: 'X', pid: 1, tid: 1, ts: 55, dur: 10, name: 'g' },
    ],
  };
  const m = buildModel(trace);
  const rows = areaRows(m.threads, [0], 20, 60);
  assert.deepEqual(rows, [['main', 40, 20, 1], ['f', 20, 15, 2], ['g', 5, 5, 1]]);
  assert.deepEqual(areaRows(m.threads, [0], 20, 60, 'count').map((r) => r[0]), ['f', 'g', 'main']);
  assert.deepEqual(areaRows(m.threads, [0], 20, 60, 'name').map((r) => r[0]), ['f', 'g', 'main']);
});
