// The occlusion heat map under Node: Engine.explain() of both wasm modules against the native
// CLI's --cam map (malaria-classify writes NAME.cam.json) on a fixture cell, and its refusals.
// Registered by node.test.mjs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { test, assert, siteInfo, REPO } from './lib/harness.mjs';
import { decodePNG } from './lib/png.mjs';

const CELL = 'tests/fixtures/cells/Parasitized_C111P72ThinF_IMG_20150930_112609_cell_170.png';

/** The native CLI's heat map of `file` ({size, patch, stride, passes, ms, peak, map}). */
function nativeExplain(cli, model, file) {
  if (!cli || !fs.existsSync(cli)) throw new Error(`native CLI not found (${cli})`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-explain-'));
  try {
    execFileSync(cli, ['--model', model, '--cam', dir, file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stem = path.basename(file).replace(/\.[^.]+$/, '');
    return JSON.parse(fs.readFileSync(path.join(dir, `${stem}.cam.json`), 'utf8'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function register({ buildDir, nativeCli }) {
  const { site, manifest, modelPath } = siteInfo(buildDir);
  const engineUrl = pathToFileURL(path.join(REPO, 'web/engine.js')).href;
  const cellPath = path.join(REPO, CELL);

  for (const variant of ['simd', 'nosimd']) {
    test(
      `wasm under Node (${variant}): explain() gives the native CLI's heat map`,
      async () => {
        const { loadEngine } = await import(engineUrl);
        const wasmBytes = {
          [variant]: fs.readFileSync(path.join(site, manifest.wasm[variant].wasm)),
        };
        const engine = await loadEngine({
          assets: manifest,
          baseUrl: pathToFileURL(site + '/').href,
          prefer: variant,
          wasmBytes,
          modelBytes: fs.readFileSync(modelPath),
        });
        const native = nativeExplain(nativeCli, modelPath, cellPath);
        const img = decodePNG(fs.readFileSync(cellPath));
        const runs = [];
        let h;
        for (let i = 0; i < 3; i++) {
          h = engine.explain(img);
          runs.push(h.ms);
        }
        const S = h.size;
        assert(h.map instanceof Float32Array && h.map.length === S * S, `map of ${S}x${S} floats`);
        assert(
          S === native.size && h.passes === native.passes,
          `size ${S} / ${native.size}, passes ${h.passes} / ${native.passes}`,
        );
        let top = 0,
          worst = 0,
          nmax = -Infinity;
        for (let i = 0; i < S * S; i++) {
          top = Math.max(top, Math.abs(native.map[i]));
          worst = Math.max(worst, Math.abs(h.map[i] - native.map[i]));
          nmax = Math.max(nmax, native.map[i]);
        }
        assert(top > 0, 'the native map is not all zero');
        assert(
          worst <= 1e-3 * top + 1e-5,
          `max |wasm - native| = ${worst} (largest |value| ${top})`,
        );
        // the peak: the same place, or (a near tie) a place the native map rates as high
        const [px, py] = h.peak;
        const at =
          native.map[Math.floor((py * S) / img.height) * S + Math.floor((px * S) / img.width)];
        assert(
          (Math.abs(px - native.peak[0]) < 0.05 && Math.abs(py - native.peak[1]) < 0.05) ||
            at >= nmax - (1e-3 * top + 1e-5),
          `peak (${px}, ${py}) vs native (${native.peak})`,
        );
        assert(
          h.label === 'Parasitized' && h.pParasitized > 0.5,
          `the cell's own result: ${h.label} ${h.pParasitized}`,
        );
        const ms = runs.slice().sort((a, b) => a - b)[1];
        console.log(
          `    explain (${variant}): ${h.passes} passes, median of 3 ${ms.toFixed(0)} ms ` +
            `(native CLI ${native.ms.toFixed(0)} ms), max |wasm - native| ${worst.toExponential(2)}`,
        );
        // a black image: refused with the core's message; the engine goes on
        let msg = '';
        try {
          engine.explain({ data: new Uint8Array(40 * 40 * 4), width: 40, height: 40 });
        } catch (e) {
          msg = e.message;
        }
        assert(/no cell/.test(msg), `black image: "${msg}"`);
        msg = '';
        try {
          engine.explain({ data: new Uint8Array(12), width: 4, height: 4 });
        } catch (e) {
          msg = e.message;
        }
        assert(msg.length > 0, 'pixel buffer size mismatch is reported');
        const again = engine.explain(img);
        assert(
          again.map.every((v, i) => v === h.map[i]),
          'deterministic',
        );
        engine.dispose();
      },
      { timeout: 300000 },
    );
  }
}
