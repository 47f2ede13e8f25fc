// Tests that need no browser: the wasm modules under Node (both SIMD and scalar) against the
// native CLI, the static server's headers, the site assembly, and the summary statistics.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  test,
  assert,
  assertClose,
  fixtureCells,
  siteInfo,
  nativeClassify,
  REPO,
} from './lib/harness.mjs';
import { decodePNG } from './lib/png.mjs';
import { register as registerExplain } from './explain.test.mjs';
import { register as registerI18n } from './i18n.test.mjs';

export function register({ buildDir, nativeCli }) {
  registerExplain({ buildDir, nativeCli }); // the heat map (explain.test.mjs)
  registerI18n(); // the languages (i18n.test.mjs)
  const { site, manifest, modelPath } = siteInfo(buildDir);
  const engineUrl = pathToFileURL(path.join(REPO, 'web/engine.js')).href;
  const assetsUrl = pathToFileURL(path.join(REPO, 'web/assets.js')).href;
  const cells = fixtureCells();

  // A model people bring (issue 17): a fast.ai v2 learner's ResNet18 with 3 classes, format
  // version 2, made here with torch (tests/python/make_v2_blob.py); the wasm engine must give the
  // native CLI's N logits and p.
  test("wasm under Node: a fast.ai head with 3 classes (blob version 2) gives the native CLI's logits", async () => {
    const { execFileSync } = await import('node:child_process');
    const os = await import('node:os');
    const blobPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'v2-')), 'fastai3.mcb');
    const convert = path.join(
      path.dirname(path.dirname(nativeCli)),
      'converter',
      'malaria-convert',
    );
    execFileSync(
      '/usr/bin/python3',
      [path.join(REPO, 'tests/python/make_v2_blob.py'), blobPath, convert],
      { stdio: 'pipe' },
    );
    const { loadEngine } = await import(engineUrl);
    const engine = await loadEngine({
      assets: manifest,
      baseUrl: pathToFileURL(site + '/').href,
      prefer: 'simd',
      wasmBytes: { simd: fs.readFileSync(path.join(site, manifest.wasm.simd.wasm)) },
      modelBytes: fs.readFileSync(blobPath),
    });
    const native = nativeClassify(
      nativeCli,
      blobPath,
      cells.map((c) => c.path),
      ['--mode', 'cell', '--logits'],
    );
    assert(
      engine.numClasses === 3 &&
        engine.positiveClass === 0 &&
        engine.classLabels.join() === 'Parasitized,Uninfected,Other',
      `classes ${engine.numClasses}, positive ${engine.positiveClass}, ${engine.classLabels}`,
    );
    for (const c of cells) {
      const img = decodePNG(fs.readFileSync(c.path));
      const r = engine.classifyPixels(img.data, img.width, img.height, 4);
      const ref = native.get(path.basename(c.path));
      assert(ref && ref.logits && ref.logits.length === 3, `native logits for ${c.name}`);
      assert(
        r.classLogits.length === 3 && r.topClass === ref.class,
        `${c.name}: ${r.topClass} vs native ${ref.class}`,
      );
      r.classLogits.forEach((v, k) => assertClose(v, ref.logits[k], 1e-3, `${c.name}: logit ${k}`));
      assertClose(r.pParasitized, ref.p_parasitized, 1e-4, `${c.name}: p`);
      assert(r.cam.length === 0, 'no CAM for a head that is not one linear layer');
    }
    engine.dispose();
    fs.rmSync(path.dirname(blobPath), { recursive: true, force: true });
  });

  for (const variant of ['simd', 'nosimd']) {
    test(`wasm under Node (${variant}): fixture cells match the native CLI within 1e-4`, async () => {
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
      assert(engine.variant === variant, `engine variant ${engine.variant}`);
      // staged (mc_engine_params.staged): the first cell before the Winograd weights exist,
      // the others after (finish() before the second call); all must match the native CLI
      assert(engine.staged === true, 'the engine starts staged');
      const native = nativeClassify(
        nativeCli,
        modelPath,
        cells.map((c) => c.path),
      );
      let n = 0;
      for (const c of cells) {
        const img = decodePNG(fs.readFileSync(c.path));
        const r = engine.classifyPixels(img.data, img.width, img.height, 4);
        const ref = native.get(path.basename(c.path));
        assert(ref && !ref.error, `native result for ${c.name}: ${JSON.stringify(ref)}`);
        assert(r.label === ref.label, `${c.name}: label ${r.label} vs native ${ref.label}`);
        assert(r.band === ref.band, `${c.name}: band ${r.band} vs native ${ref.band}`);
        assertClose(r.pParasitized, ref.p_parasitized, 1e-4, `${c.name}: p_parasitized`);
        assert(
          r.cam.length === r.size * r.size && r.cam.every(Number.isFinite),
          `${c.name}: CAM of ${r.size}^2 finite floats`,
        );
        n++;
      }
      assert(n >= 2, 'at least two fixtures');
      assert(engine.staged === false, 'finished before its second classification');
      const labels = new Set(cells.map((c) => native.get(path.basename(c.path)).label));
      assert(labels.size >= 1, 'labels seen');
      // the XXH64 that a local copy of the model records (engine.js checksum64; model-copy.js):
      // the published value of "abc", and the engine's own record of the model bytes
      const { checksum64 } = await import(engineUrl);
      const M = engine.M,
        q = M._malloc(3);
      M.HEAPU8.set([97, 98, 99], q);
      const hex = (b) => Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
      assert(
        hex(checksum64(M, q, 3)) === '990977adf52cbc44',
        `XXH64("abc") little-endian: ${hex(checksum64(M, q, 3))}`,
      );
      M._free(q);
      const model = fs.readFileSync(modelPath);
      const p = M._malloc(model.length);
      M.HEAPU8.set(model, p);
      assert(
        engine.checksum && hex(engine.checksum) === hex(checksum64(M, p, model.length)),
        "engine.checksum is the model's XXH64",
      );
      M._free(p);
      engine.dispose();
    });
  }

  test("wasm under Node: a bad blob and a bad image are rejected with the core's message", async () => {
    const { loadEngine, Engine } = await import(engineUrl);
    const { instantiateModule } = await import(assetsUrl);
    const a = manifest.wasm.nosimd;
    const M = await instantiateModule(
      pathToFileURL(path.join(site, a.js)).href,
      fs.readFileSync(path.join(site, a.wasm)),
    );
    let msg = '';
    try {
      Engine.create(M, new Uint8Array(4096).fill(7), 'nosimd');
    } catch (e) {
      msg = e.message;
    }
    assert(/^model rejected: ./.test(msg), `bad blob message: "${msg}"`);
    const truncated = fs.readFileSync(modelPath).subarray(0, 5000);
    msg = '';
    try {
      Engine.create(M, truncated, 'nosimd');
    } catch (e) {
      msg = e.message;
    }
    assert(/^model rejected: ./.test(msg), `truncated blob message: "${msg}"`);
    const engine = await loadEngine({
      assets: manifest,
      baseUrl: pathToFileURL(site + '/').href,
      prefer: 'nosimd',
      wasmBytes: { nosimd: fs.readFileSync(path.join(site, a.wasm)) },
      modelBytes: fs.readFileSync(modelPath),
    });
    msg = '';
    try {
      engine.classifyPixels(new Uint8Array(10), 3, 1, 4);
    } catch (e) {
      msg = e.message;
    }
    assert(msg.length > 0, 'pixel buffer size mismatch is reported');
    msg = '';
    try {
      engine.classifyPixels(new Uint8Array(0), 0, 0, 4);
    } catch (e) {
      msg = e.message;
    }
    assert(/no pixels/.test(msg), `empty image message: "${msg}"`);
    // the engine still works after rejected inputs
    const img = decodePNG(fs.readFileSync(cells[0].path));
    const r = engine.classifyPixels(img.data, img.width, img.height, 4);
    assert(r.pParasitized >= 0 && r.pParasitized <= 1, 'classifies after errors');
    engine.dispose();
  });

  for (const variant of ['simd', 'nosimd']) {
    test(`wasm under Node (${variant}): a whole field gives the native CLI's cells, counts and p; a solid image and a grey cell are refused`, async () => {
      const { loadEngine } = await import(engineUrl);
      const engine = await loadEngine({
        assets: manifest,
        baseUrl: pathToFileURL(site + '/').href,
        prefer: variant,
        wasmBytes: { [variant]: fs.readFileSync(path.join(site, manifest.wasm[variant].wasm)) },
        modelBytes: fs.readFileSync(modelPath),
      });
      const fieldPath = path.join(REPO, 'tests/fixtures/fields/chula_1.png');
      const img = decodePNG(fs.readFileSync(fieldPath));
      const a = engine.analyze(img, 'auto');
      assert(a.kind === 'field', `the Chula field is a field: ${a.kind}`);
      const f = a.result;
      const { execFileSync } = await import('node:child_process');
      const lines = execFileSync(nativeCli, ['--model', modelPath, fieldPath], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const nf = lines.find((l) => l.mode === 'field');
      const ncells = lines.filter((l) => 'cell' in l);
      assert(nf && nf.cells === f.counted, `counted: wasm ${f.counted}, native ${nf && nf.cells}`);
      assert(f.counted >= 80 && f.counted <= 110, `a plausible count for this field: ${f.counted}`);
      assert(
        nf.parasitized === f.parasitized && nf.uncertain === f.uncertain,
        'parasitized and uncertain as native',
      );
      assert(
        nf.excluded === f.excluded.border + f.excluded.white + f.excluded.debris + f.excluded.clump,
        'excluded as native',
      );
      assertClose(f.ci95[1], nf.ci95[1], 1e-4, 'Wilson upper bound');
      const counted = f.cells.filter((c) => c.status === 'counted');
      assert(
        counted.length === ncells.length,
        `${counted.length} counted cells vs ${ncells.length} native lines`,
      );
      counted.forEach((c, k) => {
        const n = ncells[k];
        assert(
          c.index === n.cell && c.x === n.x && c.y === n.y && c.w === n.w && c.h === n.h,
          `cell ${k}: box as native`,
        );
        assertClose(c.pParasitized, n.p_parasitized, 1e-4, `cell ${k}: p`);
        assert(c.band === n.band, `cell ${k}: band`);
        assert(
          c.outline.length === 48 && c.outline.every(Number.isFinite),
          `cell ${k}: outline of 24 points`,
        );
      });
      // found only, its crops classified elsewhere (here: in other batches, last batch first)
      // and put together by completeField: the same field, bit for bit
      const found = engine.analyze(img, 'auto', { classify: false });
      assert(
        found.crops.length === f.counted && found.result.cells.every((c) => c.label === null),
        `found only: ${found.crops.length} crops, none classified`,
      );
      const { completeField } = await import(engineUrl);
      const results = [];
      const size = engine.batchCapacity;
      for (let at = Math.floor((found.crops.length - 1) / size) * size; at >= 0; at -= size) {
        const got = engine.classifyBatch(found.crops.slice(at, at + size), 3);
        got.forEach((g, k) => {
          results[at + k] = g.result;
        });
      }
      const whole = completeField(found.result, found.crops, results, f.ms);
      assert(
        JSON.stringify(whole) === JSON.stringify(f),
        "completeField gives analyze's field result exactly",
      );
      // the same field photographed through the eyepiece (round field stop in black, vignetting):
      // a field, counted as the native CLI counts it
      const eyePath = path.join(REPO, 'tests/fixtures/fields/chula_1_eyepiece.png');
      const eye = engine.analyze(decodePNG(fs.readFileSync(eyePath)), 'auto');
      const eyeNative = JSON.parse(
        execFileSync(nativeCli, ['--model', modelPath, eyePath], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .pop(),
      );
      assert(eye.kind === 'field', `the eyepiece photo is a field: ${eye.kind}`);
      assert(
        eye.result.counted === eyeNative.cells && eye.result.counted >= 40,
        `eyepiece photo: wasm ${eye.result.counted} cells, native ${eyeNative.cells}`,
      );
      // a solid colour of camera size: not a smear; a grey copy of a cell: not a cell crop
      const solid = { data: new Uint8Array(640 * 480 * 4), width: 640, height: 480 };
      for (let i = 0; i < solid.data.length; i += 4) solid.data.set([200, 215, 205, 255], i); // plasma-coloured
      let msg = '';
      try {
        engine.analyze(solid, 'auto');
      } catch (e) {
        msg = e.message;
      }
      assert(/not a blood-smear image/.test(msg), `solid image: "${msg}"`);
      const cell = decodePNG(fs.readFileSync(cells[0].path));
      const grey = new Uint8Array(cell.data);
      for (let i = 0; i < grey.length; i += 4) {
        const v = grey[i + 1];
        grey[i] = v;
        grey[i + 2] = v;
      }
      msg = '';
      try {
        engine.analyze({ data: grey, width: cell.width, height: cell.height }, 'auto');
      } catch (e) {
        msg = e.message;
      }
      assert(
        /does not look like a single red-cell image: a greyscale/.test(msg),
        `grey cell: "${msg}"`,
      );
      assert(engine.analyze(cell, 'auto').kind === 'cell', 'the colour cell is a cell');
      engine.dispose();
    });
  }

  for (const variant of ['simd', 'nosimd']) {
    test(`wasm under Node (${variant}): classifyBatch gives each cell what classifyPixels gives it, bit for bit`, async () => {
      const { loadEngine } = await import(engineUrl);
      const engine = await loadEngine({
        assets: manifest,
        baseUrl: pathToFileURL(site + '/').href,
        prefer: variant,
        wasmBytes: { [variant]: fs.readFileSync(path.join(site, manifest.wasm[variant].wasm)) },
        modelBytes: fs.readFileSync(modelPath),
      });
      assert(engine.batchCapacity === 8, `int8 model: batch capacity ${engine.batchCapacity}`);
      const imgs = cells.slice(0, 7).map((c) => decodePNG(fs.readFileSync(c.path)));
      const alone = imgs.map((img) => engine.classifyPixels(img.data, img.width, img.height, 4));
      // 8 entries: the 7 cells with an unreadable one (no pixels) in the middle
      const batch = [
        ...imgs.slice(0, 3),
        { data: new Uint8Array(0), width: 0, height: 0 },
        ...imgs.slice(3),
      ];
      const got = engine.classifyBatch(batch);
      assert(got.length === 8, `${got.length} answers`);
      assert(
        got[3].error && /no pixels/.test(got[3].error),
        `the unreadable image: ${JSON.stringify(got[3])}`,
      );
      got
        .filter((g, i) => i !== 3)
        .forEach((g, k) => {
          const a = alone[k];
          assert(g.result, `cell ${k}: ${g.error}`);
          assert(
            g.result.logits[0] === a.logits[0] && g.result.logits[1] === a.logits[1],
            `cell ${k}: logits ${g.result.logits} vs ${a.logits}`,
          );
          assert(
            g.result.pParasitized === a.pParasitized && g.result.band === a.band,
            `cell ${k}: p and band`,
          );
          assert(
            g.result.cam.length === a.cam.length && g.result.cam.every((v, i) => v === a.cam[i]),
            `cell ${k}: the same CAM`,
          );
        });
      let msg = '';
      try {
        engine.classifyBatch([...imgs, ...imgs]);
      } catch (e) {
        msg = e.message;
      }
      assert(/takes 8/.test(msg), `too many: "${msg}"`);
      engine.dispose();
    });
  }

  test('site: hashed assets match the manifest, the service worker precaches all of them', async () => {
    const { createHash } = await import('node:crypto');
    const sha = (f) =>
      createHash('sha256')
        .update(fs.readFileSync(path.join(site, f)))
        .digest('hex');
    assert(sha(manifest.model.url) === manifest.model.sha256, 'model sha256');
    for (const v of ['simd', 'nosimd'])
      assert(sha(manifest.wasm[v].wasm) === manifest.wasm[v].sha256, `${v} wasm sha256`);
    const sw = fs.readFileSync(path.join(site, 'sw.js'), 'utf8');
    assert(!sw.includes('__MC_'), 'placeholders replaced');
    assert(sw.includes(`'${manifest.version}'`), 'sw carries the site version');
    const list = JSON.parse(sw.match(/const PRECACHE = (\[[\s\S]*?\]);/)[1]);
    for (const f of [
      './',
      'index.html',
      'app.js',
      'classifier-worker.js',
      'engine.js',
      'malaria-classifier.js',
      'widget.js',
      'embed.html',
      'manifest.webmanifest',
      'asset-manifest.json',
      manifest.model.url,
      manifest.wasm.simd.js,
      manifest.wasm.simd.wasm,
      manifest.wasm.nosimd.js,
      manifest.wasm.nosimd.wasm,
    ]) {
      assert(list.includes(f), `precache list has ${f}`);
    }
    for (const f of list)
      if (f !== './') assert(fs.existsSync(path.join(site, f)), `precached file exists: ${f}`);
    // every module a precached script imports is precached too (offline, a missing one breaks
    // the page): web/tools/build-site.mjs STATIC must list each new module
    for (const f of list.filter((x) => x.endsWith('.js'))) {
      const src = fs.readFileSync(path.join(site, f), 'utf8');
      for (const m of src.matchAll(
        /\bfrom\s+'\.\/([\w.-]+\.js)'|\bimport\(\s*'\.\/([\w.-]+\.js)'\s*\)/g,
      )) {
        const dep = m[1] || m[2];
        assert(list.includes(dep), `${f} imports ${dep}, which is not precached`);
      }
    }
    const html = fs.readFileSync(path.join(site, 'index.html'), 'utf8');
    // index.html preloads every module app.js imports, directly or not (build-site.mjs), so the
    // browser fetches them at once: none missing, none extra, each precached
    const closure = new Set();
    const walk = (f) => {
      const src = fs.readFileSync(path.join(site, f), 'utf8');
      for (const m of src.matchAll(/\bfrom\s+'\.\/([\w./-]+\.js)'/g)) {
        const dep = path.posix.join(path.posix.dirname(f), m[1]);
        if (!closure.has(dep)) {
          closure.add(dep);
          walk(dep);
        }
      }
    };
    walk('app.js');
    const preloads = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map(
      (m) => m[1],
    );
    assert(!html.includes('MC_MODULEPRELOAD'), 'the preload placeholder is filled in');
    assert(
      closure.size > 10 &&
        preloads.length === closure.size &&
        preloads.every((f) => closure.has(f) && list.includes(f)),
      `modulepreload ${preloads} against app.js's modules ${[...closure]}`,
    );
    assert(!/<script(?![^>]*\bsrc=)[^>]*>/.test(html), 'no inline scripts in index.html');
    assert(!/\sstyle=/.test(html), 'no inline styles in index.html');
    assert(
      !/https?:\/\//.test(html.replace(/<!--[\s\S]*?-->/g, '')),
      'no absolute URLs in index.html',
    );
  });

  test('serve.mjs: MIME types, CSP, COOP/COEP, CORS for assets, no path traversal', async () => {
    const { startServer } = await import(pathToFileURL(path.join(REPO, 'web/serve.mjs')).href);
    const srv = await startServer({ root: site, port: 0 });
    try {
      const index = await fetch(srv.url);
      assert(index.status === 200, 'index 200');
      assert(index.headers.get('content-type').startsWith('text/html'), 'html type');
      const csp = index.headers.get('content-security-policy') || '';
      assert(
        csp.startsWith("default-src 'none'") &&
          csp.includes("'wasm-unsafe-eval'") &&
          csp.includes("frame-ancestors 'none'"),
        `CSP: ${csp}`,
      );
      assert(index.headers.get('cross-origin-opener-policy') === 'same-origin', 'COOP');
      assert(index.headers.get('cross-origin-embedder-policy') === 'require-corp', 'COEP');
      const wasm = await fetch(new URL(manifest.wasm.simd.wasm, srv.url));
      assert(wasm.headers.get('content-type') === 'application/wasm', 'wasm MIME');
      assert(wasm.headers.get('access-control-allow-origin') === '*', 'CORS on wasm');
      assert(/immutable/.test(wasm.headers.get('cache-control')), 'hashed files immutable');
      const js = await fetch(new URL('engine.js', srv.url));
      assert(js.headers.get('content-type').startsWith('text/javascript'), 'js MIME');
      const mf = await fetch(new URL('manifest.webmanifest', srv.url));
      assert(
        mf.headers.get('content-type').startsWith('application/manifest+json'),
        'manifest MIME',
      );
      for (const p of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/nope.js']) {
        const r = await fetch(new URL(p, srv.url).href.replace('/etc', '/etc'));
        assert(r.status === 403 || r.status === 404, `${p} -> ${r.status}`);
      }
      const post = await fetch(srv.url, { method: 'POST', body: 'x' });
      assert(post.status === 405, 'POST refused');
      assert(srv.url.startsWith('http://127.0.0.1:'), 'bound to 127.0.0.1');
    } finally {
      await srv.close();
    }
  });

  // The focus indicator (issue 18 item 8): every focus rule of the page and the widget draws a
  // dark outline with a white ring inside it, so that one of the two is at least 3:1 against
  // what surrounds it, light (the panels) or dark (the header, the blue buttons).
  test('focus: every focus outline is >= 3:1 on white and its white ring >= 3:1 on the dark colours', async () => {
    const lum = (hex) => {
      const c = hex
        .replace('#', '')
        .match(/../g)
        .map((h) => parseInt(h, 16) / 255)
        .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    const contrast = (a, b) => {
      const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
      return (x + 0.05) / (y + 0.05);
    };
    const css = fs.readFileSync(path.join(REPO, 'web/app.css'), 'utf8');
    const dark = ['--brand', '--accent'].map(
      (v) => css.match(new RegExp(`${v}:\\s*(#[0-9a-fA-F]{6})`))[1],
    );
    let rules = 0;
    for (const f of ['web/app.css', 'web/widget.js']) {
      const src = fs.readFileSync(path.join(REPO, f), 'utf8');
      for (const m of src.matchAll(/:focus[^{]*\{([^}]*)\}/g)) {
        const o = m[1].match(/outline:\s*\d+px solid (#[0-9a-fA-F]{6})/);
        if (!o) continue;
        rules++;
        assert(
          contrast(o[1], '#ffffff') >= 3,
          `${f}: focus outline ${o[1]} is ${contrast(o[1], '#ffffff').toFixed(2)}:1 on white`,
        );
        // the ring outside the outline, or inside it where the outline is drawn inside the
        // element (a results card: a11y.js gridcell, whose card clips what lies outside)
        assert(
          /box-shadow:\s*(inset )?0 0 0 \d+px #fff\b/.test(m[1]) &&
            /inset/.test(m[1]) === /outline-offset:\s*-/.test(m[1]),
          `${f}: focus rule without its white ring: ${m[0]}`,
        );
        for (const d of dark)
          assert(
            contrast('#ffffff', d) >= 3,
            `white ring on ${d}: ${contrast('#ffffff', d).toFixed(2)}:1`,
          );
      }
    }
    assert(rules >= 3, `focus rules found: ${rules}`);
  });

  test('stats: Wilson interval, summary and exports carry the intended-use notice', async () => {
    const s = await import(pathToFileURL(path.join(REPO, 'web/stats.js')).href);
    const w = s.wilson(5, 10);
    assertClose(w.lo, 0.2366, 1e-4, 'wilson(5,10).lo');
    assertClose(w.hi, 0.7634, 1e-4, 'wilson(5,10).hi');
    const z = s.wilson(0, 20);
    assert(z.lo === 0, 'wilson(0,20).lo = 0');
    assertClose(z.hi, 0.1611, 1e-4, 'wilson(0,20).hi');
    assert(Number.isNaN(s.wilson(0, 0).p), 'no denominator -> NaN');
    const recs = [
      {
        name: '=cmd|x.png',
        result: {
          label: 'Parasitized',
          labelIndex: 1,
          pParasitized: 0.9,
          band: 'parasitized',
          logits: [0, 2],
          width: 1,
          height: 1,
          ms: 1,
        },
      },
      {
        name: 'a,b.png',
        result: {
          label: 'Uninfected',
          labelIndex: 0,
          pParasitized: 0.5,
          band: 'uncertain',
          logits: [1, 1],
          width: 1,
          height: 1,
          ms: 1,
        },
      },
      { name: 'bad.png', error: 'could not be decoded' },
    ];
    const sum = s.summarize(recs);
    assert(
      sum.classified === 2 && sum.parasitized === 1 && sum.uncertain === 1 && sum.errors === 1,
      JSON.stringify(sum),
    );
    const csv = s.toCSV(recs, { model: 'm' });
    assert(
      csv.startsWith('"# malaria-screen export. Intended use:'),
      'CSV notice first, one quoted field',
    );
    assert(csv.includes("'=cmd|x.png"), 'formula neutralised');
    assert(csv.includes('"a,b.png"'), 'comma quoted');
    // only text that is not a number is guarded: numbers (and numeric strings) stay numbers
    assert(
      s.csvField(-3.306405) === '-3.306405' &&
        s.csvField('-3.5') === '-3.5' &&
        s.csvField('+2e-3') === '+2e-3',
      'numbers not guarded',
    );
    assert(
      s.csvField('-neg') === "'-neg" &&
        s.csvField('+x') === "'+x" &&
        s.csvField('@a') === "'@a" &&
        s.csvField('=1+1') === "'=1+1" &&
        s.csvField('-3.5.png') === "'-3.5.png",
      'formula-like text guarded',
    );
    // a spreadsheet in a ';' locale (fr, pt, es) splits a double-clicked CSV on ';': a formula
    // after a ; , or tab is guarded and the field quoted, so it stays one cell
    assert(
      s.csvField('cell;=1+1;.png') === `"'cell;=1+1;.png"` &&
        s.csvField('P-17; =HYPERLINK("http://x")') === `"'P-17; =HYPERLINK(""http://x"")"` &&
        s.csvField('a, +b.png') === `"'a, +b.png"` &&
        s.csvField('a\t@b') === `"'a\t@b"` &&
        s.csvField('a;b') === '"a;b"' &&
        s.csvField('a\tb') === '"a\tb"' &&
        s.csvField('P-17') === 'P-17' &&
        s.csvField('a, b') === '"a, b"',
      'formula after a separator guarded',
    );
    assert(
      csv.split('\r\n')[2].split(',').includes('0') && csv.includes(',2,'),
      'logits written as numbers',
    );
    // the model's calls by band: the uncertain cell is to review, in the count
    assert(
      sum.uninfected === 0 && sum.share.p === 0.5,
      `band-based counts: ${JSON.stringify(sum)}`,
    );
    const slides = s.slideRows([
      ...recs.map((r) => ({ ...r, slide: 'S1' })),
      { ...recs[0], slide: 'S2', review: { call: 'uninfected' } },
    ]);
    assert(
      slides.length === 2 &&
        slides[0].slide === 'S1' &&
        slides[0].cells === 2 &&
        slides[0].to_review === 1 &&
        slides[0].images_not_read === 1,
      `slide rows ${JSON.stringify(slides)}`,
    );
    assert(
      slides[1].parasitized === 1 &&
        slides[1].reviewed_parasitized === 0 &&
        slides[1].reviewed_uninfected === 1 &&
        slides[1].reviewed_cells === 1,
      "a review overrides the model's call in the reviewed figures only",
    );
    // folders -> slides: a parent's subfolders; several folders; one folder; loose files
    const sl = (p) => JSON.stringify(s.slidesFromPaths(p).slides);
    assert(
      sl(['visit/A/1.png', 'visit/B/2.png', 'visit/3.png']) === '["A","B","visit"]',
      'one folder with subfolders: a slide each',
    );
    assert(
      sl(['A/1.png', 'B/x/2.png']) === '["A","B"]',
      'several folders: a slide each, named after them',
    );
    assert(
      sl(['folder50/1.png', 'folder50/2.png']) === '["folder50","folder50"]',
      'one folder without subfolders: one slide',
    );
    assert(
      sl(['A/1.png', 'loose.png']) === '["A",null]' &&
        s.slidesFromPaths(['x.png']).roots.length === 0,
      'loose files keep the typed slide',
    );
    const fhir = JSON.parse(s.toFHIR(recs, { model: 'm', digest: 'abc', band: [0.2, 0.98] }));
    assert(
      fhir.resourceType === 'Bundle' &&
        fhir.type === 'collection' &&
        fhir.entry.length === 1 &&
        fhir.entry[0].resource.valueQuantity.value === 50 &&
        fhir.entry[0].resource.status === 'preliminary',
      'FHIR bundle',
    );
    const json = JSON.parse(s.toJSON(recs, { model: 'm' }));
    assert(/not a diagnosis/i.test(json.intendedUse), 'JSON notice');
    assert(json.summary.shareParasitized.denominator === 2, 'denominator');
    assert(json.cells.length === 3 && json.cells[2].error, 'cells with errors');
  });

  // One Wilson interval: stats.js wilson (summaries, exports, the page) is engine.js wilson95 (the
  // worker, completeField; the core's wasm/src/field.cpp), [0, 1] for n = 0; what people see for
  // an empty set stays what it was: no share and no interval ('–', "no cells", empty CSV cells,
  // null in JSON), never "0.0–100 %".
  test("stats: wilson is the engine's wilson95 ([0, 1] for n = 0); an empty set shows no interval", async () => {
    const s = await import(pathToFileURL(path.join(REPO, 'web/stats.js')).href);
    const { wilson95 } = await import(engineUrl);
    for (const n of [0, 1, 2, 7, 50, 1000])
      for (const k of new Set(
        [0, 1, Math.floor(n / 3), n - 1, n].filter((k) => k >= 0 && k <= n),
      )) {
        const w = s.wilson(k, n);
        const [lo, hi] = wilson95(k, n);
        assert(
          w.lo === lo && w.hi === hi,
          `wilson(${k}, ${n}) ${JSON.stringify(w)} vs [${lo}, ${hi}]`,
        );
      }
    const z = s.wilson(0, 0);
    assert(
      Number.isNaN(z.p) && z.lo === 0 && z.hi === 1,
      `n = 0: no share, [0, 1] (nothing known): ${JSON.stringify(z)}`,
    );
    // an empty set: a field with no counted cell (all cut by the border) and an unreadable image
    const recs = [
      {
        name: 'f.png',
        slide: 'S',
        result: {
          mode: 'field',
          width: 10,
          height: 10,
          counted: 0,
          parasitized: 0,
          uncertain: 0,
          parasitemia: 0,
          ci95: [0, 1],
          excluded: { border: 2, white: 0, debris: 0, clump: 0 },
          cells: [{ index: 0, status: 'border', x: 0, y: 0, w: 1, h: 1 }],
          ms: 1,
        },
      },
      { name: 'b.png', slide: 'S', error: 'could not be decoded' },
    ];
    const meta = { model: 'm', digest: 'd', band: [0.2, 0.8] };
    const row = s.slideRows(recs)[0];
    assert(
      row.source === 'fields' &&
        row.cells === 0 &&
        [
          'share_parasitized',
          'ci95_lo',
          'ci95_hi',
          'reviewed_share_parasitized',
          'reviewed_ci95_lo',
          'reviewed_ci95_hi',
        ].every((k) => row[k] === null),
      `no cell: the slide row has no share and no interval: ${JSON.stringify(row)}`,
    );
    const lines = s.toSlidesCSV(recs, meta).split('\r\n');
    const cols = lines[1].split(',');
    const vals = lines[2].split(',');
    assert(
      ['share_parasitized', 'ci95_lo', 'ci95_hi'].every((c) => vals[cols.indexOf(c)] === ''),
      `no cell: empty CSV cells: ${lines[2]}`,
    );
    const json = JSON.parse(s.toJSON(recs, meta));
    const sum = json.summary;
    const tallies = ['fields', 'crops'].flatMap((g) =>
      ['model', 'reviewed'].map((k) => json.slides[0][g][k].share),
    );
    assert(
      sum.shareParasitized.value === null &&
        JSON.stringify(sum.shareParasitized.ci95) === '[null,null]' &&
        sum.fields.parasitemia.value === null &&
        JSON.stringify(sum.fields.parasitemia.ci95) === '[null,null]' &&
        tallies.every((t) => t.value === null && t.lo === null && t.hi === null),
      `no cell: no share and no interval in the JSON: ${JSON.stringify({ sum, tallies })}`,
    );
    assert(JSON.parse(s.toFHIR(recs, meta)).entry.length === 0, 'no cell: no FHIR observation');
    assert(
      s.parasitemiaText(z.p, z.lo, z.hi, 0, 'en') === s.parasitemiaText(NaN, NaN, NaN, 0, 'en') &&
        !/100/.test(s.parasitemiaText(z.p, z.lo, z.hi, 0, 'en')),
      "no cell: the page's text says so, with no interval",
    );
  });
}
