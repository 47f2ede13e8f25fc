// image-input.js -- the input policy of the page and the JS API (docs/INPUT.md): what a file is,
// told from its first bytes (never from its name or its declared type, like the native CLI), and
// why it is refused before the browser decodes it. Pure functions on bytes (no DOM): also run
// under Node (tests/web/node.test.mjs).
//
// Accepted: PNG, JPEG, BMP and WebP, 8 bits per sample after decoding (16-bit PNG samples are
// reduced to 8 bits by the browser), RGB(A), greyscale and palette images (expanded to RGB; the
// core then refuses greyscale cell crops). Refused here, each with a message that says what the
// file is: other image formats (GIF, HEIC/HEIF, AVIF, TIFF, SVG, PDF, ICO, JPEG 2000, JPEG XL,
// PSD, DICOM), multi-frame images (animated PNG, animated WebP), CMYK/YCCK and 12-bit JPEGs,
// files that are not images (text, HTML, XML, archives, videos), empty files, files over 64 MiB
// and images over the core's size limits (read from the header: nothing is decoded).

/** The core's limits (wasm/src/preprocess.h ImageLimits): pixels per side, pixels in all. */
export const MAX_SIDE = 8192;
export const MAX_PIXELS = 40 * 1000 * 1000;
/** The largest file read (the native CLI's kMaxImageFileBytes, wasm/src/image.h). */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
export const ACCEPTED = 'PNG, JPEG, BMP or WebP';

/** Why a file of `size` bytes is refused before any of it is read (empty, over MAX_FILE_BYTES),
 *  or null: the decoder's message, also given by the page to a file it does not store. */
export function fileSizeProblem(size) {
  if (size === 0) return 'empty file (0 bytes)';
  if (size > MAX_FILE_BYTES)
    return `file too large (${size} bytes; limit ${MAX_FILE_BYTES / (1024 * 1024)} MiB)`;
  return null;
}

/** check_image_size()'s message (wasm/src/preprocess.cpp) for a w x h image, or null. */
export function sizeProblem(w, h) {
  if (!(w > 0 && h > 0)) return `empty image (${w} x ${h})`;
  if (w > MAX_SIDE || h > MAX_SIDE)
    return `image too large: ${w} x ${h} (limit ${MAX_SIDE} pixels per side)`;
  if (w * h > MAX_PIXELS)
    return `image too large: ${w} x ${h} = ${w * h} pixels (limit ${MAX_PIXELS})`;
  return null;
}

const be16 = (b, i) => (b[i] << 8) | b[i + 1];
const be32 = (b, i) => ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3];
const le16 = (b, i) => b[i] | (b[i + 1] << 8);
const le24 = (b, i) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
const le32 = (b, i) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
const ascii = (b, i, n) => String.fromCharCode(...b.subarray(i, i + n));
const startsWith = (b, sig, at = 0) =>
  b.length >= at + sig.length && sig.every((v, k) => b[at + k] === v);

// Image formats that browsers may decode but the policy does not take, and other kinds of file,
// told by their signatures. `what` names the file in messages; `image`: an image format.
const SIGNATURES = [
  { sig: [0x47, 0x49, 0x46, 0x38], kind: 'gif', what: 'a GIF image', image: true },
  {
    sig: [0x49, 0x49, 0x2a, 0x00],
    kind: 'tiff',
    what: 'a TIFF image (or a camera raw file)',
    image: true,
  },
  {
    sig: [0x4d, 0x4d, 0x00, 0x2a],
    kind: 'tiff',
    what: 'a TIFF image (or a camera raw file)',
    image: true,
  },
  { sig: [0x25, 0x50, 0x44, 0x46, 0x2d], kind: 'pdf', what: 'a PDF document', image: true },
  { sig: [0x00, 0x00, 0x01, 0x00], kind: 'ico', what: 'an ICO icon', image: true },
  { sig: [0x00, 0x00, 0x02, 0x00], kind: 'ico', what: 'a CUR cursor', image: true },
  { sig: [0xff, 0x0a], kind: 'jxl', what: 'a JPEG XL image', image: true },
  {
    sig: [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20],
    kind: 'jxl',
    what: 'a JPEG XL image',
    image: true,
  },
  {
    sig: [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20],
    kind: 'jp2',
    what: 'a JPEG 2000 image',
    image: true,
  },
  { sig: [0xff, 0x4f, 0xff, 0x51], kind: 'jp2', what: 'a JPEG 2000 image', image: true },
  { sig: [0x38, 0x42, 0x50, 0x53], kind: 'psd', what: 'a Photoshop (PSD) document', image: true },
  { sig: [0x50, 0x4b, 0x03, 0x04], kind: 'zip', what: 'a ZIP archive (or an office document)' },
  { sig: [0x1f, 0x8b], kind: 'gzip', what: 'a gzip archive' },
  { sig: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], kind: '7z', what: 'a 7-Zip archive' },
  { sig: [0x52, 0x61, 0x72, 0x21], kind: 'rar', what: 'a RAR archive' },
  { sig: [0x1a, 0x45, 0xdf, 0xa3], kind: 'video', what: 'a WebM/Matroska video' },
];

const HEIF_BRANDS = new Set([
  'heic',
  'heix',
  'hevc',
  'hevx',
  'heim',
  'heis',
  'hevm',
  'hevs',
  'mif1',
  'msf1',
]);
const AVIF_BRANDS = new Set(['avif', 'avis']);

function isoMedia(b) {
  if (!(b.length >= 12 && ascii(b, 4, 4) === 'ftyp')) return null;
  const size = Math.min(be32(b, 0), b.length);
  const brands = [ascii(b, 8, 4)];
  for (let i = 16; i + 4 <= size; i += 4) brands.push(ascii(b, i, 4));
  if (brands.some((x) => AVIF_BRANDS.has(x)))
    return { kind: 'avif', what: 'an AVIF image', image: true };
  if (brands.some((x) => HEIF_BRANDS.has(x)))
    return { kind: 'heic', what: 'a HEIC/HEIF image', image: true };
  if (brands[0] === 'crx ') return { kind: 'raw', what: 'a Canon raw (CR3) photo', image: true };
  if (brands[0] === 'qt  ') return { kind: 'video', what: 'a QuickTime video' };
  return {
    kind: 'video',
    what: `an MP4 or other ISO media file (brand ${JSON.stringify(brands[0])})`,
  };
}

/** A text-like head: an SVG drawing, an HTML page, an XML file, plain text; else null. */
function textKind(b) {
  const n = Math.min(b.length, 1024);
  if (!n) return null;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === 0) return null;
    if (c < 9 || (c > 13 && c < 32) || c === 127) bad++;
  }
  if (bad > n / 50) return null;
  const head = new TextDecoder('utf-8', { fatal: false })
    .decode(b.subarray(0, n))
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) {
    return { kind: 'svg', what: 'an SVG drawing', image: true };
  }
  if (head.startsWith('<!doctype html') || head.startsWith('<html'))
    return { kind: 'html', what: 'an HTML page' };
  if (head.startsWith('<?xml')) return { kind: 'xml', what: 'an XML file' };
  return { kind: 'text', what: 'a text file' };
}

function sniffPNG(b, total, info) {
  // chunks up to the first IDAT: IHDR (size, bit depth, colour type), tRNS (alpha), acTL (frames)
  let pos = 8;
  while (pos + 8 <= b.length) {
    const len = be32(b, pos);
    const type = ascii(b, pos + 4, 4);
    if (pos === 8 && type !== 'IHDR')
      return { ...info, problem: 'corrupt PNG image: could not be decoded (no IHDR header chunk)' };
    if (type === 'IHDR') {
      if (pos + 8 + 13 > b.length) break;
      Object.assign(info, {
        width: be32(b, pos + 8),
        height: be32(b, pos + 12),
        bitDepth: b[pos + 16],
        colorType: b[pos + 17],
        interlaced: b[pos + 20] === 1,
      });
      info.alpha = info.colorType === 4 || info.colorType === 6;
    } else if (type === 'tRNS') {
      info.alpha = true;
    } else if (type === 'acTL') {
      if (pos + 16 > b.length) break;
      info.frames = be32(b, pos + 8);
    } else if (type === 'IDAT') {
      info.complete = true;
      return info;
    }
    if (len > 0x7fffffff)
      return {
        ...info,
        problem: 'corrupt PNG image: could not be decoded (a chunk length out of range)',
      };
    pos += 12 + len;
  }
  if (b.length < total) return { ...info, needMore: true };
  if (info.width === undefined)
    return {
      ...info,
      problem: 'corrupt or truncated PNG image: could not be decoded (no image header)',
    };
  return {
    ...info,
    problem: 'corrupt or truncated PNG image: could not be decoded (no image data)',
  };
}

function exifOrientation(b, at, end) {
  // APP1 "Exif\0\0" then a TIFF header; IFD0's tag 0x0112
  const t = at + 6;
  if (t + 8 > end) return 0;
  const le = b[t] === 0x49;
  const u16 = (i) => (le ? le16(b, i) : be16(b, i));
  const u32 = (i) => (le ? le32(b, i) : be32(b, i));
  const ifd = t + u32(t + 4);
  if (ifd + 2 > end) return 0;
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + 12 * k;
    if (e + 12 > end) break;
    if (u16(e) === 0x0112) return u16(e + 8);
  }
  return 0;
}

function sniffJPEG(b, total, info) {
  let pos = 2;
  while (pos + 4 <= b.length) {
    if (b[pos] !== 0xff) {
      pos++;
      continue;
    } // extraneous bytes: skipped, as libjpeg does
    const m = b[pos + 1];
    if (m === 0xff) {
      pos++;
      continue;
    } // fill byte
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      pos += 2;
      continue;
    } // no length
    if (m === 0xd9 || m === 0xda)
      return {
        ...info,
        problem: 'corrupt JPEG image: could not be decoded (no frame header before its image data)',
      };
    const len = be16(b, pos + 2);
    if (len < 2)
      return {
        ...info,
        problem: 'corrupt JPEG image: could not be decoded (a segment length out of range)',
      };
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (pos + 10 > b.length) break;
      Object.assign(info, {
        precision: b[pos + 4],
        height: be16(b, pos + 5),
        width: be16(b, pos + 7),
        components: b[pos + 9],
        complete: true,
      });
      return info;
    }
    if (m === 0xe1 && pos + 10 <= b.length && ascii(b, pos + 4, 6) === 'Exif\0\0') {
      info.orientation =
        exifOrientation(b, pos + 4, Math.min(b.length, pos + 2 + len)) || info.orientation;
    }
    if (m === 0xee && pos + 16 <= b.length && ascii(b, pos + 4, 5) === 'Adobe')
      info.adobeTransform = b[pos + 15];
    pos += 2 + len;
  }
  if (b.length < total) return { ...info, needMore: true };
  return {
    ...info,
    problem: 'corrupt or truncated JPEG image: could not be decoded (no frame header)',
  };
}

function sniffBMP(b, info) {
  if (b.length < 30)
    return { ...info, problem: 'corrupt or truncated BMP image: could not be decoded (no header)' };
  const hdr = le32(b, 14);
  if (hdr === 12) {
    Object.assign(info, { width: le16(b, 18), height: le16(b, 20), bitDepth: le16(b, 24) });
  } else {
    const h = le32(b, 22) | 0;
    Object.assign(info, { width: le32(b, 18) | 0, height: Math.abs(h), bitDepth: le16(b, 28) });
  }
  info.alpha = info.bitDepth === 32;
  info.complete = true;
  return info;
}

function sniffWebP(b, info) {
  if (b.length < 30)
    return {
      ...info,
      problem: 'corrupt or truncated WebP image: could not be decoded (no header)',
    };
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8X') {
    const flags = b[20];
    Object.assign(info, {
      width: 1 + le24(b, 24),
      height: 1 + le24(b, 27),
      alpha: !!(flags & 0x10),
      animated: !!(flags & 0x02),
    });
  } else if (chunk === 'VP8L') {
    const bits = le32(b, 21);
    Object.assign(info, {
      width: 1 + (bits & 0x3fff),
      height: 1 + ((bits >>> 14) & 0x3fff),
      alpha: !!((bits >>> 28) & 1),
    });
  } else if (chunk === 'VP8 ') {
    Object.assign(info, {
      width: le16(b, 26) & 0x3fff,
      height: le16(b, 28) & 0x3fff,
      alpha: false,
    });
  } else {
    return {
      ...info,
      problem: `corrupt WebP image: could not be decoded (unknown first chunk ${JSON.stringify(chunk)})`,
    };
  }
  info.complete = true;
  return info;
}

/**
 * What the bytes `head` (the first bytes of a file of `total` bytes) are. Returns
 * {kind, what, image, supported, width, height, alpha, frames, animated, bitDepth, colorType,
 * precision, components, orientation, problem, needMore}: `supported` for PNG, JPEG, BMP and
 * WebP; `needMore` when the header goes on past `head` (call again with more bytes); `problem`
 * when the header itself is damaged.
 */
export function sniffImage(head, total = head.length) {
  const b = head instanceof Uint8Array ? head : new Uint8Array(head);
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47])) {
    const info = { kind: 'png', what: 'a PNG image', image: true, supported: true };
    if (!startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
      return {
        ...info,
        problem: 'corrupt or truncated PNG image: could not be decoded (its signature is damaged)',
      };
    }
    return sniffPNG(b, total, info);
  }
  if (startsWith(b, [0xff, 0xd8, 0xff]))
    return sniffJPEG(b, total, {
      kind: 'jpeg',
      what: 'a JPEG image',
      image: true,
      supported: true,
    });
  if (
    startsWith(b, [0x42, 0x4d]) &&
    b.length >= 18 &&
    [12, 40, 52, 56, 64, 108, 124].includes(le32(b, 14))
  ) {
    return sniffBMP(b, { kind: 'bmp', what: 'a BMP image', image: true, supported: true });
  }
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') {
    return sniffWebP(b, { kind: 'webp', what: 'a WebP image', image: true, supported: true });
  }
  for (const s of SIGNATURES) {
    if (!startsWith(b, s.sig)) continue;
    const info = { kind: s.kind, what: s.what, image: !!s.image, supported: false };
    if (s.kind === 'gif' && b.length >= 10) {
      Object.assign(info, { width: le16(b, 6), height: le16(b, 8) });
      if (ascii(b, 0, b.length).includes('NETSCAPE2.0'))
        Object.assign(info, { animated: true, what: 'an animated GIF' });
    }
    return info;
  }
  const iso = isoMedia(b);
  if (iso) return { ...iso, image: !!iso.image, supported: false };
  if (b.length >= 132 && ascii(b, 128, 4) === 'DICM')
    return { kind: 'dicom', what: 'a DICOM file', image: true, supported: false };
  const t = textKind(b);
  if (t) return { ...t, image: !!t.image, supported: false };
  return { kind: 'unknown', what: 'a file of unknown type', image: false, supported: false };
}

const hexHead = (b) =>
  Array.from(b.subarray(0, 8), (v) => v.toString(16).padStart(2, '0')).join(' ');

/**
 * Why a file whose header sniffImage() read is refused before decoding (the message, without
 * the file's name), or null when it may be decoded. `head`: its first bytes (for the message
 * about an unknown type).
 */
export function policyProblem(info, head = new Uint8Array(0)) {
  if (info.needMore) return null; // a header longer than what was read: the decoder decides
  if (info.kind === 'unknown') {
    return `not a ${ACCEPTED} image (unknown type; first bytes ${hexHead(head)})`;
  }
  if (!info.supported) {
    return info.image ? `${info.what}: not supported (${ACCEPTED})` : `${info.what}, not an image`;
  }
  if (info.problem) return info.problem;
  if (info.kind === 'png' && info.frames > 1) {
    return `an animated PNG (APNG, ${info.frames} frames): multi-frame images are not supported; save one frame as a PNG`;
  }
  if (info.kind === 'webp' && info.animated) {
    return 'an animated WebP: multi-frame images are not supported; save one frame as a PNG';
  }
  if (info.kind === 'jpeg') {
    if (info.components === 4) {
      const ycck = info.adobeTransform === 2;
      return `a ${ycck ? 'YCCK' : 'CMYK'} JPEG: not supported (the model needs RGB; save it as an RGB JPEG or PNG)`;
    }
    if (info.precision !== 8)
      return `a ${info.precision}-bit JPEG: not supported (8 bits per sample only)`;
    if (info.components !== 1 && info.components !== 3) {
      return `a JPEG with ${info.components} colour components: not supported (RGB or greyscale only)`;
    }
  }
  return sizeProblem(info.width, info.height);
}

/** Why a file that passed policyProblem() could not be decoded: its last bytes, told apart. */
export function decodeFailure(info, tail) {
  const t = tail instanceof Uint8Array ? tail : new Uint8Array(tail);
  const name =
    info.kind === 'jpeg'
      ? 'JPEG'
      : info.kind === 'png'
        ? 'PNG'
        : info.kind === 'bmp'
          ? 'BMP'
          : info.kind === 'webp'
            ? 'WebP'
            : 'image';
  if (info.kind === 'png') {
    const iend = t.length >= 8 && ascii(t, t.length - 8, 4) === 'IEND';
    return iend
      ? 'corrupt PNG image: could not be decoded'
      : 'corrupt or truncated PNG image: could not be decoded (it ends before its IEND chunk)';
  }
  if (info.kind === 'jpeg') {
    let eoi = false; // FF D9, possibly followed by a few padding bytes
    for (let i = t.length - 2; i >= Math.max(0, t.length - 64) && !eoi; i--)
      eoi = t[i] === 0xff && t[i + 1] === 0xd9;
    return eoi
      ? 'corrupt JPEG image: could not be decoded'
      : 'corrupt or truncated JPEG image: could not be decoded (no end-of-image marker)';
  }
  return `corrupt or truncated ${name} image: could not be decoded`;
}
