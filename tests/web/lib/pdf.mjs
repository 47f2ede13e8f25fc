// Just enough PDF reading for the print test: the pages of a PDF that Chromium wrote
// (page.pdf()) and the text on each, decoded through each font's ToUnicode map.
//   pdfPages(buf) -> [{text}] in page order
// Handles what Skia writes: plain (uncompressed) object syntax, Flate streams, Type0 fonts with
// Identity-H 2-byte codes and bfchar/bfrange ToUnicode maps, Tj/TJ strings in hex or literal form.
import zlib from 'node:zlib';

function objects(buf) {
  const s = buf.toString('latin1');
  const out = new Map();
  const re = /(\d+) 0 obj\b/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const start = m.index + m[0].length;
    const end = s.indexOf('endobj', start);
    if (end < 0) break;
    let body = s.slice(start, end);
    let stream = null;
    const si = body.indexOf('stream');
    if (si >= 0 && /^stream\r?\n/.test(body.slice(si))) {
      const dataStart = start + si + (body[si + 6] === '\r' ? 8 : 7);
      const lenM = /\/Length (\d+)(?!\d| \d+ R)/.exec(body.slice(0, si)); // a direct length, not a reference
      const len = lenM ? Number(lenM[1]) : body.lastIndexOf('endstream') - (si + 7);
      let data = buf.subarray(dataStart, dataStart + len);
      if (/\/Filter\s*\/FlateDecode/.test(body.slice(0, si))) data = zlib.inflateSync(data);
      stream = data;
      body = body.slice(0, si);
    }
    out.set(Number(m[1]), { dict: body, stream });
    re.lastIndex = end;
  }
  return out;
}

const ref = (dict, key) => {
  const m = new RegExp(`/${key}\\s+(\\d+) 0 R`).exec(dict);
  return m ? Number(m[1]) : null;
};

function cmap(text) {
  const map = new Map();
  const hex = (h) => parseInt(h, 16);
  const uni = (h) => String.fromCharCode(...h.match(/.{4}/g).map(hex));
  for (const blk of text.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const [, a, b] of blk[1].matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g))
      map.set(hex(a), uni(b));
  }
  for (const blk of text.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const [, a, b, c] of blk[1].matchAll(
      /<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])/g,
    )) {
      const lo = hex(a),
        hi = hex(b);
      if (c.startsWith('[')) {
        const list = [...c.matchAll(/<([0-9A-Fa-f]+)>/g)].map((x) => uni(x[1]));
        for (let i = lo; i <= hi; i++) map.set(i, list[i - lo] || '');
      } else {
        const base = hex(c.slice(1, -1));
        for (let i = lo; i <= hi; i++) map.set(i, String.fromCharCode(base + i - lo));
      }
    }
  }
  return map;
}

function literal(str) {
  // a PDF literal string's bytes (escapes resolved)
  const out = [];
  for (let i = 0; i < str.length; i++) {
    const ch = str[i];
    if (ch !== '\\') {
      out.push(ch.charCodeAt(0));
      continue;
    }
    const n = str[++i];
    if (/[0-7]/.test(n)) {
      let o = n;
      while (o.length < 3 && /[0-7]/.test(str[i + 1])) o += str[++i];
      out.push(parseInt(o, 8));
    } else out.push({ n: 10, r: 13, t: 9, b: 8, f: 12 }[n] ?? n.charCodeAt(0));
  }
  return out;
}

export function pdfPages(buf) {
  const objs = objects(buf);
  const pages = [];
  const root = [...objs.values()].find((o) => /\/Type\s*\/Catalog/.test(o.dict));
  const walk = (id) => {
    const o = objs.get(id);
    if (!o) return;
    if (/\/Type\s*\/Pages/.test(o.dict)) {
      const kids = /\/Kids\s*\[([^\]]*)\]/.exec(o.dict)[1];
      for (const [, k] of kids.matchAll(/(\d+) 0 R/g)) walk(Number(k));
    } else if (/\/Type\s*\/Page\b/.test(o.dict)) pages.push(o);
  };
  walk(ref(root.dict, 'Pages'));
  return pages.map((p) => {
    let res = p.dict;
    const rid = ref(p.dict, 'Resources');
    if (rid !== null) res = objs.get(rid).dict;
    const fonts = new Map();
    const fm = /\/Font\s*(<<[\s\S]*?>>|\d+ 0 R)/.exec(res);
    if (fm) {
      const fdict = fm[1].startsWith('<<') ? fm[1] : objs.get(Number(fm[1].split(' ')[0])).dict;
      for (const [, name, id] of fdict.matchAll(/\/(\w+)\s+(\d+) 0 R/g)) {
        const f = objs.get(Number(id));
        const tu = f && ref(f.dict, 'ToUnicode');
        fonts.set(name, {
          map:
            tu !== null && objs.get(tu).stream
              ? cmap(objs.get(tu).stream.toString('latin1'))
              : new Map(),
          two: /Identity-H/.test(f ? f.dict : ''),
        });
      }
    }
    const contents = [];
    const cm = /\/Contents\s*(\[[^\]]*\]|\d+ 0 R)/.exec(p.dict);
    for (const [, id] of cm[1].matchAll(/(\d+) 0 R/g))
      contents.push(objs.get(Number(id)).stream.toString('latin1'));
    let text = '';
    let font = null;
    const decode = (bytes) => {
      if (!font) return '';
      let s = '';
      if (font.two)
        for (let i = 0; i + 1 < bytes.length; i += 2)
          s += font.map.get((bytes[i] << 8) | bytes[i + 1]) ?? '';
      else for (const b of bytes) s += font.map.get(b) ?? String.fromCharCode(b);
      return s;
    };
    const hexBytes = (h) =>
      (h.replace(/\s/g, '').match(/.{1,2}/g) || []).map((x) => parseInt(x.padEnd(2, '0'), 16));
    const tok =
      /\/(\w+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f\s]*)>\s*Tj|\(((?:\\.|[^\\)])*)\)\s*Tj|\[((?:<[0-9A-Fa-f\s]*>|\((?:\\.|[^\\)])*\)|[-\d.\s])*)\]\s*TJ|\bT\*|\bTd\b|\bTD\b|\bET\b/g;
    for (const c of contents) {
      for (const m of c.matchAll(tok)) {
        if (m[1]) font = fonts.get(m[1]) || null;
        else if (m[2] !== undefined) text += decode(hexBytes(m[2]));
        else if (m[3] !== undefined) text += decode(literal(m[3]));
        else if (m[4] !== undefined) {
          for (const part of m[4].matchAll(
            /<([0-9A-Fa-f\s]*)>|\(((?:\\.|[^\\)])*)\)|(-?[\d.]+)/g,
          )) {
            if (part[1] !== undefined) text += decode(hexBytes(part[1]));
            else if (part[2] !== undefined) text += decode(literal(part[2]));
            else if (Number(part[3]) < -200) text += ' '; // a wide negative kern: a space
          }
        } else text += m[0] === 'ET' ? '\n' : ' ';
      }
    }
    return { text: text.replace(/[ \t]+/g, ' ') };
  });
}
