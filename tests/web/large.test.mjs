// large.test.mjs: the large-trace path of vizviewer's UI in headless
// Chromium: the page never loads the trace, it asks the server's index
// (/api/...) for what is on screen. A generated trace (bench/gen_trace.py)
// is kept small; VIZVIEWER_WHOLE_MAX_MB=0 makes the server treat it as
// large. Checks: tracks from the index, narrow slices merged at the
// overview and single at a deep zoom, a click's details and source from the
// server, the area-selection table and its sorting, search, the flame graph.
// Env: VIZTRACER_BIN, the executable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, '../../third_party/npm/package.json'));
const { chromium } = require('playwright-core');

const BIN = process.env.VIZTRACER_BIN || resolve(here, '../../build/bin/viztracer');
const SHOTS = process.env.VIEWER_SHOTS || resolve(here, '../../build/web-shots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const GEN = resolve(here, '../../bench/gen_trace.py');

let dir;
let browser;
let tracePath;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vt-web-large-'));
  mkdirSync(SHOTS, { recursive: true });
  tracePath = join(dir, 'big.json');
  const gen = spawnSync('/usr/bin/python3', [GEN, '-n', '80000', '--threads', '2', '-o', tracePath], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
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

function serve(path, extra = []) {
  return new Promise((ok, fail) => {
    const proc = spawn(BIN, ['view', '-s', '-p', '0', ...extra, path], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VIZVIEWER_WHOLE_MAX_MB: '0' },
    });
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

async function idle(page) {
  await page.waitForFunction(() => window.vt.idle(), null, { timeout: 20000 });
}

// Every node drawn for track 0: {name, n, w (px), path}.
function nodes(page) {
  return page.evaluate(() => {
    const out = [];
    const e = window.vt.state.chart.renderEngine;
    const walk = (list, path) => list.forEach((n, i) => {
      out.push({ name: n.name, n: n.n, w: n.duration * e.zoom, start: n.start, end: n.start + n.duration,
        path: [...path, i] });
      if (n.children) walk(n.children, [...path, i]);
    });
    walk(window.vt.state.model.threads[0].roots, []);
    return out;
  });
}

test('large trace: index, merging, zoom, details, area selection, search, flame graph', async () => {
  const { url, proc } = await serve(tracePath);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error' || /MaxListeners/.test(m.text())) errors.push(m.text()); });
    const asked = [];
    page.on('request', (r) => asked.push(new URL(r.url()).pathname));
    await page.goto(url);
    await page.waitForFunction(() => window.vt && (window.vt.ready || window.vt.error), null, { timeout: 30000 });
    assert.equal(await page.evaluate(() => window.vt.error), null);
    assert.equal(await page.evaluate(() => window.vt.remote), true);
    assert.ok(!asked.includes('/localtrace'), 'the page asked for the whole trace');
    assert.match(await page.locator('#status').innerText(), /indexed by the server/);
    const titles = await page.evaluate(() => window.vt.state.model.threads.map((t) => t.title));
    assert.equal(titles.length, 2);
    assert.match(titles[0], /MainThread/);
    await idle(page);
    // the overview: the 1 µs leaves are merged into blocks of many
    let all = await nodes(page);
    assert.ok(all.some((n) => n.n > 10 && /^leaf/.test(n.name)), 'no merged leaves');
    assert.ok(all.length < 20000, 'far more nodes than pixels: ' + all.length);
    // zoom in deep with W: the data follows, the leaves become single slices
    const frames0 = await page.evaluate(() => window.vt.state.remote.frames);
    for (let i = 0; i < 30; i++) await page.keyboard.press('w');
    await idle(page);
    assert.ok(await page.evaluate(() => window.vt.state.remote.frames) > frames0);
    all = await nodes(page);
    const v = await page.evaluate(() => window.vt.view());
    const visible = all.filter((n) => n.end > v.start && n.start < v.end);
    assert.ok(visible.some((n) => n.n === 1 && /^leaf/.test(n.name)), 'no single leaf at a deep zoom');
    // what a frame draws: the nodes of the data in view, each once (the
    // plugin's binary search per level against a walk of them all)
    const drawn = await page.evaluate(() => {
      const p = window.vt.state.plugins[0];
      const e = p.renderEngine;
      const t0 = e.positionX;
      const t1 = t0 + e.getRealView();
      const want = [];
      const walk = (list) => list.forEach((n) => {
        if (n.start < t1 && n.start + n.duration > t0) want.push(n);
        if (n.children) walk(n.children);
      });
      walk(window.vt.state.model.threads[0].roots);
      const got = p.actualClusterizedFlatTree.map((c) => c.nodes[0].source);
      const key = (n) => n.level + ':' + n.start;
      return { want: want.map(key).sort(), got: got.map(key).sort(), n: got.length };
    });
    assert.ok(drawn.n > 0, 'nothing drawn');
    assert.deepEqual(drawn.got, drawn.want);
    // click a single wide slice: details and source come from the server
    const target = visible.find((n) => n.n === 1 && /^work/.test(n.name) && n.w > 30);
    assert.ok(target, 'no wide work slice in view');
    const pt = await page.evaluate((p) => window.vt.slicePoint(0, p), target.path);
    const box = await page.locator('#canvas').boundingBox();
    await page.mouse.click(box.x + pt.x, box.y + pt.y);
    await page.waitForFunction(() => /^work/.test(document.getElementById('detail-name').textContent));
    await page.waitForFunction(() => /self time/.test(document.getElementById('detail-table').innerText));
    assert.match(await page.locator('#source-title').innerText(), /prog\.py:5/);
    assert.equal(await page.locator('#source .line.hl').count(), 1);
    // area selection: Shift+drag over the first track
    await page.keyboard.press('0');
    await idle(page);
    const y = await page.evaluate(() => {
      const e = window.vt.state.plugins[0].renderEngine;
      return { top: e.position + 2, bottom: e.position + Math.min(e.height, 60) - 2 };
    });
    await page.keyboard.down('Shift');
    await page.mouse.move(box.x + 100, box.y + y.top);
    await page.mouse.down();
    await page.mouse.move(box.x + 600, box.y + y.bottom, { steps: 5 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await page.waitForFunction(() => window.vt.state.area && window.vt.state.area.rows.length > 0);
    const area = await page.evaluate(() => window.vt.state.area);
    assert.deepEqual(area.tracks, [0]);
    assert.ok(area.rows.some((r) => /^work/.test(r[0])));
    assert.ok(await page.locator('#detail-table tr.area-row').count() >= 3);
    await page.screenshot({ path: join(SHOTS, 'large-area.png') });
    const shown = await page.evaluate(() => window.vt.state.areaShown);
    await page.click('#detail-table th[data-sort="count"]');
    await page.waitForFunction((n) => window.vt.state.areaShown > n, shown);
    const counts = await page.evaluate(() => window.vt.state.area.rows.map((r) => r[3]));
    assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
    assert.equal(await page.evaluate(() => window.vt.state.area.sort), 'count');
    // search: counted by the server, matches drawn yellow
    await page.fill('#search', 'leaf');
    await page.waitForFunction(() => /match/.test(document.getElementById('matches').textContent));
    await idle(page);
    assert.ok(await page.evaluate(() => window.vt.state.matches) > 1000);
    const colors = await page.evaluate(() => {
      const out = new Set();
      const walk = (l) => l.forEach((n) => { out.add(n.color); if (n.children) walk(n.children); });
      walk(window.vt.state.model.threads[0].roots);
      return [...out];
    });
    assert.ok(colors.includes('#ffd400') && colors.includes('#d8d8d8'), colors.join(','));
    // the flame graph, aggregated on the server
    await page.click('#tab-flamegraph');
    await page.waitForSelector('#flamegraph svg g');
    assert.ok(await page.locator('#flamegraph svg g').count() > 3);
    assert.match(await page.locator('#flamegraph svg').innerHTML(), /main \(/);
    assert.ok(asked.includes('/api/flame'));
    assert.ok(!asked.includes('/localtrace'));
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    proc.kill('SIGINT');
  }
});

test('large trace in folder mode, opened on the flame graph (--flamegraph)', async () => {
  const { url, proc } = await serve(dir, ['--flamegraph']);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const asked = [];
    page.on('request', (r) => asked.push(new URL(r.url()).pathname));
    await page.goto(url + '/big.json'); // folder mode redirects to a server of the trace's own
    await page.waitForFunction(() => window.vt && (window.vt.ready || window.vt.error), null, { timeout: 30000 });
    assert.equal(await page.evaluate(() => window.vt.error), null);
    assert.equal(await page.evaluate(() => window.vt.remote), true);
    await page.waitForSelector('#flamegraph svg g');
    assert.equal(await page.locator('#flamegraph-view').isVisible(), true);
    assert.match(await page.locator('#flamegraph svg').innerHTML(), /all threads/);
    assert.ok(!asked.includes('/localtrace'));
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    proc.kill('SIGINT');
  }
});
