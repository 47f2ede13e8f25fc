#!/usr/bin/env node
// Draws the app icons (a red blood cell with a ring-stage parasite on the brand colour) and writes
// them as PNGs with node:zlib only. Run once; the PNGs are committed:
//   node web/tools/make-icons.mjs web/icons
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// Colour of the point (u, v) in [0,1]^2, or null for transparent.
function shade(u, v, maskable) {
  const r = maskable ? 0 : 0.22; // corner radius of the tile
  const inset = maskable ? 0 : 0.02;
  const x = Math.abs(u - 0.5),
    y = Math.abs(v - 0.5);
  const half = 0.5 - inset;
  const qx = Math.max(x - (half - r), 0),
    qy = Math.max(y - (half - r), 0);
  if (x > half || y > half || (Math.hypot(qx, qy) > r + 1e-9 && r > 0)) return null;
  let c = [31, 59, 87]; // brand blue
  const scale = maskable ? 0.75 : 1; // keep the cell inside the maskable safe zone
  const cx = 0.5 + (u - 0.5) / scale,
    cy = 0.5 + (v - 0.5) / scale;
  const d = Math.hypot(cx - 0.5, cy - 0.5);
  if (d < 0.34) {
    // biconcave cell: darker rim, paler centre
    const t = d / 0.34;
    const pale = Math.exp(-((t - 0.0) ** 2) / 0.18);
    c = [
      Math.round(232 - 30 * (1 - pale) + 10 * pale),
      Math.round(120 + 50 * pale),
      Math.round(130 + 45 * pale),
    ];
    if (d > 0.32) c = [200, 90, 105];
    // ring-stage parasite: a violet ring with a dark chromatin dot
    const pd = Math.hypot(cx - 0.6, cy - 0.42);
    if (pd > 0.065 && pd < 0.095) c = [86, 44, 140];
    if (Math.hypot(cx - 0.672, cy - 0.37) < 0.035) c = [55, 20, 100];
  }
  return c;
}

function draw(size, maskable) {
  const ss = 4;
  const out = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let j = 0; j < ss; j++) {
        for (let i = 0; i < ss; i++) {
          const c = shade((x + (i + 0.5) / ss) / size, (y + (j + 0.5) / ss) / size, maskable);
          if (c) {
            r += c[0];
            g += c[1];
            b += c[2];
            a += 1;
          }
        }
      }
      const o = (y * size + x) * 4;
      if (a) {
        out[o] = r / a;
        out[o + 1] = g / a;
        out[o + 2] = b / a;
      }
      out[o + 3] = Math.round((255 * a) / (ss * ss));
    }
  }
  return png(size, out);
}

const dir = process.argv[2] || 'web/icons';
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'icon-192.png'), draw(192, false));
fs.writeFileSync(path.join(dir, 'icon-512.png'), draw(512, false));
fs.writeFileSync(path.join(dir, 'icon-maskable-512.png'), draw(512, true));
fs.writeFileSync(path.join(dir, 'favicon.png'), draw(32, false));
console.log(`icons written to ${dir}`);
