// bench_big.mjs: how the viewer copes with a large trace (not part of make test:
// tests never assert on time). Writes a synthetic trace of N complete events
// (default 1,000,000, two threads, nested 10 deep), serves it with
// `viztracer view`, and prints the time until the whole timeline is drawn and
// the frame time of W/S/A/D key presses, then of a search.
//   node tests/web/bench_big.mjs [N]      (VIZTRACER_BIN: the executable)
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, '../../third_party/npm/package.json'));
const { chromium } = require('playwright-core');
const BIN = process.env.VIZTRACER_BIN || resolve(here, '../../build/bin/viztracer');
const N = +(process.argv[2] || 1000000);

const dir = mkdtempSync(join(tmpdir(), 'vt-bench-'));
const path = join(dir, 'big.json');
await new Promise((ok) => {
  const out = createWriteStream(path);
  out.write('{"traceEvents":[');
  let ts = 0;
  let made = 0;
  let first = true;
  const chunk = [];
  // complete binary trees of depth 10 (1023 slices each), children first as VizTracer writes them
  const tree = (tid, depth, start) => {
    if (made >= N) return 0;
    made++;
    let t = start + 0.1;
    if (depth > 0) { t += tree(tid, depth - 1, t); t += tree(tid, depth - 1, t); }
    const dur = t - start + 0.1;
    chunk.push(`{"pid":1,"tid":${tid},"ts":${start.toFixed(3)},"ph":"X","cat":"fee","dur":${dur.toFixed(3)},"name":"f${depth} (/bench/x.py:${depth + 1})"}`);
    return dur + 0.05;
  };
  for (const tid of [1, 2]) {
    const stop = tid === 1 ? N / 2 : N;
    while (made < stop) {
      ts += tree(tid, 9, ts) + 1;
      out.write((first ? '' : ',') + chunk.join(','));
      first = false;
      chunk.length = 0;
    }
  }
  out.end('],"viztracer_metadata":{},"file_info":{"files":{},"functions":{}}}', ok);
});

const proc = spawn(BIN, ['view', '-s', '-p', '0', path], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((ok) => {
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
    const m = /view your trace on (http:\/\/\S+)/.exec(out);
    if (m) ok(m[1].replace('localhost', '127.0.0.1'));
  });
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => window.vt && (window.vt.ready || window.vt.error), null, { timeout: 300000 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  console.log(`${N} events: whole timeline drawn ${Date.now() - t0} ms after navigation`);
  for (const key of ['w', 'w', 'w', 'd', 'a', 's']) {
    const ms = await page.evaluate(async (k) => {
      const t = performance.now();
      document.dispatchEvent(new KeyboardEvent('keydown', { key: k }));
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return performance.now() - t;
    }, key);
    console.log(`  key ${key}: ${ms.toFixed(1)} ms to the next frame`);
  }
  const t1 = Date.now();
  await page.fill('#search', 'f3');
  await page.waitForFunction(() => /match/.test(document.getElementById('matches').textContent), null, { timeout: 300000 });
  console.log(`  search: ${Date.now() - t1} ms (200 ms of it is the typing debounce)`);
} finally {
  await browser.close();
  proc.kill('SIGINT');
  rmSync(dir, { recursive: true, force: true });
}
