// assets.js -- the build's assets: fetch, check against the asset manifest's sha256, compile and
// instantiate the wasm module that fits this machine; the model's payload digest.
// Runs in a Worker, on the main thread and under Node (tests). No DOM access at import time.
// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)) -- validates only where
// the engine supports SIMD128.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15,
  253, 98, 11,
]);

export function simdSupported() {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

const hexOf = (digest) =>
  Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');

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
    throw new Error(
      `${what} ${url} could not be loaded (${e.message}); offline before the first visit?`,
    );
  }
  if (!res.ok) throw new Error(`${what} ${url}: HTTP ${res.status} ${res.statusText}`);
  return res;
}

/**
 * Fetch bytes and check them against an expected sha256 (hex) where one is known.
 * `onProgress({loaded, total})`: called as the body arrives (total: the Content-Length, else
 * `total` given, else 0 when unknown), last with loaded = the bytes read.
 */
export async function fetchVerified(url, expectedSha256, what, { onProgress, total = 0 } = {}) {
  const res = await fetchOk(url, what);
  const bytes = onProgress
    ? await readWithProgress(res, onProgress, total)
    : new Uint8Array(await res.arrayBuffer());
  await checkBytes(bytes, expectedSha256, `${what} ${url}`);
  return bytes;
}

/** A response's body read chunk by chunk, with progress; one exactly sized buffer at the end. */
export async function readWithProgress(res, onProgress, totalHint = 0) {
  const header = Number(res.headers.get('Content-Length'));
  const encoded = !!res.headers.get('Content-Encoding'); // Content-Length counts the wire bytes
  const total = (!encoded && header > 0 && header) || totalHint || 0;
  if (!res.body || typeof res.body.getReader !== 'function') {
    const bytes = new Uint8Array(await res.arrayBuffer());
    onProgress({ loaded: bytes.length, total: total || bytes.length });
    return bytes;
  }
  const reader = res.body.getReader();
  let buf = total ? new Uint8Array(total) : null; // filled in place while the size holds
  const chunks = [];
  let loaded = 0;
  onProgress({ loaded: 0, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (buf && loaded + value.length <= buf.length) buf.set(value, loaded);
    else {
      if (buf) chunks.push(buf.subarray(0, loaded)); // more than announced: collect instead
      buf = null;
      chunks.push(value);
    }
    loaded += value.length;
    onProgress({ loaded, total: Math.max(total, loaded) });
  }
  if (buf) return loaded === buf.length ? buf : buf.slice(0, loaded);
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export async function checkBytes(bytes, expectedSha256, what) {
  if (bytes.length === 0) throw new Error(`${what} is empty`);
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart().toLowerCase();
  if (head.startsWith('<!doctype') || head.startsWith('<html') || head.startsWith('<')) {
    throw new Error(
      `${what} is an HTML page, not the expected binary (a wrong URL or a cached error page)`,
    );
  }
  if (expectedSha256) {
    const got = await sha256Hex(bytes);
    if (got !== expectedSha256.toLowerCase()) {
      throw new Error(
        `${what} failed its integrity check: sha256 ${got.slice(0, 16)}... ` +
          `expected ${expectedSha256.slice(0, 16)}...`,
      );
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
  const streaming =
    typeof WebAssembly.compileStreaming === 'function' &&
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
    printErr: (s) => {
      printErr.push(String(s));
      if (printErr.length > 20) printErr.shift();
    },
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

/**
 * Fetch, verify, compile and instantiate the wasm module that fits this machine, before the
 * model is there (the page starts it while the model downloads). Resolves {M, variant}.
 * `prefer`: 'auto' | 'simd' | 'nosimd'; falls back to the scalar module if SIMD fails to start.
 */
export async function startModule({ assets, baseUrl, prefer = 'auto', wasmBytes = null }) {
  const order =
    prefer === 'nosimd'
      ? ['nosimd']
      : prefer === 'simd'
        ? ['simd']
        : simdSupported()
          ? ['simd', 'nosimd']
          : ['nosimd'];
  let lastErr;
  for (const variant of order) {
    const a = assets.wasm[variant];
    try {
      const wasm =
        (wasmBytes && wasmBytes[variant]) ||
        (await compileVerified(new URL(a.wasm, baseUrl).href, a.sha256, 'wasm module'));
      return { M: await instantiateModule(new URL(a.js, baseUrl).href, wasm), variant };
    } catch (e) {
      lastErr = new Error(`could not start the ${variant} engine: ${e.message || e}`);
    }
  }
  throw lastErr;
}
