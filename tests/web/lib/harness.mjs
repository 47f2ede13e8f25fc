// A small test harness: test(name, fn), run() prints one line per test and the final
// "N passed, M failed" line; paths and fixtures shared by the web tests.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tests = [];
export function test(name, fn, { timeout = 120000 } = {}) {
  tests.push({ name, fn, timeout });
}

export async function run({ filter } = {}) {
  let passed = 0,
    failed = 0;
  const failures = [];
  for (const t of tests) {
    // --filter 'a|b': the tests whose name holds a or b
    const wanted = !filter || filter.split('|').some((f) => t.name.includes(f));
    if (!wanted && !/^(setup|teardown)/.test(t.name)) continue;
    const t0 = Date.now();
    let timer;
    try {
      await Promise.race([
        t.fn(),
        new Promise((_, rej) => {
          timer = setTimeout(() => rej(new Error(`timed out after ${t.timeout} ms`)), t.timeout);
        }),
      ]);
      passed++;
      console.log(`ok     ${t.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      failures.push(t.name);
      console.log(
        `FAIL   ${t.name} (${Date.now() - t0} ms)\n       ${String((e && e.stack) || e)
          .split('\n')
          .slice(0, 6)
          .join('\n       ')}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }
  return { passed, failed, failures };
}

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
export function assertClose(a, b, tol, msg) {
  if (!(Math.abs(a - b) <= tol)) throw new Error(`${msg}: ${a} vs ${b} (tolerance ${tol})`);
}

/** Fixture cells of both classes: [{path, name, cls}] (tests/fixtures/cells, else a few NIH cells). */
export function fixtureCells(perClass = 3) {
  const dir = path.join(REPO, 'tests/fixtures/cells');
  const out = [];
  if (fs.existsSync(dir)) {
    const files = fs
      .readdirSync(dir)
      .filter((f) => /\.png$/i.test(f))
      .sort();
    for (const f of files) {
      const cls = /parasit/i.test(f) ? 'Parasitized' : /uninf/i.test(f) ? 'Uninfected' : null;
      out.push({ path: path.join(dir, f), name: f, cls });
    }
    if (out.length >= 2) return out;
  }
  const shared = [
    path.resolve(REPO, '../shared/data/nih_cells'),
    '/work/shared/data/nih_cells',
  ].find((d) => fs.existsSync(d));
  if (!shared)
    throw new Error(
      'no fixture cells: tests/fixtures/cells/*.png missing and no shared/data/nih_cells',
    );
  for (const cls of ['Parasitized', 'Uninfected']) {
    const files = fs
      .readdirSync(path.join(shared, cls))
      .filter((f) => f.endsWith('.png'))
      .sort()
      .slice(0, perClass);
    for (const f of files) out.push({ path: path.join(shared, cls, f), name: `${cls}_${f}`, cls });
  }
  return out;
}

/** Site paths from the build dir: {site, manifest, modelPath}. */
export function siteInfo(buildDir) {
  const site = path.join(buildDir, 'site');
  const manifest = JSON.parse(fs.readFileSync(path.join(site, 'asset-manifest.json'), 'utf8'));
  return { site, manifest, modelPath: path.join(site, manifest.model.url) };
}

/** Run the native CLI on files; Map(basename -> {label, p_parasitized, band} | {error}).
 *  `args`: more options (e.g. ['--mode', 'cell', '--logits']). */
export function nativeClassify(cli, model, files, args = []) {
  if (!cli || !fs.existsSync(cli)) {
    throw new Error(
      `native CLI not found (${cli}); build it (cmake --build build --target malaria-classify) ` +
        'or set MC_NATIVE_CLI',
    );
  }
  let out;
  try {
    out = execFileSync(cli, ['--model', model, '--format', 'jsonl', ...args, ...files], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    out = e.stdout || ''; // exit code 1 when some files failed; the lines are still there
  }
  const m = new Map();
  for (const line of out.split('\n').filter(Boolean)) {
    const j = JSON.parse(line);
    m.set(path.basename(j.file), j);
  }
  return m;
}

export function findNativeCli(nativeBuild) {
  const cands = [
    process.env.MC_NATIVE_CLI,
    nativeBuild && path.join(nativeBuild, 'wasm/malaria-classify'),
    path.join(REPO, 'build/wasm/malaria-classify'),
  ].filter(Boolean);
  return cands.find((c) => fs.existsSync(c)) || cands[0];
}
