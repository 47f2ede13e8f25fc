// cam-overlay.js -- draws a heat map (S*S floats over the network input: the occlusion map of
// mc_explain, or the class activation map) as a translucent colour map. Positive values
// (evidence for Parasitized) are warm (yellow -> red), negative ones a faint blue.

function warm(t) {
  // t in [0,1]: faint yellow -> orange -> red, alpha grows with t
  return [
    255,
    Math.round(230 - 190 * t),
    Math.round(60 * (1 - t)),
    Math.round(170 * Math.pow(t, 1.3)),
  ];
}

/** Paint `cam` (size*size) into `canvas` (set to size x size; CSS stretches it over the image). */
export function drawCam(canvas, cam, size) {
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(size, size);
  let maxAbs = 0;
  for (let i = 0; i < cam.length; i++) maxAbs = Math.max(maxAbs, Math.abs(cam[i]));
  const scale = maxAbs > 0 ? 1 / maxAbs : 0;
  for (let i = 0; i < size * size; i++) {
    const v = (cam[i] || 0) * scale;
    const o = i * 4;
    if (v > 0.15) {
      const [r, g, b, a] = warm((v - 0.15) / 0.85);
      img.data[o] = r;
      img.data[o + 1] = g;
      img.data[o + 2] = b;
      img.data[o + 3] = a;
    } else if (v < -0.25) {
      img.data[o] = 40;
      img.data[o + 1] = 110;
      img.data[o + 2] = 255;
      img.data[o + 3] = Math.round((80 * (-v - 0.25)) / 0.75);
    }
  }
  ctx.putImageData(img, 0, 0);
  return maxAbs;
}

/** Place `canvas` over the part of a square box that an object-fit: contain image of w x h fills. */
export function fitOverlay(canvas, w, h) {
  if (!(w > 0 && h > 0)) return;
  const fw = w >= h ? 1 : w / h;
  const fh = h >= w ? 1 : h / w;
  canvas.style.left = `${(50 * (1 - fw)).toFixed(3)}%`;
  canvas.style.top = `${(50 * (1 - fh)).toFixed(3)}%`;
  canvas.style.width = `${(100 * fw).toFixed(3)}%`;
  canvas.style.height = `${(100 * fh).toFixed(3)}%`;
}
