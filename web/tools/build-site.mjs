#!/usr/bin/env node
// Assembles the static site: page, scripts, both wasm modules and the model blob, with
// content-hashed names for the big immutable files, an asset manifest (hashes the page checks
// before it trusts the model bytes) and the service worker with its generated precache list.
//   node web/tools/build-site.mjs --src web --modules <dir with malaria-{simd,nosimd}.{mjs,wasm}>
//                                 --model model/malaria_resnet18.mcb --out build-wasm/site
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

function args() {
  const out = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    if (!a[i].startsWith('--') || a[i + 1] === undefined) throw new Error(`bad argument ${a[i]}`);
    out[a[i].slice(2)] = a[i + 1];
  }
  for (const k of ['src', 'modules', 'model', 'out'])
    if (!out[k]) throw new Error(`--${k} missing`);
  return out;
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

// Files of web/ that make up the site (copied under the same name).
const STATIC = [
  'index.html',
  'app.css',
  'app.js',
  'a11y.js',
  'i18n.js',
  'lang/en.js',
  'lang/fr.js',
  'lang/pt.js',
  'lang/es.js',
  'store.js',
  'stats.js',
  'camera.js',
  'cam-overlay.js',
  'engine.js',
  'assets.js',
  'model-copy.js',
  'image-decode.js',
  'image-input.js',
  'classifier-worker.js',
  'malaria-classifier.js',
  'malaria-classifier.d.ts',
  'widget.js',
  'embed.html',
  'embed.js',
  'embed.css',
  'embed-config.json',
  'manifest.webmanifest',
  'icons/icon-192.png',
  'icons/icon-512.png',
  'icons/icon-maskable-512.png',
  'icons/favicon.png',
];
// Copied but not precached (documentation for integrators).
const EXTRA = [
  'examples/widget-host.html',
  'examples/widget-host.js',
  'examples/iframe-host.html',
  'examples/iframe-host.js',
  'examples/host.css',
  'examples/README.md',
];

// The static imports of `entry` and of theirs (`from './x.js'`: the site's own modules), in the
// order found.
function moduleGraph(dir, entry) {
  const seen = new Set([entry]);
  const order = [];
  const visit = (rel) => {
    const text = fs.readFileSync(path.join(dir, rel), 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\sfrom\s+'(\.\/[^']+)'/gms)) {
      const dep = path.posix.normalize(path.posix.join(path.posix.dirname(rel), m[1]));
      if (seen.has(dep)) continue;
      seen.add(dep);
      order.push(dep);
      visit(dep);
    }
  };
  visit(entry);
  return order;
}

// index.html's MC_MODULEPRELOAD comment becomes one <link rel="modulepreload"> per module that
// `entry` imports, directly or not: the browser then fetches them all at once instead of one
// level of imports after another (~35 ms sooner on a repeat visit, BENCHMARKS.md).
function preloadModules(out, html, entry) {
  const file = path.join(out, html);
  const text = fs.readFileSync(file, 'utf8');
  const mark = /<!-- MC_MODULEPRELOAD[^>]*-->/;
  if (!mark.test(text)) throw new Error(`${html}: no MC_MODULEPRELOAD comment`);
  const links = moduleGraph(out, entry).map((m) => `<link rel="modulepreload" href="${m}">`);
  fs.writeFileSync(file, text.replace(mark, links.join('\n')));
}

function main() {
  const opt = args();
  const out = path.resolve(opt.out);
  if (!fs.existsSync(opt.model)) {
    throw new Error(
      `model blob ${opt.model} not found: build or download it first ` +
        '(or configure with -DMC_WEB_MODEL=<blob>)',
    );
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const precache = [];
  const copy = (from, rel, cache = true) => {
    const dest = path.join(out, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(from, dest);
    if (cache) precache.push(rel);
    return fs.readFileSync(dest);
  };
  const contents = [];
  for (const rel of STATIC) contents.push(rel, copy(path.join(opt.src, rel), rel));
  preloadModules(out, 'index.html', 'app.js');
  for (const rel of EXTRA) {
    if (fs.existsSync(path.join(opt.src, rel))) copy(path.join(opt.src, rel), rel, false);
  }

  const manifest = { format: 1, wasm: {}, model: null };
  for (const variant of ['simd', 'nosimd']) {
    const js = fs.readFileSync(path.join(opt.modules, `malaria-${variant}.mjs`));
    const wasm = fs.readFileSync(path.join(opt.modules, `malaria-${variant}.wasm`));
    const jsName = `wasm/malaria-${variant}.${sha256(js).slice(0, 10)}.mjs`;
    const wasmHash = sha256(wasm);
    const wasmName = `wasm/malaria-${variant}.${wasmHash.slice(0, 10)}.wasm`;
    copy(path.join(opt.modules, `malaria-${variant}.mjs`), jsName);
    copy(path.join(opt.modules, `malaria-${variant}.wasm`), wasmName);
    contents.push(jsName, js, wasmName, wasm);
    manifest.wasm[variant] = { js: jsName, wasm: wasmName, sha256: wasmHash, bytes: wasm.length };
  }
  const model = fs.readFileSync(opt.model);
  const modelHash = sha256(model);
  const base = path.basename(opt.model).replace(/\.mcb$/, '');
  const modelName = `model/${base}.${modelHash.slice(0, 10)}.mcb`;
  copy(opt.model, modelName);
  contents.push(modelName, model);
  manifest.model = { url: modelName, sha256: modelHash, bytes: model.length };

  const h = createHash('sha256');
  for (const c of contents) h.update(c);
  manifest.version = h.digest('hex').slice(0, 12);
  fs.writeFileSync(path.join(out, 'asset-manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  precache.push('asset-manifest.json', './');

  const sw = fs
    .readFileSync(path.join(opt.src, 'sw.js'), 'utf8')
    .replace('__MC_VERSION__', manifest.version)
    .replace('__MC_PRECACHE__', JSON.stringify(precache.sort(), null, 2));
  if (sw.includes('__MC_')) throw new Error('sw.js template placeholders not all replaced');
  fs.writeFileSync(path.join(out, 'sw.js'), sw);
  console.log(
    `site ${out}: version ${manifest.version}, ${precache.length} precached files, ` +
      `model ${modelName} (${model.length} bytes)`,
  );
}

try {
  main();
} catch (e) {
  console.error(`build-site: ${e.message}`);
  process.exit(1);
}
