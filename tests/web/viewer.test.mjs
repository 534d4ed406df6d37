// viewer.test.mjs: vizviewer's UI in headless Chromium (Debian's chromium,
// driven by npm playwright-core from third_party/npm).
//
// One browser for the whole file. Loads a real trace (two threads) from the
// server and from a standalone HTML report, checks tracks and slice count,
// clicks a slice (details + highlighted source), presses W (zoom changes),
// opens the flame graph, and fails on any page error. Screenshots go to
// $VIEWER_SHOTS (make test-web: build/web-shots/).
// Env: VIZTRACER_BIN, the executable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, '../../third_party/npm/package.json'));
const { chromium } = require('playwright-core');

const BIN = process.env.VIZTRACER_BIN || resolve(here, '../../build/bin/viztracer');
const SHOTS = process.env.VIEWER_SHOTS || resolve(here, '../../build/web-shots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let dir;
let browser;
let tracePath;
let sliceCount;

const SCRIPT = `
import threading
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
def work():
    fib(10)
t = threading.Thread(target=work, name="worker")
t.start()
fib(12)
t.join()
`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vt-web-'));
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(join(dir, 'prog.py'), SCRIPT);
  tracePath = join(dir, 'trace.json');
  const run = spawnSync(BIN, ['-o', tracePath, 'prog.py'], { cwd: dir, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const trace = JSON.parse(readFileSync(tracePath, 'utf8'));
  sliceCount = trace.traceEvents.filter((e) => e.ph === 'X').length;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Starts `viztracer view -s -p 0 path`; resolves with {url, proc} once it prints its URL.
function serve(path, extra = []) {
  return new Promise((ok, fail) => {
    const proc = spawn(BIN, ['view', '-s', '-p', '0', ...extra, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { proc.kill(); fail(new Error('no URL within 20 s: ' + out)); }, 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /view your trace on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok({ url: m[1].replace('localhost', '127.0.0.1'), proc });
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); fail(new Error('vizviewer exited ' + code + ': ' + out)); });
  });
}

async function openPage(url) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' || /MaxListeners/.test(m.text())) errors.push(m.text()); });
  await page.goto(url);
  await page.waitForFunction(() => window.vt && (window.vt.ready || window.vt.error), null, { timeout: 20000 });
  assert.equal(await page.evaluate(() => window.vt.error), null);
  return { page, errors };
}

async function checkTracks(page) {
  const info = await page.evaluate(() => ({
    slices: window.vt.state.model.slices,
    titles: window.vt.state.model.threads.map((t) => t.title),
  }));
  assert.equal(info.slices, sliceCount);
  assert.equal(info.titles.length, 2);
  assert.ok(info.titles.some((t) => t.includes('worker')), info.titles.join(', '));
}

test('served trace: tracks, click, source, W zoom, flame graph', async () => {
  const { url, proc } = await serve(tracePath);
  try {
    const { page, errors } = await openPage(url);
    await checkTracks(page);
    // click the main thread's <module> slice of prog.py
    const pt = await page.evaluate(() => window.vt.slicePoint(0, window.vt.findPath(0, 'prog.py')));
    assert.match(pt.name, /prog\.py/);
    const box = await page.locator('#canvas').boundingBox();
    await page.mouse.click(box.x + pt.x, box.y + pt.y);
    await page.waitForFunction((n) => document.getElementById('detail-name').textContent === n, pt.name);
    const details = await page.locator('#detail-table').innerText();
    assert.match(details, /duration/);
    assert.match(details, /self time/);
    assert.match(await page.locator('#source-title').innerText(), /prog\.py:\d+/);
    assert.equal(await page.locator('#source .line.hl').count(), 1);
    assert.ok((await page.locator('#source').innerText()).includes('def fib(n):'));
    await page.screenshot({ path: join(SHOTS, 'timeline.png') });
    // W zooms in around the middle
    const before = await page.evaluate(() => window.vt.view());
    await page.keyboard.press('w');
    const afterW = await page.evaluate(() => window.vt.view());
    assert.ok(afterW.end - afterW.start < before.end - before.start, JSON.stringify([before, afterW]));
    // ? shows the help overlay, Escape hides it
    await page.keyboard.press('?');
    assert.equal(await page.locator('#help').isVisible(), true);
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#help').isVisible(), false);
    // search highlights fib
    await page.fill('#search', 'fib');
    await page.waitForFunction(() => /match/.test(document.getElementById('matches').textContent));
    assert.ok(await page.evaluate(() => window.vt.state.matches) > 10);
    const hl = await page.evaluate(() => window.vt.state.model.threads[0].roots[0].color);
    assert.ok(hl === '#ffd400' || hl === '#d8d8d8', hl);
    // flame graph
    await page.click('#tab-flamegraph');
    await page.waitForSelector('#flamegraph svg g');
    assert.ok(await page.locator('#flamegraph svg g').count() > 3);
    assert.match(await page.locator('#flamegraph svg').innerHTML(), /all threads/);
    await page.screenshot({ path: join(SHOTS, 'flamegraph.png') });
    // one thread only: the worker's flame graph has no <module> frame
    await page.selectOption('#fg-thread', '1');
    await page.waitForFunction(() => !/all threads/.test(document.querySelector('#flamegraph svg').innerHTML));
    const svg = await page.locator('#flamegraph svg').innerHTML();
    assert.match(svg, /worker/);
    assert.doesNotMatch(svg, /&lt;module&gt;/);
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    proc.kill('SIGINT');
  }
});

test('standalone HTML report opens from file://', async () => {
  const html = join(dir, 'report.html');
  const run = spawnSync(BIN, ['view', '--export_html', html, tracePath], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const { page, errors } = await openPage('file://' + html);
  await checkTracks(page);
  await page.screenshot({ path: join(SHOTS, 'standalone.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('instants, counters, B/E slices and args', async () => {
  const trace = {
    traceEvents: [
      { ph: 'M', pid: 1, tid: 1, name: 'thread_name', args: { name: 'MainThread' } },
      { ph: 'M', pid: 1, tid: 2, name: 'thread_name', args: { name: 'task-one' } },
      { ph: 'X', pid: 1, tid: 1, ts: 1000, dur: 100, cat: 'fee', name: 'outer (/x/a.py:1)',
        args: { func_args: { n: '3' }, return_value: '6' } },
      { ph: 'X', pid: 1, tid: 1, ts: 1010, dur: 50, cat: 'fee', name: 'builtins.len' },
      { ph: 'B', pid: 1, tid: 2, ts: 1020, name: 'task (/x/a.py:4)' },
      { ph: 'E', pid: 1, tid: 2, ts: 1080 },
      { ph: 'i', pid: 1, tid: 1, ts: 1030, name: 'my instant', s: 'p', args: { a: 1 } },
      { ph: 'C', pid: 1, tid: 1, ts: 1000, name: 'mem', args: { rss: 10 } },
      { ph: 'C', pid: 1, tid: 1, ts: 1050, name: 'mem', args: { rss: 30 } },
      { ph: 'C', pid: 1, tid: 1, ts: 1090, name: 'mem', args: { rss: 20 } },
      { ph: 'N', pid: 1, tid: 1, ts: 1000, id: '7', name: 'obj' },
    ],
    viztracer_metadata: { version: 'test' },
    file_info: {
      files: { '/x/a.py': ['def outer(n):\n    return len("x") * n\n\ndef task():\n    pass\n', 5] },
      functions: { 'outer (/x/a.py:1)': ['/x/a.py', 1], 'task (/x/a.py:4)': ['/x/a.py', 4] },
    },
  };
  const path = join(dir, 'synthetic.json');
  writeFileSync(path, JSON.stringify(trace));
  const { url, proc } = await serve(path, ['--flamegraph']);
  try {
    const { page, errors } = await openPage(url);
    const m = await page.evaluate(() => {
      const s = window.vt.state;
      return { slices: s.model.slices, threads: s.model.threads.length, instants: s.model.instants.length,
        counters: s.model.counters.map((c) => c.name + ':' + c.points.length), tab: s.tab };
    });
    assert.deepEqual(m, { slices: 3, threads: 2, instants: 1, counters: ['mem.rss:3'], tab: 'flamegraph' });
    await page.click('#tab-timeline');
    const pt = await page.evaluate(() => window.vt.slicePoint(1, [0]));
    const box = await page.locator('#canvas').boundingBox();
    await page.mouse.click(box.x + pt.x, box.y + pt.y);
    await page.waitForFunction(() => document.getElementById('detail-name').textContent.startsWith('task'));
    assert.match(await page.locator('#source .line.hl').innerText(), /def task/);
    const outer = await page.evaluate(() => window.vt.slicePoint(0, [0]));
    await page.mouse.click(box.x + outer.x, box.y + outer.y);
    await page.waitForFunction(() => document.getElementById('detail-name').textContent.startsWith('outer'));
    const details = await page.locator('#detail-table').innerText();
    assert.match(details, /func_args/);
    assert.match(details, /return_value\s+6/);
    assert.match(details, /self time\s+50\.000 µs/);
    await page.screenshot({ path: join(SHOTS, 'synthetic.png') });
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    proc.kill('SIGINT');
  }
});

test('flame graph opens with its roots in view', async () => {
  // 150 nested calls: a graph several times taller than the page, roots at its bottom
  const deep = 'import sys\nsys.setrecursionlimit(1000)\ndef down(n):\n    return 0 if n == 0 else down(n - 1) + 1\ndown(150)\n';
  writeFileSync(join(dir, 'deep.py'), deep);
  const path = join(dir, 'deep.json');
  const run = spawnSync(BIN, ['-o', path, 'deep.py'], { cwd: dir, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const { url, proc } = await serve(path, ['--flamegraph']);
  try {
    const { page, errors } = await openPage(url);
    await page.waitForSelector('#flamegraph svg g');
    const geo = await page.evaluate(() => {
      const view = document.getElementById('flamegraph-view').getBoundingClientRect();
      const rects = [...document.querySelectorAll('#flamegraph svg g rect')].map((r) => r.getBoundingClientRect());
      const root = rects.reduce((a, r) => (r.bottom > a.bottom ? r : a));
      const svg = document.querySelector('#flamegraph svg').getBoundingClientRect();
      return { viewTop: view.top, viewBottom: view.bottom, rootTop: root.top, rootBottom: root.bottom, svgHeight: svg.height };
    });
    assert.ok(geo.svgHeight > 2 * (geo.viewBottom - geo.viewTop), JSON.stringify(geo)); // else the test proves nothing
    assert.ok(geo.rootTop >= geo.viewTop && geo.rootBottom <= geo.viewBottom, JSON.stringify(geo));
    await page.screenshot({ path: join(SHOTS, 'flamegraph-deep.png') });
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    proc.kill('SIGINT');
  }
});
