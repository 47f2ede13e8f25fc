// a11y.js -- the page's keyboard grid of results, its touch layout, the offline indicator and the
// model download's progress (issue 18 item 8). app.js calls these; the words are all here.
//
// Results grid (the WAI-ARIA grid pattern, roving tabindex): #grid is role=grid, each block of
// cards role=rowgroup, each card role=row holding one role=gridcell (.card-cell) that takes the
// focus. The grid is one tab stop: the cell last visited has tabindex 0, every other cell and
// every control inside the cards -1. On a cell: arrow keys move (left/right: the card before or
// after; up/down: the card above or below, as laid out), Home/End (or Ctrl+Home/End) the first and
// last card, Enter or F2 goes into the card (its first control; on a whole field the cell chosen
// on its picture, where the arrow keys move between red cells), Escape comes back to the card,
// Tab and Shift+Tab inside a card go round its controls. The review keys (P, U, C, Delete or X)
// work on the card in focus (app.js).

import { t, num } from './i18n.js';

// Every user-visible string of this module, in the page's language (web/lang/*.js).
export const A11Y_TEXT = {
  get gridHelp() {
    return t('grid.help');
  },
  get offlineStored() {
    return t('net.offlineStored');
  },
  get offlineNotStored() {
    return t('net.offlineNotStored');
  },
  get modelDownload() {
    return t('model.download');
  },
  downloading: (loaded, total) =>
    total
      ? t('model.downloading', { loaded: mb(loaded), total: mb(total) })
      : t('model.downloadingSoFar', { loaded: mb(loaded) }),
  downloaded: (n) => t('model.downloaded', { n }),
  fromCopy: (n) => t('model.fromCopy', { n }),
};
const mb = (n) => num(n / 1e6, 1);

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// Results grid

const FOCUSABLE =
  'button, input, select, textarea, a[href], [tabindex]:not(.card-cell), .counted .cell';

/** Make a card a grid row: its content moves into one focusable gridcell; its controls leave
 *  the tab order. Returns the card. */
export function asGridRow(card, active) {
  const cell = document.createElement('div');
  cell.className = 'card-cell';
  cell.setAttribute('role', 'gridcell');
  cell.append(...card.childNodes);
  card.append(cell);
  card.setAttribute('role', 'row');
  cell.tabIndex = active ? 0 : -1;
  for (const c of cell.querySelectorAll(FOCUSABLE)) c.tabIndex = -1;
  return card;
}

let activeCell = null; // the grid's one tab stop

function setActive(cell) {
  if (activeCell === cell) {
    if (cell && cell.tabIndex !== 0) cell.tabIndex = 0;
    return;
  }
  if (activeCell && activeCell.isConnected) activeCell.tabIndex = -1;
  activeCell = cell;
  if (cell) cell.tabIndex = 0;
}

const shownCells = (grid) =>
  grid.querySelectorAll('.grid-chunk:not([hidden]) > .card:not([hidden]) > .card-cell');

/** The card's controls in the order Tab goes round them (a field's picture: one stop, the red
 *  cell chosen, else the first in reading order). */
function controlsOf(cell) {
  const out = [];
  for (let c of cell.querySelectorAll(FOCUSABLE)) {
    if (c.closest('[hidden]') || c.disabled || c.tagName === 'svg') continue;
    if (c.matches('.counted .cell')) {
      const svg = c.closest('svg');
      if (out.some((x) => x.closest('svg') === svg)) continue;
      c = svg.querySelector('.counted .cell.sel') || svg.querySelector('.counted .cell.first') || c;
    }
    out.push(c);
  }
  return out;
}

/** The cell above or below `cur` as laid out (the nearest by centre in the next row), or null. */
function vertical(cells, i, down) {
  const r0 = cells[i].getBoundingClientRect();
  const x0 = r0.left + r0.width / 2;
  let rowTop = null;
  let best = null;
  let bestDx = Infinity;
  for (let j = i + (down ? 1 : -1); j >= 0 && j < cells.length; j += down ? 1 : -1) {
    const r = cells[j].getBoundingClientRect();
    if (rowTop === null) {
      if (down ? r.top <= r0.top + 2 : r.top >= r0.top - 2) continue; // same row
      rowTop = r.top;
    } else if (Math.abs(r.top - rowTop) > 2) break; // past that row
    const dx = Math.abs(r.left + r.width / 2 - x0);
    if (dx < bestDx) {
      bestDx = dx;
      best = cells[j];
    }
  }
  return best;
}

/** Keyboard and focus handling of the results grid, and its one tab stop kept valid. */
export function setupGrid(grid) {
  grid.setAttribute('role', 'grid');
  grid.setAttribute('aria-labelledby', 'results-heading');
  const help = $('grid-help');
  if (help) {
    help.textContent = A11Y_TEXT.gridHelp;
    grid.setAttribute('aria-describedby', 'grid-help');
  }
  grid.addEventListener('focusin', (ev) => {
    const cell = ev.target.closest && ev.target.closest('.card-cell');
    if (cell) setActive(cell);
  });
  grid.addEventListener('keydown', (ev) => {
    const t = ev.target;
    const cell = t.closest && t.closest('.card-cell');
    if (!cell) return;
    if (t !== cell) {
      // inside a card: Escape back to it; Tab goes round its controls
      if (ev.key === 'Escape') {
        ev.preventDefault();
        cell.focus();
      } else if (ev.key === 'Tab' && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
        const list = controlsOf(cell);
        const at = list.findIndex((c) => c === t || c.contains(t));
        if (list.length) {
          ev.preventDefault();
          const n = list.length;
          list[(((Math.max(0, at) + (ev.shiftKey ? -1 : 1)) % n) + n) % n].focus();
        }
      }
      return;
    }
    if (ev.altKey || ev.metaKey) return;
    if (ev.key === 'Enter' || ev.key === 'F2') {
      const first = controlsOf(cell)[0];
      if (first) {
        ev.preventDefault();
        first.focus();
      }
      return;
    }
    const move = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: 'down',
      ArrowUp: 'up',
      Home: 'first',
      End: 'last',
    }[ev.key];
    if (!move || (ev.ctrlKey && ev.key.startsWith('Arrow'))) return;
    ev.preventDefault();
    const cells = [...shownCells(grid)];
    const i = cells.indexOf(cell);
    let to = null;
    if (move === 'first') to = cells[0];
    else if (move === 'last') to = cells[cells.length - 1];
    else if (move === 'down' || move === 'up') to = vertical(cells, i, move === 'down');
    else to = cells[i + move];
    if (to) {
      setActive(to);
      to.focus();
    }
  });
  // Cards come, go, are rebuilt, filtered and sorted: new controls leave the tab order, the
  // blocks are rowgroups, and one shown cell stays the tab stop.
  // O(1) while the tab stop stays in place (thousands of cards: no scan per mutation).
  let queued = false;
  const settle = () => {
    queued = false;
    if (activeCell && activeCell.isConnected && !activeCell.closest('[hidden]')) return;
    // the card that had it was rebuilt (its new cell has tabindex 0), hidden or removed
    const rebuilt = grid.querySelector('.card-cell[tabindex="0"]');
    const first = grid.querySelector(
      '.grid-chunk:not([hidden]) > .card:not([hidden]) > .card-cell',
    );
    activeCell = null;
    if (rebuilt && rebuilt.closest('[hidden]')) rebuilt.tabIndex = -1;
    setActive(rebuilt && !rebuilt.closest('[hidden]') ? rebuilt : first);
  };
  new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) continue;
        if (n.classList.contains('grid-chunk')) {
          n.setAttribute('role', 'rowgroup');
          continue;
        }
        if (n.classList.contains('card')) continue; // asGridRow did it
        if (n.matches(FOCUSABLE) && !n.classList.contains('card-cell')) n.tabIndex = -1;
        for (const c of n.querySelectorAll(FOCUSABLE)) c.tabIndex = -1;
      }
    }
    if (!queued) {
      queued = true;
      queueMicrotask(settle);
    }
  }).observe(grid, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['hidden'],
  });
}

/** The cell a rebuilt card should take the focus on, when the old card had it on its cell. */
export function cellHadFocus(oldCard) {
  const a = document.activeElement;
  return !!(
    oldCard &&
    a &&
    a.classList &&
    a.classList.contains('card-cell') &&
    oldCard.contains(a)
  );
}

export function isActiveCard(card) {
  return !!(activeCell && card && card.contains(activeCell));
}

// ---------------------------------------------------------------------------------------------
// Touch screens: the camera first, no words about dropping or Ctrl+V (CSS .mouse-only and
// .touch-only under the same media query).

// A coarse pointer (a finger) or none that hovers: neither drags files in nor has Ctrl+V at hand.
export const TOUCH_QUERY = '(pointer: coarse), (hover: none)';

export function setupTouch() {
  const q = window.matchMedia(TOUCH_QUERY);
  const cam = $('camera-btn');
  const files = $('file-input') && $('file-input').closest('label');
  const apply = () => {
    const touch = q.matches;
    document.documentElement.dataset.touch = touch ? '1' : '';
    if (!cam || !files) return;
    const row = cam.parentElement;
    if (touch) row.prepend(cam);
    else row.append(cam);
    cam.classList.toggle('primary', touch);
    files.classList.toggle('primary', !touch);
  };
  apply();
  q.addEventListener('change', apply);
}

// ---------------------------------------------------------------------------------------------
// Offline indicator

let offlineUpdate = null; // the indicator's update (relabel() calls it)

export function setupOffline() {
  const box = $('net-state');
  if (!box) return;
  const update = () => {
    const off = navigator.onLine === false;
    box.dataset.state = off ? 'offline' : 'online';
    const stored = !!(navigator.serviceWorker && navigator.serviceWorker.controller);
    box.textContent = off ? (stored ? A11Y_TEXT.offlineStored : A11Y_TEXT.offlineNotStored) : '';
  };
  offlineUpdate = update;
  window.addEventListener('online', update);
  window.addEventListener('offline', update);
  if (navigator.serviceWorker) navigator.serviceWorker.addEventListener('controllerchange', update);
  update();
}

// ---------------------------------------------------------------------------------------------
// The model's download, in bytes

/** MalariaClassifier.create's onProgress: the <progress> and its words. */
export function showModelProgress({ loaded, total, source }) {
  const bar = $('model-progress');
  const text = $('model-progress-text');
  if (!bar || !text) return;
  bar.closest('.model-load').hidden = false;
  bar.setAttribute('aria-label', A11Y_TEXT.modelDownload);
  if (total) {
    bar.max = total;
    bar.value = loaded;
  } else bar.removeAttribute('value'); // indeterminate
  bar.dataset.loaded = String(loaded);
  bar.dataset.total = String(total);
  bar.dataset.source = source;
  text.textContent =
    source === 'local copy' ? A11Y_TEXT.fromCopy(loaded) : A11Y_TEXT.downloading(loaded, total);
}

/** The model is loaded: the bar goes, a line in the footer says where it came from. */
export function modelLoaded(source) {
  const bar = $('model-progress');
  const line = $('model-source');
  if (bar) {
    bar.closest('.model-load').hidden = true;
    const n = Number(bar.dataset.loaded) || 0;
    if (line && n) {
      line.dataset.source = source || '';
      line.textContent = source === 'local copy' ? A11Y_TEXT.fromCopy(n) : A11Y_TEXT.downloaded(n);
    }
  }
}

/** The words of this module written again in the language now chosen (app.js, on a change). */
export function relabel() {
  const help = $('grid-help');
  if (help && help.textContent) help.textContent = A11Y_TEXT.gridHelp;
  if (offlineUpdate) offlineUpdate();
  const bar = $('model-progress');
  if (!bar) return;
  if (bar.hasAttribute('aria-label')) bar.setAttribute('aria-label', A11Y_TEXT.modelDownload);
  if (!bar.closest('.model-load').hidden && bar.dataset.source) {
    const d = bar.dataset;
    showModelProgress({ loaded: Number(d.loaded), total: Number(d.total), source: d.source });
  }
  const line = $('model-source');
  if (line && line.textContent && bar.closest('.model-load').hidden)
    modelLoaded(line.dataset.source);
}

/** The model failed to load: the bar goes (the page's banner says why). */
export function modelFailed() {
  const bar = $('model-progress');
  if (bar) bar.closest('.model-load').hidden = true;
}
