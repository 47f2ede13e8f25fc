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
mc.addEventListener('error', (ev) => add(`error: ${ev.detail.message}`));
