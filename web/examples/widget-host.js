// Listens to the widget's events, as a host page would.
const log = document.getElementById('log');
const mc = document.getElementById('mc');
function add(text) {
  const li = document.createElement('li');
  li.textContent = text;
  log.append(li);
}
mc.addEventListener('result', (ev) => {
  const { name, result } = ev.detail;
  if (result.mode === 'field') {
    add(
      `result: ${name} -> whole field, ${result.counted} red cells counted, ${result.parasitized} parasitized, ` +
        `${result.uncertain} to review`,
    );
    window.lastResult = {
      name,
      mode: 'field',
      counted: result.counted,
      parasitized: result.parasitized,
      uncertain: result.uncertain,
    };
    return;
  }
  add(
    `result: ${name} -> ${result.label} (P(parasitized) ${result.pParasitized.toFixed(3)}, ${result.band})`,
  );
  window.lastResult = {
    name,
    label: result.label,
    pParasitized: result.pParasitized,
    band: result.band,
  };
});
mc.addEventListener('error', (ev) =>
  add(`error: ${ev.detail.name ? `${ev.detail.name}: ` : ''}${ev.detail.message}`),
);
// The widget's script could not be loaded (a wrong URL, the site down, a CSP of this page that
// does not allow it): the element never becomes a widget. Say so after a while.
const LOAD_TIMEOUT_MS = 10000;
// The words this page shows when the widget is missing (one place, for translation).
const NOT_LOADED = (origin) =>
  `The classifier widget did not load from ${origin}: ` +
  "check the script's URL and this page's Content-Security-Policy.";
setTimeout(() => {
  if (customElements.get('malaria-cell-classifier')) return;
  const box = document.getElementById('widget-error');
  box.textContent = NOT_LOADED(
    new URL(document.querySelector('script[src$="widget.js"]').src).origin,
  );
  box.hidden = false;
}, LOAD_TIMEOUT_MS);
