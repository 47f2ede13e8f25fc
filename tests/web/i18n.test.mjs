// The page's languages (web/i18n.js, web/lang/*.js), without a browser: every language has every
// key of English with the same {placeholders}, no value is empty, plural forms are those of the
// language, no key is unused and every key the code names exists; the chosen language's words,
// plurals and numbers; the CSV and JSON exports in French.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, assert, REPO } from './lib/harness.mjs';

const WEB = path.join(REPO, 'web');

/** The {placeholders} of a value (a string, or the union over a plural's forms). */
function placeholders(v) {
  const forms = typeof v === 'string' ? [v] : Object.values(v);
  const out = new Set();
  for (const f of forms) for (const m of String(f).matchAll(/\{(\w+)\}/g)) out.add(m[1]);
  return out;
}
const same = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));

/** The source the keys are used from: the page's and the widget's scripts and markup. */
function sources() {
  const out = [];
  for (const f of fs.readdirSync(WEB)) {
    if (/\.(js|html)$/.test(f) && f !== 'sw.js') {
      out.push({ file: f, text: fs.readFileSync(path.join(WEB, f), 'utf8') });
    }
  }
  return out;
}

export function register() {
  test('i18n: every language has every key with the same placeholders, no empty value, valid plurals; no key unused or unknown', async () => {
    const i18n = await import(pathToFileURL(path.join(WEB, 'i18n.js')).href);
    const dicts = i18n.dictionaries;
    const en = dicts.en;
    const enKeys = Object.keys(en);
    assert(
      JSON.stringify(Object.keys(dicts)) === JSON.stringify(['en', 'fr', 'pt', 'es']),
      `languages: ${Object.keys(dicts)}`,
    );
    const problems = [];
    for (const [code, d] of Object.entries(dicts)) {
      const cats = new Set(new Intl.PluralRules(code).resolvedOptions().pluralCategories);
      for (const k of enKeys) if (!Object.hasOwn(d, k)) problems.push(`${code}: missing ${k}`);
      for (const [k, v] of Object.entries(d)) {
        if (!Object.hasOwn(en, k)) {
          problems.push(`${code}: ${k} is not an English key`);
          continue;
        }
        if (typeof v === 'string') {
          if (!v.trim()) problems.push(`${code}: ${k} is empty`);
        } else if (v && typeof v === 'object') {
          if (typeof v.other !== 'string') problems.push(`${code}: ${k} has no "other" form`);
          for (const [form, text] of Object.entries(v)) {
            if (!cats.has(form))
              problems.push(`${code}: ${k} has form "${form}", not one of ${[...cats]}`);
            if (typeof text !== 'string' || !text.trim())
              problems.push(`${code}: ${k}.${form} is empty`);
          }
          if (cats.has('one') && typeof v.one !== 'string')
            problems.push(`${code}: ${k} has no "one" form`);
        } else problems.push(`${code}: ${k} is neither text nor plural forms`);
        if (Object.hasOwn(en, k) && !same(placeholders(v), placeholders(en[k]))) {
          problems.push(
            `${code}: ${k} has {${[...placeholders(v)].join('},{')}}, English {${[...placeholders(en[k])].join('},{')}}`,
          );
        }
      }
      // a dictionary copied from English instead of translated
      if (code !== 'en') {
        const copied = enKeys.filter((k) => JSON.stringify(d[k]) === JSON.stringify(en[k]));
        if (copied.length > enKeys.length / 10)
          problems.push(
            `${code}: ${copied.length} of ${enKeys.length} values are the English ones`,
          );
      }
    }
    // every key is used by the page, the widget or the exports; every key they name exists
    const src = sources();
    const all = src.map((s) => s.text).join('\n');
    const esc = (k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const k of enKeys) {
      if (!new RegExp(`['"\`=]${esc(k)}['"\`;]`).test(all)) problems.push(`unused key ${k}`);
    }
    const prefixes = new Set(enKeys.map((k) => k.split('.')[0]));
    for (const { file, text } of src) {
      const named = [
        ...text.matchAll(/['"`]([a-z]+\.[A-Za-z]+)['"`]/g),
        ...text.matchAll(/data-i18n="([^"]+)"/g),
        ...[...text.matchAll(/data-i18n-attr="([^"]+)"/g)].flatMap((m) =>
          m[1].split(';').map((p) => [null, p.split('=')[1]]),
        ),
      ].map((m) => m[1]);
      for (const k of named) {
        if (/\.(js|css|html|json|png)$/.test(k)) continue; // a file, not a key
        if (prefixes.has(k.split('.')[0]) && !Object.hasOwn(en, k))
          problems.push(`${file} names ${k}, which no dictionary has`);
      }
    }
    assert(problems.length === 0, `${problems.length} problems: ${problems.join('; ')}`);
  });

  test('i18n: language from the browser or the stored choice; plurals, numbers, placeholders, fallback', async () => {
    const i18n = await import(pathToFileURL(path.join(WEB, 'i18n.js')).href);
    const { translate: tr, pickLanguage, matchLanguage, num } = i18n;
    assert(pickLanguage(['pt-BR', 'en-US']) === 'pt', 'pt-BR -> pt');
    assert(pickLanguage(['de-DE', 'es-419', 'fr']) === 'es', 'first offered one');
    assert(pickLanguage(['de-DE', 'sw']) === 'en', 'none offered -> English');
    assert(pickLanguage([]) === 'en', 'no list -> English');
    assert(matchLanguage('FR_ca') === 'fr' && matchLanguage('xx') === null, 'matchLanguage');
    const nb = (x) => x.replace(/[\u00a0\u202f]/g, ' ');
    // plurals by Intl.PluralRules: French counts 0 and 1 as "one", English only 1
    assert(
      nb(tr('fr', 'batch.done', { ok: 1, n: 1 })) === 'Terminé : 1 image sur 1 classée',
      'fr one',
    );
    assert(
      nb(tr('fr', 'batch.done', { ok: 0, n: 0 })) === 'Terminé : 0 image sur 0 classée',
      'fr zero',
    );
    assert(tr('en', 'batch.done', { ok: 0, n: 0 }) === 'Done: 0 of 0 images classified', 'en zero');
    assert(tr('es', 'sessions.images', { n: 3 }) === '3 imágenes', 'es other');
    // numbers formatted for the language where shown to people
    assert(nb(tr('fr', 'sessions.images', { n: 12345 })) === '12 345 images', 'fr grouping');
    assert(tr('pt', 'sessions.images', { n: 12345 }) === '12.345 imagens', 'pt grouping');
    assert(tr('en', 'sessions.images', { n: 12345 }) === '12,345 images', 'en grouping');
    assert(num(0.2041, 3, 'fr') === '0,204' && num(0.2041, 3, 'en') === '0.204', 'decimals');
    // a placeholder left unfilled stays visible; an unknown key shows itself
    assert(tr('en', 'card.slide', {}) === 'Slide {slide}', 'unfilled placeholder');
    assert(tr('fr', 'no.such.key') === 'no.such.key', 'unknown key');
    assert(tr('xx', 'call.uninfected') === 'Uninfected', 'unknown language -> English');
  });

  test("i18n: a classifier's message gets its kind (core, decoder policy and JS API templates), shown translated over the English text", async () => {
    const { errorKind } = await import(pathToFileURL(path.join(WEB, 'stats.js')).href);
    const policy = await import(pathToFileURL(path.join(WEB, 'image-input.js')).href);
    const { dictionaries } = await import(pathToFileURL(path.join(WEB, 'i18n.js')).href);
    const bytes = (...xs) => new Uint8Array(xs.flat());
    const ascii = (t) => [...t].map((c) => c.charCodeAt(0));
    const gif = policy.sniffImage(bytes(ascii('GIF89a'), [10, 0, 10, 0], new Array(20).fill(0)));
    const text = policy.sniffImage(bytes(ascii('slide 12, field 3: not an image\n')));
    const unknown = bytes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const cases = [
      // the decoder policy's own templates (image-input.js)
      [policy.sizeProblem(9000, 100), 'error.kindTooLarge'],
      [policy.sizeProblem(7000, 7000), 'error.kindTooLarge'],
      [policy.sizeProblem(0, 10), 'error.kindEmpty'],
      [policy.policyProblem(gif), 'error.kindUnsupported'],
      [policy.policyProblem(text), 'error.kindUnsupported'],
      [policy.policyProblem(policy.sniffImage(unknown), unknown), 'error.kindUnsupported'],
      [policy.decodeFailure({ kind: 'png' }, new Uint8Array(16)), 'error.kindCorrupt'],
      [policy.decodeFailure({ kind: 'jpeg' }, new Uint8Array(16)), 'error.kindCorrupt'],
      // the JS API's
      ['a.png: this image stopped the classifier twice: engine crashed', 'error.kindStopped'],
      ['out of memory for a 4000x3000 image', 'error.kindMemory'],
      ['something else entirely', 'error.kindOther'],
    ];
    // the core's, each checked against the words in its C++ source
    const core = ['image.cpp', 'preprocess.cpp', 'field.cpp', 'c_api.cpp']
      .map((f) => fs.readFileSync(path.join(REPO, 'wasm/src', f), 'utf8'))
      .join('\n');
    for (const [words, sample, kind] of [
      [
        'not a blood-smear image: ',
        'not a blood-smear image: 0 red cells found',
        'error.kindNotSmear',
      ],
      [
        'does not look like a single red-cell image: ',
        'does not look like a single red-cell image: too small for a cell crop (20x20)',
        'error.kindNotCell',
      ],
      [
        'a greyscale image: the model needs a colour (Giemsa-stained) field or cell image',
        'a greyscale image: the model needs a colour (Giemsa-stained) field or cell image',
        'error.kindGreyscale',
      ],
      [
        'image too large: ',
        'image too large: 9000 x 9000 (limits 8192 pixels per side)',
        'error.kindTooLarge',
      ],
      ['file too large (limit ', 'file too large (limit 64 MiB)', 'error.kindTooLarge'],
      ['empty file (0 bytes)', 'empty file (0 bytes)', 'error.kindEmpty'],
      [
        'the red cells are too small to classify: about ',
        'the red cells are too small to classify: about 11 px across (at least 16 px are needed: a higher magnification or camera resolution)',
        'error.kindEmpty',
      ],
      [
        "the field is too large to search at its cells' size: ",
        "the field is too large to search at its cells' size: 8192x8192 px with red cells about 20 px across (at most 12 megapixels at 28 px a cell: crop the image)",
        'error.kindTooLarge',
      ],
    ]) {
      assert(core.includes(`"${words}`), `the core still says "${words}"`);
      cases.push([sample, kind]);
    }
    // the page keeps no copy of a file the input policy refuses, but keeps a field the core read
    const { isInputRefusal } = await import(pathToFileURL(path.join(WEB, 'stats.js')).href);
    assert(isInputRefusal(policy.policyProblem(text)), 'a text file is an input refusal');
    assert(isInputRefusal('empty file (0 bytes)'), 'an empty file is an input refusal');
    for (const m of [
      'the red cells are too small to classify: about 11 px across (at least 16 px ...)',
      "the field is too large to search at its cells' size: 8192x8192 px ...",
      'not a blood-smear image: 0 red cells found',
    ])
      assert(!isInputRefusal(m), `kept: ${m}`);
    for (const [msg, kind] of cases) {
      assert(typeof msg === 'string' && msg, `a message for ${kind}`);
      assert(errorKind(msg) === kind, `"${msg}" -> ${errorKind(msg)}, expected ${kind}`);
      for (const [code, d] of Object.entries(dictionaries)) assert(d[kind], `${code} has ${kind}`);
    }
  });

  test('i18n: exports in French: the CSV notice row and JSON notice translated, numbers and columns as machines read them', async () => {
    const i18n = await import(pathToFileURL(path.join(WEB, 'i18n.js')).href);
    const s = await import(pathToFileURL(path.join(WEB, 'stats.js')).href);
    const recs = [
      {
        name: 'a.png',
        slide: 'S1',
        result: {
          label: 'Parasitized',
          pParasitized: 0.9912345,
          band: 'parasitized',
          logits: [-2.5, 2.25],
          width: 100,
          height: 100,
          ms: 3,
        },
      },
    ];
    const meta = {
      model: 'm',
      digest: 'abc',
      band: [0.204, 0.98],
      exported: '2026-01-01T00:00:00Z',
    };
    try {
      i18n.setLanguage('fr');
      const csv = s.toCSV(recs, meta);
      const [first, header, row] = csv.split('\r\n');
      assert(
        first.startsWith('"# export malaria-screen. Usage prévu'),
        `French notice row: ${first}`,
      );
      assert(/zone d’incertitude 0\.204 < p <= 0\.980/.test(first), `band with dots: ${first}`);
      assert(header.startsWith('slide,file,mode,cell,'), `columns stay machine keys: ${header}`);
      assert(row.includes(',0.991235,') && row.includes(',parasitized,'), `row as numbers: ${row}`);
      const json = JSON.parse(s.toJSON(recs, meta));
      assert(
        json.language === 'fr' && /ni un diagnostic/.test(json.intendedUse),
        'JSON notice in French',
      );
      const fhir = JSON.parse(s.toFHIR(recs, meta));
      assert(/not a diagnosis/i.test(JSON.stringify(fhir)), 'FHIR stays English');
      assert(
        s.parasitemiaText(0.125, 0.1, 0.15, 1200).replace(/[\u00a0\u202f]/g, ' ') ===
          '12,5 % (IC 95 % 10,0–15,0 %) de 1 200 cellules',
        'parasitemia for people',
      );
    } finally {
      i18n.setLanguage('en');
    }
  });
}
