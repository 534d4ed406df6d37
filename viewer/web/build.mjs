// build.mjs: bundles the UI into one HTML page (node viewer/web/build.mjs OUT).
// esbuild comes from third_party/npm (installed by `make deps`); the page
// gets the app script and the libraries' CSS inline, so the C side embeds a
// single file. Scripts are made safe to sit inside <script>...</script>.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const npmDir = resolve(here, '../../third_party/npm');
const require = createRequire(join(npmDir, 'package.json'));
const esbuild = require('esbuild');

const out = process.argv[2];
if (!out) {
  console.error('usage: node viewer/web/build.mjs OUT.html');
  process.exit(2);
}
const result = await esbuild.build({
  entryPoints: [join(here, 'main.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  write: false,
  nodePaths: [join(npmDir, 'node_modules')],
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'eof',
  logLevel: 'warning',
  loader: { '.css': 'empty' }, // the CSS is inlined into the page below
});
let js = result.outputFiles[0].text;
// Inside <script>, only "</script" and "<!--" can end or derail the element.
js = js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
const css = readFileSync(join(npmDir, 'node_modules/d3-flame-graph/dist/d3-flamegraph.css'), 'utf8');
let page = readFileSync(join(here, 'index.html'), 'utf8');
page = page.replace('/*VT_LIB_CSS*/', () => css).replace('/*VT_APP_JS*/', () => js);
if (page.split('<!--VT_TRACE_DATA-->').length !== 2) throw new Error('the data mark must appear once');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out + '.tmp', page);
renameSync(out + '.tmp', out);
