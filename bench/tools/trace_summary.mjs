// trace_summary.mjs -- where a page's main thread spent its time, from a Chromium trace (as
// bench/page_time.mjs --trace writes it, or DevTools' Performance panel saves it):
//
//   node bench/tools/trace_summary.mjs TRACE.json [--top 25] [--json OUT.json]
//
// Prints, for the busiest renderer main thread (CrRendererMain): the wall time of the trace, the
// time in tasks, the tasks over 50 ms, self time by trace event (Layout, style, paint, GC,
// script, ...), self time by JavaScript function (the V8 sampling profiler's samples, when the
// trace has them) and by script entry (the timer, frame, event or message that ran the script);
// the same totals for the Worker threads.
import fs from 'node:fs';

const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(k);
  return i >= 0 ? args.splice(i, 2)[1] : d;
};
const TOP = Number(opt('--top', 25));
const jsonOut = opt('--json', null);
const file = args[0];
if (!file) {
  console.error('usage: node bench/tools/trace_summary.mjs TRACE.json [--top N] [--json OUT]');
  process.exit(2);
}
const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
const events = Array.isArray(raw) ? raw : raw.traceEvents;

const names = new Map(); // "pid:tid" -> thread name
for (const e of events)
  if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);

const byThread = new Map();
for (const e of events) {
  if (e.ph !== 'X' && e.ph !== 'B' && e.ph !== 'E') continue;
  const k = `${e.pid}:${e.tid}`;
  if (!byThread.has(k)) byThread.set(k, []);
  byThread.get(k).push(e);
}

const TASK = new Set(['RunTask', 'ThreadControllerImpl::RunTask', 'ThreadPool_RunTask']);
// what each trace event means, in DevTools' words where there is one
const GROUP = {
  UpdateLayoutTree: 'style (Recalculate Style)',
  Layout: 'layout',
  Paint: 'paint',
  PrePaint: 'paint',
  PaintImage: 'paint',
  Layerize: 'paint',
  UpdateLayer: 'paint',
  UpdateLayerTree: 'paint',
  'LocalFrameView::RunPostLifecycleSteps': 'paint',
  Commit: 'paint',
  MinorGC: 'GC',
  MajorGC: 'GC',
  'V8.GC_SCAVENGER': 'GC',
  'V8.GC_MC_BACKGROUND_MARKING': 'GC',
  BlinkGC: 'GC',
  'BlinkGC.AtomicPhase': 'GC',
  'CppGC.AtomicPhase': 'GC',
  ParseHTML: 'parse HTML',
  'v8.compile': 'compile',
  'v8.compileModule': 'compile',
  'V8.CompileCode': 'compile',
  'v8.produceCache': 'compile',
  EvaluateScript: 'script',
  'v8.evaluateModule': 'script',
  FunctionCall: 'script',
  'v8.callFunction': 'script',
  'v8.run': 'script',
  TimerFire: 'script',
  RunMicrotasks: 'script',
  FireAnimationFrame: 'script',
  EventDispatch: 'script',
  HitTest: 'layout',
  'Decode Image': 'image decode',
  ImageDecodeTask: 'image decode',
};

function summarize(list) {
  // nesting: sort by start, longer first; B/E pairs turned into spans
  const spans = [];
  const open = [];
  for (const e of list) {
    if (e.ph === 'X') spans.push({ name: e.name, ts: e.ts, dur: e.dur || 0, args: e.args });
    else if (e.ph === 'B') open.push(e);
    else if (e.ph === 'E') {
      const b = open.pop();
      if (b) spans.push({ name: b.name, ts: b.ts, dur: e.ts - b.ts, args: b.args });
    }
  }
  spans.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const self = new Map();
  const entry = new Map();
  const stack = [];
  let busy = 0;
  const longTasks = [];
  let first = Infinity;
  let last = -Infinity;
  for (const s of spans) {
    while (stack.length && stack[stack.length - 1].ts + stack[stack.length - 1].dur <= s.ts)
      stack.pop();
    const parent = stack[stack.length - 1];
    if (!parent) {
      if (TASK.has(s.name)) {
        busy += s.dur;
        if (s.dur > 50000) longTasks.push({ ts: s.ts, ms: s.dur / 1000 });
        first = Math.min(first, s.ts);
        last = Math.max(last, s.ts + s.dur);
      }
    } else parent.child += s.dur;
    s.child = 0;
    // the script entry this span belongs to: the outermost script event above it
    s.entry = parent && parent.entry ? parent.entry : null;
    if (!s.entry && GROUP[s.name] === 'script') s.entry = entryName(s);
    stack.push(s);
  }
  for (const s of spans) {
    const selfUs = Math.max(0, s.dur - s.child);
    self.set(s.name, (self.get(s.name) || 0) + selfUs);
    if (s.entry && GROUP[s.name] === 'script') {
      entry.set(s.entry, (entry.get(s.entry) || 0) + selfUs);
    }
  }
  const groups = new Map();
  for (const [n, us] of self) {
    if (TASK.has(n)) continue;
    const g = GROUP[n] || 'other';
    groups.set(g, (groups.get(g) || 0) + us);
  }
  // time in tasks not under any named event
  let named = 0;
  for (const [n, us] of self) if (!TASK.has(n)) named += us;
  groups.set('task (no finer event)', Math.max(0, busy - named));
  return { busy, first, last, longTasks, self, entry, groups };
}

function entryName(s) {
  const d = (s.args && s.args.data) || {};
  if (s.name === 'TimerFire') return `timer ${d.timerId ?? ''}`.trim();
  if (s.name === 'FireAnimationFrame') return 'animation frame callback';
  if (s.name === 'EventDispatch') return `event ${d.type || '?'}`;
  if (s.name === 'FunctionCall' || s.name === 'v8.callFunction')
    return `call ${d.functionName || '(anonymous)'} ${(d.url || '').split('/').pop()}:${d.lineNumber ?? ''}`;
  if (s.name === 'EvaluateScript' || s.name === 'v8.evaluateModule')
    return `evaluate ${(d.url || '').split('/').pop()}`;
  return s.name;
}

// JS self time by function from the sampling profiler (ProfileChunk events of one thread)
function profileSelf(pid, tid) {
  const nodes = new Map();
  const out = new Map();
  let total = 0;
  // a thread's Profile event names the id its ProfileChunks (sent from a sampler thread) carry
  const ids = new Set(
    events.filter((e) => e.name === 'Profile' && e.pid === pid && e.tid === tid).map((e) => e.id),
  );
  const chunks = events.filter((e) => e.name === 'ProfileChunk' && e.pid === pid && ids.has(e.id));
  for (const c of chunks) {
    const d = c.args && c.args.data;
    if (!d) continue;
    const cp = d.cpuProfile || {};
    for (const n of cp.nodes || []) nodes.set(`${c.id}:${n.id}`, n.callFrame || {});
    const samples = cp.samples || [];
    const deltas = d.timeDeltas || [];
    for (let i = 0; i < samples.length; i++) {
      const f = nodes.get(`${c.id}:${samples[i]}`) || {};
      const dt = Math.max(0, deltas[i] || 0);
      const key =
        f.functionName === '(idle)' || f.functionName === '(program)'
          ? f.functionName
          : `${f.functionName || '(anonymous)'} ${(f.url || '').split('/').pop()}:${f.lineNumber ?? ''}`;
      out.set(key, (out.get(key) || 0) + dt);
      total += dt;
    }
  }
  return { out, total };
}

const threads = [...byThread.entries()].map(([k, list]) => ({
  k,
  name: names.get(k) || '?',
  sum: summarize(list),
}));
const mains = threads
  .filter((t) => t.name === 'CrRendererMain')
  .sort((a, b) => b.sum.busy - a.sum.busy);
if (!mains.length) {
  console.error('no CrRendererMain thread in this trace');
  process.exit(1);
}
const main = mains[0];
const ms = (us) => (us / 1000).toFixed(0).padStart(7);
const span = main.sum.last - main.sum.first;
const out = {
  file,
  mainThread: main.k,
  spanMs: span / 1000,
  busyMs: main.sum.busy / 1000,
  longTasks: main.sum.longTasks,
  groups: Object.fromEntries([...main.sum.groups].map(([g, us]) => [g, us / 1000])),
  events: {},
  entries: {},
  functions: {},
  workers: {},
};
console.log(
  `${file}: main thread ${main.k}: ${(span / 1000).toFixed(0)} ms from its first task to its last, ` +
    `${(main.sum.busy / 1000).toFixed(0)} ms in tasks (${((100 * main.sum.busy) / span).toFixed(0)}%); ` +
    `${main.sum.longTasks.length} tasks over 50 ms` +
    (main.sum.longTasks.length
      ? ` (longest ${Math.max(...main.sum.longTasks.map((t) => t.ms)).toFixed(0)} ms)`
      : ''),
);
console.log('\nmain thread, self time by kind:');
for (const [g, us] of [...main.sum.groups].sort((a, b) => b[1] - a[1]))
  console.log(`${ms(us)} ms  ${g}`);
console.log(`\nmain thread, self time by trace event (top ${TOP}):`);
for (const [n, us] of [...main.sum.self]
  .filter(([n]) => !TASK.has(n))
  .sort((a, b) => b[1] - a[1])
  .slice(0, TOP)) {
  console.log(`${ms(us)} ms  ${n}`);
  out.events[n] = us / 1000;
}
console.log(`\nmain thread, script self time by entry (top ${TOP}):`);
for (const [n, us] of [...main.sum.entry].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  console.log(`${ms(us)} ms  ${n}`);
  out.entries[n] = us / 1000;
}
const [pid, tid] = main.k.split(':').map(Number);
const prof = profileSelf(pid, tid);
if (prof.total) {
  console.log(
    `\nmain thread, JS samples by function, self (top ${TOP}; ${ms(prof.total)} ms sampled):`,
  );
  for (const [n, us] of [...prof.out].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    console.log(`${ms(us)} ms  ${n}`);
    out.functions[n] = us / 1000;
  }
}
console.log('\nother threads of the page (time in tasks):');
for (const t of threads
  .filter((t) => t.k.startsWith(`${pid}:`) && t !== main && t.sum.busy > 10000)
  .sort((a, b) => b.sum.busy - a.sum.busy)) {
  console.log(`${ms(t.sum.busy)} ms  ${t.name} (${t.k})`);
  out.workers[`${t.name} ${t.k}`] = t.sum.busy / 1000;
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(out, null, 1));
