// viewer.mjs: vizviewer on large traces (part of `make bench`; nothing is
// asserted). For each size, writes a trace with bench/gen_trace.py into
// build/bench-viewer/ (kept for the next run, out of git), then, in headless
// Chromium: the open time from navigation to the first full frame with no
// index on disk (cold) and with the one the first open kept (warm), the
// tab's JS heap after loading and after the steps, the time of each zoom /
// pan step until the new data is drawn, and the server's peak RSS.
//   node bench/viewer.mjs [SIZE...]     sizes like 1M 10M 30M (default: 1M 10M,
//                                       and 30M when the disk has 20 GB free)
// Env: VIZTRACER_BIN (the executable), CHROMIUM.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, '../third_party/npm/package.json'));
const { chromium } = require('playwright-core');
const BIN = process.env.VIZTRACER_BIN || resolve(here, '../build/bin/viztracer');
const OUT = resolve(here, '../build/bench-viewer');
mkdirSync(OUT, { recursive: true });

const parse = (s) => Math.round(parseFloat(s) * (/m$/i.test(s) ? 1e6 : /k$/i.test(s) ? 1e3 : 1));
let sizes = process.argv.slice(2).map(parse);
if (!sizes.length) {
  const fs = statfsSync(OUT);
  sizes = [1e6, 1e7];
  if (fs.bavail * fs.bsize > 20e9) sizes.push(3e7);
}

function trace(n) {
  const path = join(OUT, `trace-${n}.json`);
  if (!existsSync(path)) {
    const t = Date.now();
    const r = spawnSync('/usr/bin/python3', [resolve(here, 'gen_trace.py'), '-n', String(n), '--threads', '4', '-o', path],
      { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    console.log(`  (wrote ${path} in ${((Date.now() - t) / 1000).toFixed(0)} s)`);
  }
  return path;
}

function serve(path) {
  return new Promise((ok, fail) => {
    const proc = spawn(BIN, ['view', '-s', '-p', '0', path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /view your trace on (http:\/\/\S+)/.exec(out);
      if (m) ok({ proc, url: m[1].replace('localhost', '127.0.0.1') });
    });
    proc.on('exit', (code) => fail(new Error('vizviewer exited ' + code)));
  });
}

// CPU seconds (user + system) the process has used: unlike wall time, not
// stretched by other work on a shared machine.
function cpuS(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (+f[11] + +f[12]) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

function rssMb(pid) {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => +new RegExp(k + ':\\s+(\\d+)').exec(st)[1];
  return { hwm: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
}

async function heapMb(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize / 2 ** 20;
}

async function open(browser, path) {
  const { proc, url } = await serve(path);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    if (process.env.VIEWER_BENCH_VERBOSE) page.on('console', (m) => console.log('   ', m.text()));
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForFunction(() => window.vt && (window.vt.ready || window.vt.error), null, { timeout: 600000, polling: 50 });
    const err = await page.evaluate(() => window.vt.error);
    if (err) throw new Error(err);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const openMs = Date.now() - t0;
    const cpu = cpuS(proc.pid);
    const heap0 = await heapMb(page);
    const steps = [];
    for (const key of ['w', 'w', 'w', 'w', 'd', 'a', 's', 'w', 'w', 'w', 'w', 'w', 'd']) {
      steps.push(await page.evaluate(async (k) => {
        const t = performance.now();
        const f0 = window.vt.state.remote ? window.vt.state.remote.frames : 0;
        document.dispatchEvent(new KeyboardEvent('keydown', { key: k }));
        // drawn: the next frame, and for an indexed trace the new data applied
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        while (!window.vt.idle()) await new Promise((r) => requestAnimationFrame(r));
        const ms = performance.now() - t;
        const tm = window.vt.state.remote && window.vt.state.remote.timing;
        if (tm) console.log(`step ${k}: ${ms.toFixed(0)} ms, ${window.vt.state.remote.frames - f0} answers (last: headers ${(tm.headers||0).toFixed(0)} server+parse ${tm.fetch.toFixed(0)}, page ${tm.apply.toFixed(0)} [nest ${(tm.nest||0).toFixed(0)} init ${(tm.init||0).toFixed(0)} render ${(tm.render||0).toFixed(0)}] px ${tm.px}, started ${(tm.start - t).toFixed(0)} ms after the key)`);
        return ms;
      }, key));
    }
    const heap1 = await heapMb(page);
    const mem = rssMb(proc.pid);
    const status = await page.evaluate(() => document.getElementById('status').textContent);
    await page.close();
    if (process.env.VIEWER_BENCH_VERBOSE) console.log("  steps (ms):", steps.map((s) => s.toFixed(0)).join(" "));
    steps.sort((a, b) => a - b);
    return { openMs, cpu, heap: Math.max(heap0, heap1), steps, mem, status };
  } finally {
    proc.kill('SIGINT');
    await new Promise((r) => proc.once('exit', r));
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`viewer: open time, tab heap, zoom/pan steps, server RSS (load average ${load})`);
console.log('events     JSON MB  open cold (server CPU)  open warm  tab heap  step median / max  server peak RSS');
try {
  for (const n of sizes) {
    const path = trace(n);
    const mb = statSync(path).size / 1e6;
    const real = realpathSync(path);
    const cache = join(dirname(real), '.' + real.slice(dirname(real).length + 1) + '.vzi');
    rmSync(cache, { force: true });
    const cold = await open(browser, path);
    const warm = await open(browser, path);
    const med = cold.steps[Math.floor(cold.steps.length / 2)];
    console.log(`${String(n).padEnd(10)} ${mb.toFixed(0).padStart(7)}  ${(cold.openMs / 1000).toFixed(1).padStart(7)} s` +
      ` (${cold.cpu.toFixed(1).padStart(5)} s)` +
      `  ${(warm.openMs / 1000).toFixed(1).padStart(7)} s  ${Math.max(cold.heap, warm.heap).toFixed(0).padStart(5)} MB` +
      `  ${med.toFixed(0).padStart(5)} / ${cold.steps[cold.steps.length - 1].toFixed(0)} ms` +
      `  ${Math.max(cold.mem.hwm, warm.mem.hwm).toFixed(0).padStart(8)} MB`);
  }
} finally {
  await browser.close();
}
