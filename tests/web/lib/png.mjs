// Minimal PNG decoder for the Node tests (8-bit greyscale/RGB/RGBA/grey+alpha and palette,
// non-interlaced), enough for the fixture cells. Returns {width, height, data: RGBA Uint8Array}.
import zlib from 'node:zlib';

export function decodePNG(buf) {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!sig.every((b, i) => buf[i] === b)) throw new Error('not a PNG');
  let pos = 8,
    width = 0,
    height = 0,
    depth = 0,
    ctype = 0,
    interlace = 0,
    palette = null,
    trns = null;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    pos += 12 + len;
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8];
      ctype = data[9];
      interlace = data[12];
    } else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') trns = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
  }
  if (depth !== 8 || interlace !== 0)
    throw new Error(`unsupported PNG (depth ${depth}, interlace ${interlace})`);
  const chans = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[ctype];
  if (!chans) throw new Error(`unsupported PNG colour type ${ctype}`);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * chans;
  const cur = new Uint8Array(stride),
    prev = new Uint8Array(stride);
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= chans ? cur[i - chans] : 0,
        b = prev[i],
        c = i >= chans ? prev[i - chans] : 0;
      let v = line[i];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c,
          pa = Math.abs(p - a),
          pb = Math.abs(p - b),
          pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = v & 255;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4,
        s = x * chans;
      if (ctype === 0) {
        out[o] = out[o + 1] = out[o + 2] = cur[s];
        out[o + 3] = 255;
      } else if (ctype === 4) {
        out[o] = out[o + 1] = out[o + 2] = cur[s];
        out[o + 3] = cur[s + 1];
      } else if (ctype === 2) {
        out[o] = cur[s];
        out[o + 1] = cur[s + 1];
        out[o + 2] = cur[s + 2];
        out[o + 3] = 255;
      } else if (ctype === 6) {
        out[o] = cur[s];
        out[o + 1] = cur[s + 1];
        out[o + 2] = cur[s + 2];
        out[o + 3] = cur[s + 3];
      } else {
        const k = cur[s];
        out[o] = palette[k * 3];
        out[o + 1] = palette[k * 3 + 1];
        out[o + 2] = palette[k * 3 + 2];
        out[o + 3] = trns && k < trns.length ? trns[k] : 255;
      }
    }
    prev.set(cur);
  }
  return { width, height, data: out };
}
