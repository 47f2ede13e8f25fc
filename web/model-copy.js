// model-copy.js -- the page's local copy of the model in the origin private file system (OPFS):
// read back on the next visit faster than from the HTTP or service-worker cache (BENCHMARKS.md).
// The copy is named by the sha256 that the asset manifest gives the model, written only from
// bytes checked against that sha256, atomically (createWritable swaps the file in on close), and
// replaced when the model changes. Its file is the blob and a 16-byte trailer, 'MCBCOPY1' and the
// XXH64 of the blob (mc_checksum64, little-endian): every read checks the bytes are still the
// ones written, with XXH64 because WebCrypto's SHA-256 would run on the thread building the
// engine. Only the page uses it (an embedding site's storage is not ours to fill).
const COPY_DIR = 'malaria-model-copy';
/** Bytes after the blob in a copy's file: 'MCBCOPY1', then the blob's XXH64. */
export const COPY_TRAILER = 16;
const COPY_MAGIC = new TextEncoder().encode('MCBCOPY1');
const copyName = (key) => `${key}.copy`;

/** Whether file[n, n + 16) is the trailer of a copy whose blob file[0, n) has XXH64 `sum`. */
export function copyTrailerMatches(file, n, sum) {
  return (
    file.length === n + COPY_TRAILER &&
    COPY_MAGIC.every((v, i) => file[n + i] === v) &&
    sum.every((v, i) => file[n + 8 + i] === v)
  );
}

async function copyDir(create) {
  if (typeof navigator === 'undefined' || !navigator.storage || !navigator.storage.getDirectory)
    return null;
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
        try {
          h = await fh.createSyncAccessHandle(opt);
        } catch {
          continue;
        }
        if (h.getSize() > 0) return { sync: h };
        h.close();
        return null; // empty while another page of this origin is writing it
      }
    }
    const file = await fh.getFile();
    return file.size ? { bytes: new Uint8Array(await file.arrayBuffer()) } : null;
  } catch {
    return null;
  }
}

/**
 * Store `bytes` (already checked against `sha256`) as the local copy, with `checksum`, their
 * XXH64 from checksum64 (engine.js; the engine built from them computes it). Drops the other
 * copies unless `keepOthers` (the bench keeps one per blob). False when nothing was written (no
 * OPFS, no checksum).
 */
export async function writeModelCopy(sha256, bytes, checksum, { keepOthers = false } = {}) {
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
    if (!keepOthers)
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
  } catch {
    /* nothing to drop */
  }
}
