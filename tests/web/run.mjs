#!/usr/bin/env node
// Runs the web tests: wasm under Node, the static server, the site, and the browser tests.
//   node tests/web/run.mjs --build build-wasm [--native build] [--out DIR] [--only node|browser] [--filter TEXT[|TEXT...]]
// Prints one line per test and a final "N passed, M failed"; exits 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { run, findNativeCli, REPO } from './lib/harness.mjs';

function parse(argv) {
  const o = { build: 'build-wasm', native: 'build', out: null, only: null, filter: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option ${argv[i]}`);
    o[k] = argv[++i];
  }
  return o;
}

const o = parse(process.argv.slice(2));
const buildDir = path.resolve(REPO, o.build);
const outDir = path.resolve(REPO, o.out || path.join(o.build, 'web-test-output'));
if (!fs.existsSync(path.join(buildDir, 'site', 'asset-manifest.json'))) {
  console.error(
    `no site in ${buildDir}/site: build it first (emcmake cmake -S . -B ${o.build} && cmake --build ${o.build})`,
  );
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const nativeCli = findNativeCli(path.resolve(REPO, o.native));
const ctx = { buildDir, nativeCli, outDir };
if (o.only !== 'browser') (await import('./node.test.mjs')).register(ctx);
if (o.only !== 'node') (await import('./browser.test.mjs')).register(ctx);
const t0 = Date.now();
const { passed, failed, failures } = await run({ filter: o.filter });
console.log(
  `web tests finished in ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${path.join(outDir, 'screenshots')}`,
);
if (failures.length) console.log(`failed: ${failures.join('; ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
