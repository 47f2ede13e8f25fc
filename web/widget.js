// widget.js -- <malaria-cell-classifier> custom element for host pages (health portals).
//
//   <script type="module" src="https://screen.example/widget.js"></script>
//   <malaria-cell-classifier model="https://screen.example/model/…mcb"></malaria-cell-classifier>
//
// Attributes: model (blob URL; default: the blob shipped with the build), engine (auto|simd|nosimd),
// sha256 (expected hash of a model other than the shipped one), lang (en|fr|pt|es; default: the
// nearest lang attribute, e.g. the host's <html lang>, else the browser's languages).
// Events: `result` (detail: {name, result}: a cut-out cell's result, or a whole field's with its
// counts, parasitemia and every cell, malaria-classifier.d.ts) and `error` (detail: {message, name}:
// name is the image's file name, absent for a model that failed to load; also an image that is
// neither, "not a blood-smear image: ..."), both bubbling and composed. Each image replaces the
// previous one's result or error on show, labelled "File: <name>". Methods: classify(blob) -> Promise<result>; ready() -> Promise<{workers, variant}>
// (workers: 0 when the engine runs on the page's thread).
// The engine runs in Workers started from a same-origin blob: shim (see malaria-classifier.js),
// one wasm instance each, no SharedArrayBuffer, so it needs no cross-origin isolation; on a host
// page whose CSP forbids blob: workers it runs on the page's thread instead. Shadow DOM keeps
// styles apart; it is not a security boundary.
import { MalariaClassifier } from './malaria-classifier.js';
import { drawCam, fitOverlay } from './cam-overlay.js';
import { parasitemiaText, errorKind } from './stats.js';
import { translate, matchLanguage, browserLanguage, num, dirOf, localize } from './i18n.js';

const CSS = `
:host { display: block; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
        color: #17202a; max-width: 420px; border: 1px solid #d5dbe1; border-radius: 10px;
        background: #fff; overflow: hidden; }
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.head { background: #1f3b57; color: #fff; padding: 8px 12px; font-weight: 600; font-size: 15px; }
.body { padding: 12px; }
.drop { border: 2px dashed #9fb0c2; border-radius: 8px; padding: 14px; text-align: center;
        background: #f9fbfd; font-size: 14px; }
.drop-text { margin: 0 0 8px; }
.drop.over { background: #e6f0fb; border-color: #1d5fa8; }
.btn { font: inherit; font-size: 14px; padding: 6px 12px; border-radius: 7px; border: 1px solid #1d5fa8;
       background: #1d5fa8; color: #fff; cursor: pointer; position: relative; display: inline-block; }
.btn.secondary { background: #fff; color: #17202a; border-color: #b7c2cd; }
.btn[aria-pressed="true"] { background: #243b53; color: #fff; }
.btn:focus-within, .btn:focus-visible { outline: 3px solid #17202a; outline-offset: 2px; box-shadow: 0 0 0 2px #fff; }
.btn input { position: absolute; opacity: 0; width: 1px; height: 1px; left: 0; top: 0; }
.result { display: grid; grid-template-columns: 120px 1fr; gap: 12px; margin-top: 12px; align-items: start; }
.thumb { position: relative; width: 120px; height: 120px; background: #000; border-radius: 6px; overflow: hidden; }
.thumb img { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; }
.thumb canvas { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
.label { font-size: 17px; font-weight: 700; margin: 0 0 4px; }
.label.parasitized { color: #a3262a; } .label.uninfected { color: #1f6b3a; } .label.uncertain { color: #7a4d00; }
.prob { margin: 0 0 6px; font-size: 14px; font-variant-numeric: tabular-nums; }
.band { font-size: 13px; padding: 3px 6px; border-radius: 5px; background: #eef2f6; margin: 0 0 8px; }
.band.uncertain { background: #fff4dc; color: #7a4d00; font-weight: 600; }
.file { font-size: 13px; color: #33414f; margin: 0 0 4px; overflow-wrap: anywhere; }
.touch-only { display: none; }
@media (pointer: coarse), (hover: none) { .touch-only { display: inline; } .mouse-only { display: none; } }
.status { font-size: 13px; color: #4a5663; min-height: 1.2em; margin: 8px 0 0; overflow-wrap: anywhere; }
.error { font-size: 13px; color: #6b1510; background: #fdecea; border-radius: 6px; padding: 6px 8px; margin: 8px 0 0; }
.notice { font-size: 12px; color: #4a3b00; background: #fff8e1; padding: 6px 12px; margin: 0; border-top: 1px solid #ecd9a0; }
[hidden] { display: none !important; }
`;

const classifiers = new Map(); // one engine per (model, engine) on the page

function sheet() {
  try {
    const s = new CSSStyleSheet();
    s.replaceSync(CSS);
    return s;
  } catch {
    return null;
  }
}

export class MalariaCellClassifier extends HTMLElement {
  static get observedAttributes() {
    return ['model', 'engine', 'sha256', 'lang'];
  }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const s = sheet();
    if (s && 'adoptedStyleSheets' in root) root.adoptedStyleSheets = [s];
    else {
      const st = document.createElement('style');
      st.textContent = CSS;
      root.append(st);
    }
    const wrap = document.createElement('div');
    wrap.innerHTML = `
      <div class="head" part="header" data-i18n="page.title"></div>
      <div class="body">
        <div class="drop" part="drop-zone">
          <p class="drop-text"><span class="mouse-only" data-i18n="widget.drop"></span><span class="touch-only" data-i18n="widget.dropTouch"></span></p>
          <label class="btn"><span data-i18n="widget.choose"></span><input type="file" accept="image/*"></label>
        </div>
        <p class="status" role="status" aria-live="polite"></p>
        <p class="error" role="alert" hidden></p>
        <div class="result" hidden>
          <div class="thumb"><img alt=""><canvas aria-hidden="true" hidden></canvas></div>
          <div>
            <p class="file" part="file-name"></p>
            <p class="label"></p>
            <p class="prob"></p>
            <p class="band"></p>
            <button type="button" class="btn secondary heat" aria-pressed="false" data-i18n="heat.button"></button>
          </div>
        </div>
      </div>
      <p class="notice" part="notice" data-i18n="widget.notice"></p>`;
    this._wrap = document.createElement('div');
    this._wrap.className = 'wrap';
    this._wrap.append(...wrap.childNodes);
    root.append(this._wrap);
    this._q = (sel) => root.querySelector(sel);
    this._lang = null;
    this._localize();
    this._q('input').addEventListener('change', (ev) => {
      const f = ev.target.files && ev.target.files[0];
      ev.target.value = '';
      if (f) this._run(f, f.name);
    });
    const drop = this._q('.drop');
    drop.addEventListener('dragover', (ev) => {
      ev.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (ev) => {
      ev.preventDefault();
      drop.classList.remove('over');
      const f = ev.dataTransfer && ev.dataTransfer.files[0];
      if (f) this._run(f, f.name);
    });
    this._q('.heat').addEventListener('click', () => this._toggleHeat());
    this._url = null;
  }

  connectedCallback() {
    this._localize();
    // a model that does not load is said once here; an image given meanwhile says it with its name
    this._classifier().catch((e) => this._fail(e));
  }

  attributeChangedCallback(name) {
    if (name === 'lang') this._localize();
    this._key = null;
  }

  /** The widget's language: its lang attribute, else the nearest lang above it (the host's
   *  <html lang>), else the browser's languages; English when none of them is offered. */
  get language() {
    const own = this.getAttribute('lang');
    if (own !== null) return matchLanguage(own) || browserLanguage();
    const up = this.parentElement && this.parentElement.closest('[lang]');
    const host = up ? up.getAttribute('lang') : document.documentElement.getAttribute('lang');
    return (host && matchLanguage(host)) || browserLanguage();
  }

  _t(key, params) {
    return translate(this._lang || this.language, key, params);
  }

  /** Writes the static words in the widget's language (again when it changes). */
  _localize() {
    const code = this.language;
    if (code === this._lang) return;
    this._lang = code;
    this._wrap.lang = code;
    this._wrap.dir = dirOf(code);
    localize(this._wrap, code);
    // the result on show, if one is (not one that a later image's error or run took off)
    if (this._result && !this._q('.result').hidden)
      this._show(this._input, this._name, this._result);
  }

  disconnectedCallback() {
    if (this._url) URL.revokeObjectURL(this._url);
    this._url = null;
  }

  _options() {
    const model = this.getAttribute('model');
    return {
      model: model ? new URL(model, document.baseURI).href : undefined,
      sha256: this.getAttribute('sha256') || undefined,
      engine: this.getAttribute('engine') || 'auto',
      // one Worker: a widget shares the host page's cores with the host
      workers: Number(this.getAttribute('workers')) || 1,
    };
  }

  _classifier() {
    const o = this._options();
    const key = `${o.model || ''}|${o.engine}|${o.sha256 || ''}`;
    if (!classifiers.has(key)) {
      this._status(this._t('widget.loading'));
      const p = MalariaClassifier.create(o);
      classifiers.set(key, p);
      p.catch(() => classifiers.delete(key));
    }
    const p = classifiers.get(key);
    // a failure is reported by the caller (connectedCallback, classify, the heat map): once
    p.then(
      () => {
        if (this._q('.status').textContent === this._t('widget.loading'))
          this._status(this._t('widget.ready'));
      },
      () => {},
    );
    return p;
  }

  /** Resolves when the model is loaded: {workers (0: on this thread), variant}. */
  async ready() {
    const c = await this._classifier();
    return { workers: c.info.workers, variant: c.info.variant };
  }

  _status(text) {
    this._q('.status').textContent = text;
  }

  /** Show an error; with `name` (an image that failed) it replaces the previous result. */
  _fail(e, name) {
    const message = String((e && e.message) || e);
    const box = this._q('.error');
    // the image's name, a lead in the widget's language, then the message as the classifier
    // gave it (English; without the name it may start with)
    const text = document.createElement('span');
    text.lang = 'en';
    text.textContent =
      name && message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message;
    const lead = this._t('error.lead', { kind: this._t(errorKind(message)) });
    box.replaceChildren(name ? `${name}: ${lead} ` : `${lead} `, text);
    box.hidden = false;
    if (name) this._q('.result').hidden = true;
    this._status('');
    this.dispatchEvent(
      new CustomEvent('error', {
        detail: name ? { message, name } : { message },
        bubbles: true,
        composed: true,
      }),
    );
  }

  async _run(blob, name) {
    try {
      await this.classify(blob, name);
    } catch {
      /* reported through the error event */
    }
  }

  /** Classify one image (Blob/File, ImageBitmap or ImageData); also shows it in the widget. */
  // Each image replaces the previous one's result: it is taken off while the new one runs, and
  // the result or the error shown is the latest image's, named by its file.
  async classify(input, name = (input && input.name) || 'image') {
    this._turn = (this._turn || 0) + 1;
    const turn = this._turn;
    this._q('.error').hidden = true;
    this._q('.result').hidden = true;
    this._heatInput = null;
    this._status(this._t('widget.classifying', { name }));
    let result;
    try {
      const c = await this._classifier();
      result = await c.classify(input, { name });
    } catch (e) {
      if (turn === this._turn) this._fail(e, name);
      throw e;
    }
    if (turn !== this._turn) return result; // a later image is on show
    this._show(input, name, result);
    this.dispatchEvent(
      new CustomEvent('result', { detail: { name, result }, bubbles: true, composed: true }),
    );
    return result;
  }

  _show(input, name, r) {
    this._result = r;
    this._input = input;
    this._name = name;
    if (this._url) URL.revokeObjectURL(this._url);
    this._url = input instanceof Blob ? URL.createObjectURL(input) : null;
    const img = this._q('.thumb img');
    if (this._url) img.src = this._url;
    else img.removeAttribute('src');
    this._q('.file').textContent = this._t('widget.file', { name });
    if (r.mode === 'field') {
      this._showField(name, r);
      return;
    }
    // the occlusion heat map, on demand: for a cell not called Uninfected, given as a file
    this._heatInput = input instanceof Blob && r.band !== 'uninfected' ? input : null;
    this._heatName = name;
    this._q('.heat').hidden = !this._heatInput;
    // the call follows the band: in the uncertain band no class is shown, only "to review"
    const call = r.band === 'parasitized' || r.band === 'uninfected' ? r.band : 'uncertain';
    const words = this._t(
      {
        parasitized: 'call.parasitized',
        uninfected: 'call.uninfected',
        uncertain: 'call.uncertain',
      }[call],
    );
    const symbol = { parasitized: '✚', uninfected: '○', uncertain: '?' }[call];
    const p = num(r.pParasitized, 3, this._lang);
    img.alt = this._t('alt.cell', { call: words, p, name });
    const label = this._q('.label');
    label.textContent = `${symbol} ${words}`;
    label.className = `label ${call}`;
    this._q('.prob').textContent = this._t('card.prob', { p });
    const band = this._q('.band');
    band.textContent = this._t(
      call === 'uncertain'
        ? 'widget.inBand'
        : call === 'parasitized'
          ? 'band.confidentParasitized'
          : 'band.confidentUninfected',
    );
    band.className = `band ${call}`;
    const canvas = this._q('canvas');
    canvas.hidden = true;
    canvas.dataset.drawn = '';
    fitOverlay(canvas, r.width, r.height);
    this._q('.heat').setAttribute('aria-pressed', 'false');
    this._q('.result').hidden = false;
    this._status(this._t('widget.statusCell', { name, call: words, p }));
  }

  /** A whole field: its counts and parasitemia (the page draws the cells; `result` has them all). */
  _showField(name, r) {
    const counts = this._t('widget.counts', {
      counted: r.counted,
      parasitized: r.parasitized,
      uncertain: r.uncertain,
    });
    this._q('.thumb img').alt = this._t('widget.fieldAlt', { counts, name });
    const label = this._q('.label');
    label.textContent = this._t('field.whole');
    label.className = 'label';
    this._q('.prob').textContent = `${counts}.`;
    const band = this._q('.band');
    band.textContent = this._t('widget.parasitemia', {
      text: parasitemiaText(r.parasitemia, r.ci95[0], r.ci95[1], r.counted, this._lang),
    });
    band.className = `band${r.uncertain ? ' uncertain' : ''}`;
    this._q('canvas').hidden = true;
    this._q('.heat').hidden = true;
    this._q('.result').hidden = false;
    this._status(this._t('widget.statusField', { name, counts }));
  }

  async _toggleHeat() {
    const canvas = this._q('canvas');
    const btn = this._q('.heat');
    const on = btn.getAttribute('aria-pressed') !== 'true';
    btn.setAttribute('aria-pressed', String(on));
    if (!on || canvas.dataset.drawn) {
      canvas.hidden = !on;
      return;
    }
    const input = this._heatInput;
    if (!input || btn.getAttribute('aria-busy') === 'true') return;
    btn.setAttribute('aria-busy', 'true');
    this._status(this._t('widget.heatComputing'));
    try {
      const h = await (await this._classifier()).explain(input, { name: this._heatName });
      if (input !== this._heatInput) return; // another image came meanwhile
      drawCam(canvas, h.map, h.size);
      canvas.dataset.drawn = '1';
      canvas.hidden = btn.getAttribute('aria-pressed') !== 'true';
      this._status(this._t('widget.heatDrawn', { name: this._heatName }));
    } catch (e) {
      btn.setAttribute('aria-pressed', 'false');
      this._fail(e);
    } finally {
      btn.removeAttribute('aria-busy');
    }
  }
}

if (!customElements.get('malaria-cell-classifier')) {
  customElements.define('malaria-cell-classifier', MalariaCellClassifier);
}
