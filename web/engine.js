// engine.js -- the binding of the C API (wasm/include/malaria.h) for one wasm instance.
// Runs in a Worker (the page), on the main thread (the widget) and under Node (tests).
// No DOM access at import time.
// Files are held to the input policy before decoding (image-input.js, docs/INPUT.md).
import { sniffImage, policyProblem, decodeFailure, sizeProblem, MAX_FILE_BYTES } from './image-input.js';

export const LABELS = ['Uninfected', 'Parasitized'];
export const BANDS = ['uninfected', 'uncertain', 'parasitized'];
export const STATUSES = ['counted', 'border', 'white', 'debris', 'clump'];   // mc_field_cell.status
const ERR_LEN = 512;
/** Largest image the page will hand to the core (pixels); the core has its own limit too. */
export const MAX_PIXELS = 64 * 1024 * 1024;

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)) -- validates only where
// the engine supports SIMD128.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

export function simdSupported() {
  try { return WebAssembly.validate(SIMD_PROBE); } catch { return false; }
}

const hexOf = (digest) => Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');

/** Hex sha256 of bytes (crypto.subtle: browsers, workers, Node >= 19). */
export async function sha256Hex(bytes) {
  return hexOf(await crypto.subtle.digest('SHA-256', bytes));
}

/** Fetch the build's asset manifest that lies next to this script (or at an explicit URL). */
export async function loadManifest(url = new URL('./asset-manifest.json', import.meta.url)) {
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`asset manifest ${url}: HTTP ${res.status}`);
  return res.json();
}

/** fetch() that turns a network failure or an HTTP error into an Error naming the asset. */
async function fetchOk(url, what) {
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin' });
  } catch (e) {
    throw new Error(`${what} ${url} could not be loaded (${e.message}); offline before the first visit?`);
  }
  if (!res.ok) throw new Error(`${what} ${url}: HTTP ${res.status} ${res.statusText}`);
  return res;
}

/** Fetch bytes and check them against an expected sha256 (hex) where one is known. */
export async function fetchVerified(url, expectedSha256, what) {
  const res = await fetchOk(url, what);
  const bytes = new Uint8Array(await res.arrayBuffer());
  await checkBytes(bytes, expectedSha256, `${what} ${url}`);
  return bytes;
}

export async function checkBytes(bytes, expectedSha256, what) {
  if (bytes.length === 0) throw new Error(`${what} is empty`);
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart().toLowerCase();
  if (head.startsWith('<!doctype') || head.startsWith('<html') || head.startsWith('<')) {
    throw new Error(`${what} is an HTML page, not the expected binary (a wrong URL or a cached error page)`);
  }
  if (expectedSha256) {
    const got = await sha256Hex(bytes);
    if (got !== expectedSha256.toLowerCase()) {
      throw new Error(`${what} failed its integrity check: sha256 ${got.slice(0, 16)}... ` +
                      `expected ${expectedSha256.slice(0, 16)}...`);
    }
  }
}

/**
 * Fetch and compile a wasm module, checking its bytes against an expected sha256 (hex).
 * Compiles with WebAssembly.compileStreaming while the bytes arrive, so that V8 can cache the
 * optimized machine code of a module served from the HTTP or service-worker cache (a repeat
 * visit then skips compilation and runs optimized code from the first call), and hashes a clone
 * of the response at the same time; the module is used only if the hash matches. Falls back to
 * compiling the bytes where streaming is not possible (no compileStreaming, a server that does
 * not send application/wasm).
 */
export async function compileVerified(url, expectedSha256, what = 'wasm module') {
  const res = await fetchOk(url, what);
  const streaming = typeof WebAssembly.compileStreaming === 'function' &&
    /^application\/wasm\b/.test(res.headers.get('Content-Type') || '');
  if (!streaming) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    await checkBytes(bytes, expectedSha256, `${what} ${url}`);
    return WebAssembly.compile(bytes);
  }
  const copy = res.clone();
  const [module] = await Promise.all([
    WebAssembly.compileStreaming(res),
    copy.arrayBuffer().then((b) => checkBytes(new Uint8Array(b), expectedSha256, `${what} ${url}`)),
  ]);
  return module;
}

/**
 * Instantiate one wasm module: the Emscripten glue `jsUrl` with `wasm`, either the module's
 * bytes or an already compiled WebAssembly.Module.
 */
export async function instantiateModule(jsUrl, wasm) {
  const { default: factory } = await import(/* @vite-ignore */ jsUrl);
  const printErr = [];
  const opts = {
    print: () => {},
    printErr: (s) => { printErr.push(String(s)); if (printErr.length > 20) printErr.shift(); },
  };
  let failed = null;
  if (wasm instanceof WebAssembly.Module) {
    // Emscripten's hook for a module compiled elsewhere (here: streamed and verified). The glue
    // would wait forever if instantiation failed, so that failure rejects on its own.
    failed = new Promise((resolve, reject) => {
      opts.instantiateWasm = (imports, receive) => {
        WebAssembly.instantiate(wasm, imports).then((inst) => receive(inst, wasm), reject);
        return {};
      };
    });
  } else {
    opts.wasmBinary = wasm;
  }
  const M = await (failed ? Promise.race([factory(opts), failed]) : factory(opts));
  M.__printErr = printErr;
  return M;
}

/**
 * SHA-256 of a model blob's payload (bytes [64, end), what the preamble's checksum covers),
 * with WebCrypto: the core then compares it with the preamble instead of hashing 11 MB in wasm
 * (docs/FORMAT.md). Null for a buffer too short to have a payload (the core reports that).
 */
export async function payloadDigest(modelBytes) {
  if (!(modelBytes && modelBytes.length > 64) || !(globalThis.crypto && crypto.subtle)) return null;
  return new Uint8Array(await crypto.subtle.digest('SHA-256', modelBytes.subarray(64)));
}

/**
 * The payload digest that the preamble records (bytes [32, 64)), for a blob whose whole-file
 * sha256 has just been checked against the build's asset manifest: that check already proves
 * the payload intact, so a second 11 MB hash would add nothing. Never use it for bytes that
 * were not checked that way (payloadDigest then).
 */
export function manifestCheckedDigest(modelBytes) {
  return modelBytes && modelBytes.length > 64 ? modelBytes.slice(32, 64) : null;
}

// ---- the model's local copy (origin private file system) ----------------------------------
// Reading 11 MB out of the HTTP or service-worker cache takes ~60-95 ms here; the same bytes
// from an OPFS file ~35-45 ms with getFile(), ~11 ms read by a Worker straight into its wasm heap
// (openModelCopy, Engine.createChecked; BENCHMARKS.md). The copy is named by the sha256 that the
// asset manifest gives the model, written only from bytes checked against that sha256, atomically
// (createWritable swaps the file in on close), and replaced when the model changes. Its file is
// the blob followed by a 16-byte trailer, 'MCBCOPY1' and the XXH64 of the blob (mc_checksum64,
// little-endian): every read checks that the bytes are still the ones written, in ~3 ms of wasm.
// (A SHA-256 of the copy at every read cost ~20 ms: WebCrypto hashes on the calling thread in
// Chromium, and that thread is the one building the engine.) Only the page uses it (an
// embedding site's storage is not ours to fill).
const COPY_DIR = 'malaria-model-copy';
const COPY_TRAILER = 16;
const COPY_MAGIC = new TextEncoder().encode('MCBCOPY1');
const copyName = (sha256) => `${sha256}.copy`;

/** XXH64 of M.HEAPU8[ptr, ptr + n) as 8 bytes (mc_checksum64). */
export function checksum64(M, ptr, n) {
  const out = M._malloc(8);
  if (!out) throw new Error('out of memory');
  try {
    M._mc_checksum64(ptr, n, out);
    return M.HEAPU8.slice(out, out + 8);
  } finally {
    M._free(out);
  }
}

/** Whether file[n, n + 16) is the trailer of a copy whose blob file[0, n) has XXH64 `sum`. */
function copyTrailerMatches(file, n, sum) {
  return file.length === n + COPY_TRAILER && COPY_MAGIC.every((v, i) => file[n + i] === v)
    && sum.every((v, i) => file[n + 8 + i] === v);
}

async function copyDir(create) {
  if (typeof navigator === 'undefined' || !navigator.storage || !navigator.storage.getDirectory) return null;
  return (await navigator.storage.getDirectory()).getDirectoryHandle(COPY_DIR, { create });
}

/**
 * The blob of the local copy of the model whose sha256 (hex) is `sha256` (its trailer taken
 * off, not checked here: the caller hashes the blob), or null (none, too short, no OPFS).
 */
export async function readModelCopy(sha256) {
  try {
    const dir = await copyDir(false);
    if (!dir) return null;
    const file = await (await dir.getFileHandle(copyName(sha256))).getFile();
    // empty while another page of this origin is writing it (the data lands on close)
    if (file.size <= 64 + COPY_TRAILER) return null;
    return new Uint8Array(await file.arrayBuffer(), 0, file.size - COPY_TRAILER);
  } catch {
    return null;
  }
}

/**
 * Open the local copy for reading into wasm memory, or null (none, empty, no OPFS). In a
 * dedicated Worker: {sync}, a read-only sync access handle (Engine.createChecked reads the file
 * straight into the wasm heap: no Blob round trip, no second copy; read-only handles do not lock
 * out the page's other Workers); elsewhere, or where sync handles are missing or busy: {bytes}.
 * The caller closes `sync`.
 */
export async function openModelCopy(sha256) {
  try {
    const dir = await copyDir(false);
    if (!dir) return null;
    const fh = await dir.getFileHandle(copyName(sha256));
    if (typeof fh.createSyncAccessHandle === 'function') {
      for (const opt of [{ mode: 'read-only' }, undefined]) {
        let h;
        try { h = await fh.createSyncAccessHandle(opt); } catch { continue; }
        if (h.getSize() > 0) return { sync: h };
        h.close();
        return null;   // empty while another page of this origin is writing it
      }
    }
    const file = await fh.getFile();
    return file.size ? { bytes: new Uint8Array(await file.arrayBuffer()) } : null;
  } catch {
    return null;
  }
}

/** A model blob whose bytes are not the ones the manifest names (Engine.createChecked). */
export class ModelIntegrityError extends Error {}

/**
 * Store `bytes` (already checked against `sha256`) as the local copy, with `checksum`, their
 * XXH64 from checksum64 (the engine that was built from them computes it); drops older copies.
 * False when nothing was written (no OPFS, no checksum).
 */
export async function writeModelCopy(sha256, bytes, checksum) {
  try {
    if (!(checksum && checksum.length === 8)) return false;
    const dir = await copyDir(true);
    if (!dir) return false;
    const name = copyName(sha256);
    const trailer = new Uint8Array(COPY_TRAILER);
    trailer.set(COPY_MAGIC);
    trailer.set(checksum, 8);
    const fh = await dir.getFileHandle(name, { create: true });
    const w = await fh.createWritable();
    await w.write(bytes);
    await w.write(trailer);
    await w.close();
    for await (const other of dir.keys()) if (other !== name) await dir.removeEntry(other);
    return true;
  } catch {
    return false;
  }
}

/** Remove the local copy (a copy that failed its check). */
export async function dropModelCopy(sha256) {
  try {
    const dir = await copyDir(false);
    if (dir) await dir.removeEntry(copyName(sha256));
  } catch { /* nothing to drop */ }
}

// The checks classify makes before any byte goes to wasm: a message naming what is wrong.
function checkPixels(pixels, width, height, channels) {
  if (!(width > 0 && height > 0)) throw new Error(`image has no pixels (${width}x${height})`);
  if (width * height > MAX_PIXELS) {
    throw new Error(`image too large: ${width}x${height} pixels (limit ${MAX_PIXELS})`);
  }
  if (!pixels || pixels.length !== width * height * channels) {
    throw new Error(`pixel buffer of ${pixels ? pixels.length : 0} bytes does not match ${width}x${height}x${channels}`);
  }
}

function cString(M, ptr) {
  if (!ptr) return '';
  const heap = M.HEAPU8;
  let end = ptr;
  while (end < heap.length && heap[end] !== 0) end++;
  return new TextDecoder().decode(heap.subarray(ptr, end));
}

/** One engine: a wasm instance plus one mc_engine built from a model blob. */
export class Engine {
  constructor(M, enginePtr, variant) {
    this.M = M;
    this.ptr = enginePtr;
    this.variant = variant;
    this.err = M._malloc(ERR_LEN);
    this.res = M._malloc(32);
    this.size = M._mc_input_size(enginePtr);
    const metaText = cString(M, M._mc_metadata_json(enginePtr));
    try { this.metadata = JSON.parse(metaText); } catch { this.metadata = { raw: metaText }; }
    const labels = this.metadata && Array.isArray(this.metadata.labels) ? this.metadata.labels : null;
    this.labels = labels && labels.length === 2 ? labels.map(String) : LABELS;
    this.layout = [0, 1, 2, 3, 4].map((i) => M._mc_web_result_layout(i));
    if (this.layout.join() !== '20,0,8,12,16') {
      throw new Error(`unexpected mc_result layout ${this.layout.join()}`);
    }
    this.broken = null;
    this.staged = false;        // set by create / createChecked for a staged engine
    this._classified = false;
  }

  /**
   * Create from model bytes; rejects with the core's message for a bad blob. `digest`: the
   * payloadDigest() of exactly these bytes, or null to let the core hash them.
   */
  static create(M, modelBytes, variant, digest = null) {
    const err = M._malloc(ERR_LEN);
    const blob = M._malloc(modelBytes.length);
    const dig = digest ? M._malloc(32) : 0;
    if (!err || !blob || (digest && !dig)) {
      for (const q of [err, blob, dig]) if (q) M._free(q);
      throw new Error('out of memory while loading the model');
    }
    M.HEAPU8.fill(0, err, err + ERR_LEN);
    M.HEAPU8.set(modelBytes, blob);
    if (dig) M.HEAPU8.set(digest, dig);
    // what a local copy of these bytes records (writeModelCopy), before the engine owns them;
    // none (no copy is written then) where the module lacks it or 8 bytes cannot be had
    let checksum = null;
    try { if (M._mc_checksum64) checksum = checksum64(M, blob, modelBytes.length); } catch { /* none */ }
    let ptr;
    try {
      // the engine takes the buffer over (and frees it): the weights that run as stored are
      // read in place, not copied once more
      ptr = (M._mc_engine_create_staged || M._mc_engine_create_adopt)(blob, modelBytes.length, dig, err, ERR_LEN);
    } catch (e) {
      throw new Error(`model rejected: the engine crashed while reading it (${e.message || e})`);
    } finally {
      if (dig) M._free(dig);
    }
    const msg = cString(M, err);
    M._free(err);
    if (!ptr) throw new Error(`model rejected: ${msg || 'unknown reason'}`);
    const engine = new Engine(M, ptr, variant);
    engine.staged = !!M._mc_engine_create_staged;
    engine.checksum = checksum;   // XXH64 of the model bytes (8 bytes)
    return engine;
  }

  /**
   * Create from the local copy of the model (openModelCopy: {sync}, a FileSystemSyncAccessHandle
   * read straight into the wasm heap, or {bytes}, the whole file). The copy was written only
   * from bytes checked against the manifest's sha256 (`expectedSha256`, which names it); its
   * trailer's XXH64 must still match the blob, else this rejects with a ModelIntegrityError
   * before any engine exists. The check proves the payload intact, so the core is given the
   * preamble's own payload digest instead of hashing 11 MB once more.
   */
  static async createChecked(M, src, variant, expectedSha256) {
    const size = src.sync ? src.sync.getSize() : src.bytes.length;
    if (!(size > 64 + COPY_TRAILER)) throw new ModelIntegrityError(`model copy is too short (${size} bytes)`);
    const n = size - COPY_TRAILER;
    const err = M._malloc(ERR_LEN);
    const blob = M._malloc(size);
    const dig = M._malloc(32);
    if (!err || !blob || !dig) {
      for (const q of [err, blob, dig]) if (q) M._free(q);
      throw new Error('out of memory while loading the model');
    }
    try {
      if (src.sync) {
        const got = src.sync.read(M.HEAPU8.subarray(blob, blob + size), { at: 0 });
        if (got !== size) throw new ModelIntegrityError(`model copy: read ${got} of ${size} bytes`);
      } else {
        M.HEAPU8.set(src.bytes, blob);
      }
      const sum = checksum64(M, blob, n);
      if (!copyTrailerMatches(M.HEAPU8.subarray(blob, blob + size), n, sum)) {
        throw new ModelIntegrityError(`model copy (sha256 ${String(expectedSha256).slice(0, 16)}...) ` +
                                      'failed its checksum: damaged since it was written');
      }
      M.HEAPU8.fill(0, err, err + ERR_LEN);
      M.HEAPU8.copyWithin(dig, blob + 32, blob + 64);
    } catch (e) {
      for (const q of [err, blob, dig]) M._free(q);
      throw e;
    }
    let ptr = 0;
    try {
      // takes the buffer over; staged: the first result comes before the Winograd weights exist
      ptr = (M._mc_engine_create_staged || M._mc_engine_create_adopt)(blob, n, dig, err, ERR_LEN);
    } catch (e) {
      const x = new Error(`model rejected: the engine crashed while reading it (${e.message || e})`);
      x.instanceBroken = true;   // the instance is unusable from here on
      throw x;
    }
    const msg = cString(M, err);
    M._free(dig);
    M._free(err);
    if (!ptr) throw new Error(`model rejected: ${msg || 'unknown reason'}`);
    const engine = new Engine(M, ptr, variant);
    engine.staged = !!M._mc_engine_create_staged;
    return engine;
  }

  /**
   * Classify RGBA (or RGB with channels=3) pixels. Returns
   * {labelIndex, label, pParasitized, band, bandIndex, logits, cam, size, width, height, ms,
   *  batch} (batch: how many images shared the pass, 1 here).
   */
  classifyPixels(pixels, width, height, channels = 4) {
    if (this.broken) throw new Error(`engine unusable after an earlier crash: ${this.broken}`);
    this._finishIfDue();
    checkPixels(pixels, width, height, channels);
    const M = this.M;
    const t0 = performance.now();
    const px = M._malloc(pixels.length);
    if (!px) throw new Error(`out of memory for a ${width}x${height} image`);
    let rc;
    try {
      M.HEAPU8.set(pixels, px);
      M.HEAPU8[this.err] = 0;
      rc = M._mc_classify_rgba(this.ptr, px, width, height, channels, this.res, this.err, ERR_LEN);
    } catch (e) {
      this.broken = String(e && e.message || e);
      throw new Error(`engine crashed: ${this.broken}`);
    } finally {
      try { M._free(px); } catch { /* engine already broken */ }
    }
    const ms = performance.now() - t0;
    if (rc !== 0) throw new Error(cString(M, this.err) || `classification failed (code ${rc})`);
    return this._result(this.res, M._mc_cam(this.ptr), width, height, ms, 1);
  }

  /** Images one classifyBatch pass takes (8 for an int8 model, 1 for f32/f16). */
  get batchCapacity() { return this.M._mc_batch_capacity(this.ptr); }

  /**
   * Classify up to batchCapacity images ({data, width, height}, RGBA) in one pass of the network
   * (each weight read once for all of them): the same results as classifyPixels image by image,
   * bit for bit. Returns one entry per image: {result} or {error} (an image that cannot be read
   * does not stop the others); ms of each result is its share of the pass.
   */
  classifyBatch(images) {
    if (this.broken) throw new Error(`engine unusable after an earlier crash: ${this.broken}`);
    this._finishIfDue();
    const out = images.map((img) => {
      try { checkPixels(img.data, img.width, img.height, 4); return null; } catch (e) { return { error: e.message }; }
    });
    const todo = images.map((img, i) => i).filter((i) => !out[i]);
    if (todo.length > this.batchCapacity) throw new Error(`batch of ${todo.length} images: this engine takes ${this.batchCapacity}`);
    if (!todo.length) return out;
    const M = this.M, n = todo.length, RES = 20;   // sizeof(mc_result)
    const t0 = performance.now();
    // one block: pixel pointers, widths, heights, status (int32 each), results; then the pixels
    const arrays = M._malloc(n * (4 * 4 + RES));
    const px = [];
    try {
      if (!arrays) throw new Error('out of memory for a batch');
      for (const i of todo) {
        const p = M._malloc(images[i].data.length);
        if (!p) throw new Error(`out of memory for a ${images[i].width}x${images[i].height} image`);
        px.push(p);
        M.HEAPU8.set(images[i].data, p);
      }
      const a = arrays >> 2;
      todo.forEach((i, k) => {
        M.HEAPU32[a + k] = px[k];
        M.HEAP32[a + n + k] = images[i].width;
        M.HEAP32[a + 2 * n + k] = images[i].height;
      });
      M.HEAPU8[this.err] = 0;
      let rc;
      try {
        rc = M._mc_classify_batch_rgba(this.ptr, n, arrays, arrays + 4 * n, arrays + 8 * n, 4,
                                       arrays + 16 * n, arrays + 12 * n, this.err, ERR_LEN);
      } catch (e) {   // a trap: this instance is done for
        this.broken = String(e && e.message || e);
        throw new Error(`engine crashed: ${this.broken}`);
      }
      if (rc < 0) throw new Error(cString(M, this.err) || `classification failed (code ${rc})`);
      const ms = (performance.now() - t0) / n;
      todo.forEach((i, k) => {
        out[i] = M.HEAP32[(arrays >> 2) + 3 * n + k] === 0
          ? { result: this._result(arrays + 16 * n + RES * k, M._mc_cam_at(this.ptr, k), images[i].width, images[i].height, ms, n) }
          : { error: `image could not be read (${images[i].width}x${images[i].height})` };
      });
      return out;
    } finally {
      if (!this.broken) {
        for (const p of px) M._free(p);
        if (arrays) M._free(arrays);
      }
    }
  }

  /**
   * What an image is and, for a whole field, its cells: the core's decision (field.h) unless
   * `mode` forces it ('auto' | 'cell' | 'field'). Returns {kind: 'cell'} for a cut-out cell (to
   * classify with classifyPixels / classifyBatch) or, for a field, {kind: 'field', result} with
   * result = {mode: 'field', width, height, counted, parasitized, uncertain, excluded: {border,
   * white, debris, clump}, parasitemia, ci95: [lo, hi], cellDiameter, ms, cells: [{index, x, y, w,
   * h, status, label, pParasitized, band, outline: [x0, y0, x1, y1, ...]}]} (every region found;
   * only status 'counted' ones are classified and counted). Throws the core's message for an
   * image that is neither ("not a blood-smear image: ...", "does not look like a single red-cell
   * image: ...").
   */
  analyze(img, mode = 'auto') {
    if (this.broken) throw new Error(`engine unusable after an earlier crash: ${this.broken}`);
    checkPixels(img.data, img.width, img.height, 4);
    const M = this.M;
    if (!this.field) {
      const lay = [0, 1, 2, 3, 4, 5, 6].map((i) => M._mc_web_field_layout(i));
      if (lay.join() !== '224,16,28,32,48,32,44') throw new Error(`unexpected mc_field layout ${lay.join()}`);
      this.field = M._mc_field_create();
      if (!this.field) throw new Error('out of memory for the cell finder');
    }
    const t0 = performance.now();
    const px = M._malloc(img.data.length);
    if (!px) throw new Error(`out of memory for a ${img.width}x${img.height} image`);
    try {
      M.HEAPU8.set(img.data, px);
      M.HEAPU8[this.err] = 0;
      const want = mode === 'cell' ? 0 : mode === 'field' ? 1 : -1;
      const kind = M._mc_image_kind(this.field, px, img.width, img.height, 4, want, this.err, ERR_LEN);
      if (kind < 0 || kind === 2) throw new Error(cString(M, this.err) || 'not a blood-smear image');
      if (kind === 0) return { kind: 'cell' };
      this._finishIfDue();
      const n = M._mc_classify_field(this.ptr, this.field, px, img.width, img.height, 4, this.err, ERR_LEN);
      if (n < 0) throw new Error(cString(M, this.err) || 'field analysis failed');
      return { kind: 'field', result: this._fieldResult(img.width, img.height, n, performance.now() - t0) };
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError || (e && e.name === 'RuntimeError')) {
        this.broken = String(e.message || e);
        throw new Error(`engine crashed: ${this.broken}`);
      }
      throw e;
    } finally {
      if (!this.broken) M._free(px);
    }
  }

  /**
   * The occlusion heat map of one cut-out cell ({data, width, height}, RGBA), computed on demand
   * (mc_explain, wasm/src/explain.h): a 6 x 6 patch of the S x S network input slides over the
   * cell with stride 4 and `map` holds, per input pixel, the mean drop of the Parasitized logit
   * over the patches that cover it (positive: covering it lowers the evidence for Parasitized).
   * Returns {map: Float32Array size*size row-major over the whole image, size, ms, passes,
   * peak: [x, y] (the map's peak over the cell, in image pixels), width, height, label,
   * pParasitized, band (of the unoccluded image, as classifyPixels gives them)}. Up to 257
   * network passes at S = 64: ~0.8 s with SIMD128 (~6 s scalar), on the engine's thread.
   * Measured on the test slides' parasitized cells in model/REPORT.md, "Heat map"; it has nothing
   * to point at on a cell called Uninfected.
   */
  explain(img) {
    if (this.broken) throw new Error(`engine unusable after an earlier crash: ${this.broken}`);
    this._finishIfDue();
    checkPixels(img.data, img.width, img.height, 4);
    const M = this.M, S = this.size;
    const t0 = performance.now();
    // one block: the map (S*S floats), the peak (2 floats); then the pixels
    const block = M._malloc(4 * (S * S + 2));
    const px = block ? M._malloc(img.data.length) : 0;
    if (!block || !px) {
      if (block) M._free(block);
      throw new Error(`out of memory for the heat map of a ${img.width}x${img.height} image`);
    }
    let rc;
    try {
      M.HEAPU8.set(img.data, px);
      M.HEAPU8[this.err] = 0;
      try {
        rc = M._mc_explain(this.ptr, px, img.width, img.height, 4, block, this.res, block + 4 * S * S, this.err, ERR_LEN);
      } catch (e) {   // a trap: this instance is done for
        this.broken = String(e && e.message || e);
        throw new Error(`engine crashed: ${this.broken}`);
      }
      if (rc < 0) throw new Error(cString(M, this.err) || `heat map failed (code ${rc})`);
      const map = new Float32Array(M.HEAPF32.buffer, block, S * S).slice();
      const pk = new Float32Array(M.HEAPF32.buffer, block + 4 * S * S, 2);
      const r = this._result(this.res, 0, img.width, img.height, 0, 1);
      return {
        map, size: S, ms: performance.now() - t0, passes: rc,
        peak: [pk[0] * img.width / S, pk[1] * img.height / S], width: img.width, height: img.height,
        label: r.label, pParasitized: r.pParasitized, band: r.band,
      };
    } finally {
      if (!this.broken) { M._free(px); M._free(block); }
    }
  }

  _fieldResult(width, height, n, ms) {
    const M = this.M, f32 = M.HEAPF32, i32 = M.HEAP32;
    const s = M._mc_field_summary_of(this.field) >> 2;
    const cells = [];
    const base = M._mc_field_cells(this.field);
    for (let i = 0; i < n; i++) {
      const c = (base + 224 * i) >> 2;
      const status = STATUSES[i32[c + 4]] || 'debris';
      const counted = status === 'counted';
      cells.push({
        index: i, x: i32[c], y: i32[c + 1], w: i32[c + 2], h: i32[c + 3], status,
        label: counted ? (i32[c + 5] === 1 ? 'Parasitized' : 'Uninfected') : null,
        band: counted ? (BANDS[i32[c + 6]] || 'uncertain') : null,
        pParasitized: counted ? f32[c + 7] : null,
        outline: Array.from(f32.subarray(c + 8, c + 8 + 48), (v) => Math.round(v * 10) / 10),
      });
    }
    return {
      mode: 'field', width, height, regions: i32[s], counted: i32[s + 1], parasitized: i32[s + 2],
      uncertain: i32[s + 3],
      excluded: { border: i32[s + 4], white: i32[s + 5], debris: i32[s + 6], clump: i32[s + 7] },
      parasitemia: f32[s + 8], ci95: [f32[s + 9], f32[s + 10]], cellDiameter: f32[s + 11], ms, cells,
    };
  }

  _result(r, camPtr, width, height, ms, batch) {
    const M = this.M, f32 = M.HEAPF32, i32 = M.HEAP32;
    const logits = [f32[r >> 2], f32[(r >> 2) + 1]];
    const pParasitized = f32[(r + 8) >> 2];
    const labelIndex = i32[(r + 12) >> 2];
    const bandIndex = i32[(r + 16) >> 2];
    const S = this.size;
    const cam = camPtr ? new Float32Array(M.HEAPF32.buffer, camPtr, S * S).slice() : new Float32Array(0);
    return {
      mode: 'cell', label: labelIndex === 1 ? 'Parasitized' : 'Uninfected',
      labelIndex, pParasitized, band: BANDS[bandIndex] || 'uncertain', bandIndex,
      logits, cam, size: S, width, height, ms, batch,
    };
  }

  /**
   * A staged engine (made for the quickest first result: its Winograd weights deferred,
   * mc_engine_create_staged) makes what it deferred. classify calls do it themselves before
   * the engine's second classification; results are the same before and after.
   */
  finish() {
    if (!this.staged) return;
    this.staged = false;
    const M = this.M;
    let rc;
    try {
      M.HEAPU8[this.err] = 0;
      rc = M._mc_engine_finish(this.ptr, this.err, ERR_LEN);
    } catch (e) {
      this.broken = String(e && e.message || e);
      throw new Error(`engine crashed: ${this.broken}`);
    }
    if (rc !== 0) {
      this.broken = cString(M, this.err) || 'mc_engine_finish failed';
      throw new Error(`engine unusable: ${this.broken}`);
    }
  }

  _finishIfDue() {
    if (this.staged && this._classified) this.finish();
    this._classified = true;
  }

  dispose() {
    if (!this.ptr) return;
    try {
      if (this.field) this.M._mc_field_destroy(this.field);
      this.field = 0;
      this.M._mc_engine_destroy(this.ptr);
      this.M._free(this.err);
      this.M._free(this.res);
    } catch { /* instance already aborted */ }
    this.ptr = 0;
  }
}

/**
 * Load the module that fits this machine and an engine for `modelBytes`.
 * `assets`: the build's asset manifest; `baseUrl`: where the manifest's relative paths start.
 * `prefer`: 'auto' | 'simd' | 'nosimd'. Falls back to the scalar module if SIMD fails to start.
 */
export async function loadEngine({ assets, baseUrl, modelBytes, prefer = 'auto', wasmBytes = null }) {
  const instance = startModule({ assets, baseUrl, prefer, wasmBytes });
  const digest = payloadDigest(modelBytes);   // hashed while the module compiles
  const { M, variant } = await instance;
  // A bad model is not a reason to try the other module: report it as it is.
  return Engine.create(M, modelBytes, variant, await digest);
}

/**
 * Fetch, verify, compile and instantiate the wasm module that fits this machine, before the
 * model is there (the page starts it while the model downloads). Resolves {M, variant}.
 * `prefer`: 'auto' | 'simd' | 'nosimd'; falls back to the scalar module if SIMD fails to start.
 */
export async function startModule({ assets, baseUrl, prefer = 'auto', wasmBytes = null }) {
  const order = prefer === 'nosimd' ? ['nosimd']
    : prefer === 'simd' ? ['simd']
      : simdSupported() ? ['simd', 'nosimd'] : ['nosimd'];
  let lastErr;
  for (const variant of order) {
    const a = assets.wasm[variant];
    try {
      const wasm = wasmBytes && wasmBytes[variant] ||
        await compileVerified(new URL(a.wasm, baseUrl).href, a.sha256, 'wasm module');
      return { M: await instantiateModule(new URL(a.js, baseUrl).href, wasm), variant };
    } catch (e) {
      lastErr = new Error(`could not start the ${variant} engine: ${e.message || e}`);
    }
  }
  throw lastErr;
}

/**
 * Decode an image with the browser: Blob/File, ImageBitmap, ImageData or {data,width,height}.
 * Returns {data: Uint8ClampedArray RGBA, width, height}. Never premultiplies, never converts colour
 * spaces, so the core sees the file's own pixel values; applies the EXIF orientation.
 * A file is first held to the input policy (image-input.js, docs/INPUT.md): told what it is from
 * its first bytes (not its name or declared type), refused with a message that says what it is
 * and why (not a PNG, JPEG, BMP or WebP image; animated; CMYK; over the core's size limits, read
 * from the header before anything is decoded; empty), and a decoding failure says corrupt or
 * truncated. Images with an alpha channel are decoded with WebCodecs' ImageDecoder where there is
 * one: a 2D canvas stores premultiplied pixels, which would change the colour of every pixel that
 * is not opaque, while the native CLI reads the stored RGB and ignores alpha.
 */
export async function decodeImage(input, name = 'image') {
  if (input && typeof input === 'object' && 'data' in input && 'width' in input && 'height' in input &&
      !(typeof Blob !== 'undefined' && input instanceof Blob)) {
    return { data: input.data, width: input.width, height: input.height };
  }
  const fail = (msg) => new Error(`${name}: ${msg}`);
  const isBitmap = typeof ImageBitmap !== 'undefined' && input instanceof ImageBitmap;
  if (isBitmap) {
    const tooBig = sizeProblem(input.width, input.height);
    if (tooBig) throw fail(tooBig);
    return pixelsOf(input);
  }
  if (!(typeof Blob !== 'undefined' && input instanceof Blob)) {
    throw fail('unsupported input (expected a Blob, File, ImageBitmap or ImageData)');
  }
  if (input.size === 0) throw fail('empty file (0 bytes)');
  if (input.size > MAX_FILE_BYTES) {
    throw fail(`file too large (${input.size} bytes; limit ${MAX_FILE_BYTES / (1024 * 1024)} MiB)`);
  }
  // the header: 64 KiB, more while it goes on (a JPEG's EXIF and ICC segments come first)
  let head, info;
  for (let n = Math.min(input.size, 65536); ; n = Math.min(input.size, n * 8)) {
    head = new Uint8Array(await input.slice(0, n).arrayBuffer());
    info = sniffImage(head, input.size);
    if (!info.needMore || n >= input.size || n >= 16 * 1024 * 1024) break;
  }
  const refused = policyProblem(info, head);
  if (refused) throw fail(refused);
  let img = null;
  if (info.alpha) img = await decodeUnpremultiplied(input, info);   // null: not here, or not this one
  if (!img) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(input, {
        colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image',
      });
    } catch {
      const tail = new Uint8Array(await input.slice(Math.max(0, input.size - 64)).arrayBuffer());
      throw fail(decodeFailure(info, tail));
    }
    try {
      const tooBig = sizeProblem(bitmap.width, bitmap.height);
      if (tooBig) throw fail(tooBig);
      img = pixelsOf(bitmap);
    } finally {
      bitmap.close();
    }
  }
  return img;
}

function pixelsOf(bitmap) {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  const img = ctx.getImageData(0, 0, width, height);
  return { data: img.data, width, height };
}

/**
 * The stored RGBA of an image with an alpha channel, not premultiplied (ImageDecoder with
 * premultiplyAlpha 'none'), or null where that cannot be had (no ImageDecoder, a type or pixel
 * format it does not give, a frame with an orientation to apply): the caller then decodes
 * through a canvas.
 */
async function decodeUnpremultiplied(blob, info) {
  const type = { png: 'image/png', webp: 'image/webp', bmp: 'image/bmp' }[info.kind];
  if (!type || typeof ImageDecoder === 'undefined') return null;
  let dec = null, frame = null;
  try {
    if (!(await ImageDecoder.isTypeSupported(type))) return null;
    dec = new ImageDecoder({ data: await blob.arrayBuffer(), type, premultiplyAlpha: 'none',
                             colorSpaceConversion: 'none' });
    frame = (await dec.decode({ frameIndex: 0 })).image;
    const w = frame.codedWidth, h = frame.codedHeight;
    const swap = { RGBA: false, RGBX: false, BGRA: true, BGRX: true }[frame.format];
    if (swap === undefined || frame.rotation || frame.flip || w !== frame.displayWidth || h !== frame.displayHeight) return null;
    if (sizeProblem(w, h)) return null;
    const data = new Uint8ClampedArray(w * h * 4);
    await frame.copyTo(data);
    if (swap) for (let i = 0; i < data.length; i += 4) { const r = data[i + 2]; data[i + 2] = data[i]; data[i] = r; }
    if (frame.format.endsWith('X')) for (let i = 3; i < data.length; i += 4) data[i] = 255;
    return { data, width: w, height: h };
  } catch {
    return null;   // decoded again through a canvas, which says what is wrong
  } finally {
    if (frame) frame.close();
    if (dec) dec.close();
  }
}
