// i18n.js -- the page's and the widget's words in English, French, Portuguese and Spanish.
//
//   import { t, setLanguage, languages } from './i18n.js';
//   t('batch.progress', { done: 3, total: 40 })   // "Classifying 3 of 40"
//
// One dictionary module per language (lang/en.js, fr.js, pt.js, es.js): flat keys -> a string
// with {name} placeholders, or for a count {one: ..., other: ...} (Intl.PluralRules picks the form
// by the `n` parameter). Number parameters are formatted for the language (Intl.NumberFormat:
// 1 234 in French, 1.234 in Portuguese); a number with set decimals goes in as the string from
// num(), an identifier (a cell's index, a pixel position) as a String. The dictionaries are
// small and imported statically: t() is synchronous in the page, the widget and Node (tests).
// Which language: the user's choice (localStorage 'mc-lang'), else the first of
// navigator.languages that matches (pt-BR -> pt), else English. tests/web/i18n.test.mjs checks
// that every language has every key with the same placeholders and no key is unused.
import en from './lang/en.js';
import fr from './lang/fr.js';
import pt from './lang/pt.js';
import es from './lang/es.js';

const DICTS = { en, fr, pt, es };
/** The languages offered: [{code, name (in that language), dir}], English first. */
export const languages = Object.entries(DICTS).map(([code, d]) => ({
  code,
  name: d['lang.name'],
  dir: d['lang.dir'],
}));
export const DEFAULT_LANGUAGE = 'en';
export const STORAGE_KEY = 'mc-lang';

let current = DEFAULT_LANGUAGE;

/** The supported language code for a BCP 47 tag ('pt-BR' -> 'pt'), or null. */
export function matchLanguage(tag) {
  if (typeof tag !== 'string') return null;
  const base = tag.trim().toLowerCase().split(/[-_]/)[0];
  return Object.hasOwn(DICTS, base) ? base : null;
}

/** The first supported language of a list of tags (navigator.languages), else English. */
export function pickLanguage(tags) {
  for (const tag of tags || []) {
    const code = matchLanguage(tag);
    if (code) return code;
  }
  return DEFAULT_LANGUAGE;
}

function browserTags() {
  if (typeof navigator === 'undefined') return [];
  return navigator.languages && navigator.languages.length
    ? navigator.languages
    : [navigator.language];
}

/** The browser's language among those offered (navigator.languages), else English. */
export function browserLanguage() {
  return pickLanguage(browserTags());
}

/** The page's language: the choice stored in localStorage, else the browser's. */
export function storedChoice() {
  try {
    return matchLanguage(globalThis.localStorage && localStorage.getItem(STORAGE_KEY));
  } catch {
    return null; // storage blocked: the browser's language
  }
}

export function initialLanguage() {
  return storedChoice() || browserLanguage();
}

/** Makes `code` the language of t() (and, with remember, the stored choice). */
export function setLanguage(code, { remember = false } = {}) {
  current = matchLanguage(code) || DEFAULT_LANGUAGE;
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, current);
    } catch {
      /* not remembered where storage is blocked */
    }
  }
  return current;
}

export const language = () => current;

/** The locale for dates: English as en-GB (4 Dec 2026, 14:05); another language in the
 *  browser's own variant of it when it has one (pt-BR, fr-CA), else the language. */
export function dateLocale(code = current) {
  if (code === 'en') return 'en-GB'; // as the page always wrote them
  return browserTags().find((x) => matchLanguage(x) === code) || code;
}
export const dirOf = (code) => (DICTS[matchLanguage(code) || DEFAULT_LANGUAGE] || en)['lang.dir'];

const numberFormats = new Map();
function numberFormat(code, opts) {
  const k = `${code}|${JSON.stringify(opts || {})}`;
  if (!numberFormats.has(k)) numberFormats.set(k, new Intl.NumberFormat(code, opts));
  return numberFormats.get(k);
}

/** A number for people in the language: num(0.2041, 3) -> "0,204" in French. Never for exports. */
export function num(x, digits = null, code = current) {
  if (!Number.isFinite(x)) return '–';
  const opts =
    digits === null ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return numberFormat(code, opts).format(x);
}

const pluralRules = new Map();
function pluralOf(code, n) {
  if (!pluralRules.has(code)) pluralRules.set(code, new Intl.PluralRules(code));
  return pluralRules.get(code).select(n);
}

/** The words of `key` in language `code` with {placeholders} filled. */
export function translate(code, key, params = {}) {
  const lang = matchLanguage(code) || DEFAULT_LANGUAGE;
  let v = DICTS[lang][key];
  let used = lang;
  if (v === undefined) {
    v = en[key];
    used = 'en';
  }
  if (v === undefined) return key;
  if (typeof v === 'object') {
    const n = Number(params.n);
    v = v[pluralOf(used, Number.isFinite(n) ? n : 0)] ?? v.other;
  }
  return v.replace(/\{(\w+)\}/g, (m, name) => {
    if (!Object.hasOwn(params, name)) return m;
    const x = params[name];
    return typeof x === 'number' ? num(x, null, used) : String(x);
  });
}

/** The words of `key` in the current language. */
export const t = (key, params) => translate(current, key, params);

/** The dictionaries themselves (for the completeness test). */
export const dictionaries = DICTS;

/**
 * Translates the static markup under `root`: data-i18n="key" sets an element's text;
 * data-i18n-attr="title=key;aria-label=key" sets attributes.
 */
export function localize(root, code = current) {
  for (const e of root.querySelectorAll('[data-i18n]'))
    e.textContent = translate(code, e.dataset.i18n);
  for (const e of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of e.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split('=').map((s) => s.trim());
      if (attr && key) e.setAttribute(attr, translate(code, key));
    }
  }
}
