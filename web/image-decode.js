// image-decode.js -- images to RGBA pixels with the browser's decoders, held to the input policy
// first (image-input.js, docs/INPUT.md). Runs in a Worker or on the main thread.
import {
  sniffImage,
  policyProblem,
  decodeFailure,
  sizeProblem,
  fileSizeProblem,
} from './image-input.js';

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
  if (
    input &&
    typeof input === 'object' &&
    'data' in input &&
    'width' in input &&
    'height' in input &&
    !(typeof Blob !== 'undefined' && input instanceof Blob)
  ) {
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
  const sizeRefused = fileSizeProblem(input.size);
  if (sizeRefused) throw fail(sizeRefused);
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
  if (info.alpha) img = await decodeUnpremultiplied(input, info); // null: not here, or not this one
  if (!img) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(input, {
        colorSpaceConversion: 'none',
        premultiplyAlpha: 'none',
        imageOrientation: 'from-image',
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

// Small images (cut-out cells) are read through one canvas kept for them: a new canvas and 2D
// context for each cost more than reading its pixels back (300 cells in a Worker: 80-120 ms
// against 38 ms). It draws with 'copy', so what an image leaves is what it is, as on a new
// canvas. Larger images get a canvas of their own, not kept.
const KEEP_SIDE = 512;
let kept = null;
function pixelsOf(bitmap) {
  const { width, height } = bitmap;
  let ctx;
  if (width <= KEEP_SIDE && height <= KEEP_SIDE) {
    if (!kept || kept.canvas.width < width || kept.canvas.height < height) {
      const side = (n, k) => Math.min(KEEP_SIDE, Math.max(n, k || 0));
      const canvas = new OffscreenCanvas(
        side(width, kept && kept.canvas.width),
        side(height, kept && kept.canvas.height),
      );
      kept = canvas.getContext('2d', { willReadFrequently: true });
      kept.globalCompositeOperation = 'copy';
    }
    ctx = kept;
  } else {
    ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  }
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
  let dec = null,
    frame = null;
  try {
    if (!(await ImageDecoder.isTypeSupported(type))) return null;
    dec = new ImageDecoder({
      data: await blob.arrayBuffer(),
      type,
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
    frame = (await dec.decode({ frameIndex: 0 })).image;
    const w = frame.codedWidth,
      h = frame.codedHeight;
    const swap = { RGBA: false, RGBX: false, BGRA: true, BGRX: true }[frame.format];
    if (
      swap === undefined ||
      frame.rotation ||
      frame.flip ||
      w !== frame.displayWidth ||
      h !== frame.displayHeight
    )
      return null;
    if (sizeProblem(w, h)) return null;
    const data = new Uint8ClampedArray(w * h * 4);
    await frame.copyTo(data);
    if (swap)
      for (let i = 0; i < data.length; i += 4) {
        const r = data[i + 2];
        data[i + 2] = data[i];
        data[i] = r;
      }
    if (frame.format.endsWith('X')) for (let i = 3; i < data.length; i += 4) data[i] = 255;
    return { data, width: w, height: h };
  } catch {
    return null; // decoded again through a canvas, which says what is wrong
  } finally {
    if (frame) frame.close();
    if (dec) dec.close();
  }
}
