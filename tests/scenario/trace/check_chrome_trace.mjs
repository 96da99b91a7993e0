// Loads a Chrome trace (quiesce run --trace t.json) with two of its real consumers and prints,
// as one JSON object, what each of them made of every thread (track):
//   node check_chrome_trace.mjs NODE_MODULES_DIR TRACE.json
// - speedscope (npm "speedscope"): its importer, importProfileGroupFromText, lives inside the
//   browser bundle dist/release/speedscope-*.js. The bundle is run in a VM context with stand-in
//   browser globals, with one line added after the statement that starts the importer module's
//   lazy load, so the module's exports reach this script; the app itself never renders.
// - Chrome DevTools' trace engine (npm "@paulirish/trace_engine"):
//   TraceModel.Model.createWithAllHandlers(), parse(), and the Renderer handler's per-thread trees.
// Per thread: the slices each consumer built, their deepest nesting, and for every complete ("X")
// event in the file whether the consumer kept it at its own start and end ("wanted": those it
// should show; see asSpeedscopeShows). Warnings and errors
// the consumers print are collected; a consumer that throws is reported, not fatal.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import {pathToFileURL} from 'node:url';

const [modulesDir, tracePath] = process.argv.slice(2);
if (!modulesDir || !tracePath) {
  console.error('usage: node check_chrome_trace.mjs NODE_MODULES_DIR TRACE.json');
  process.exit(2);
}
const text = fs.readFileSync(tracePath, 'utf8');
const file = JSON.parse(text);
const events = file.traceEvents;

// What the file says: per tid, its X events and its name.
const threadNames = new Map();
const expected = new Map();  // tid -> [{name, ts, end}]
for (const e of events) {
  if (e.ph === 'M' && e.name === 'thread_name') threadNames.set(e.tid, e.args.name);
  if (e.ph === 'X') {
    if (!expected.has(e.tid)) expected.set(e.tid, []);
    expected.get(e.tid).push({name: e.name, ts: e.ts, end: e.ts + e.dur});
  }
}
const key = (name, ts, end) => `${name}@${ts.toFixed(6)}+${(end - ts).toFixed(6)}`;

function collectConsole(target) {
  const messages = [];
  const record = (level) => (...args) => messages.push(`${level}: ${args.map(String).join(' ')}`);
  target.warn = record('warn');
  target.error = record('error');
  target.log = () => {};
  target.info = () => {};
  target.debug = () => {};
  return messages;
}

// A stand-in for any browser object: every property is another stand-in, callable and constructible.
function standIn() {
  const f = function () {};
  return new Proxy(f, {
    get(target, prop) {
      if (prop === Symbol.toPrimitive) return () => '';
      if (prop === 'then') return undefined;  // not a promise
      if (prop === 'length') return 0;
      return standIn();
    },
    apply() { return standIn(); },
    construct() { return standIn(); },
    set() { return true; },
    has() { return true; },
  });
}

async function speedscope() {
  const dir = path.join(modulesDir, 'speedscope', 'dist', 'release');
  const bundleName = fs.readdirSync(dir).find((f) => /^speedscope-.*\.js$/.test(f));
  if (!bundleName) throw new Error(`no speedscope bundle in ${dir}`);
  let bundle = fs.readFileSync(path.join(dir, bundleName), 'utf8');
  // The promise of the importer module: `var X=Promise.resolve().then(()=>(init(),exports))`,
  // the one whose awaited value is asked for importProfileGroupFromText.
  const use = /\(await (\w+)\)\.importProfileGroupFromText\(/.exec(bundle);
  if (!use) throw new Error('speedscope bundle: importProfileGroupFromText not found');
  const decl = new RegExp(`var ${use[1]}=Promise\\.resolve\\(\\)\\.then\\(\\(\\)=>\\(\\w+\\(\\),\\w+\\)\\);`).exec(bundle);
  if (!decl) throw new Error('speedscope bundle: the importer module promise not found');
  const at = decl.index + decl[0].length;
  bundle = bundle.slice(0, at) + `globalThis.__speedscopeImporter=${use[1]};throw "stop";` + bundle.slice(at);
  const sandboxConsole = {};
  const seen = collectConsole(sandboxConsole);
  const sandbox = {
    console: sandboxConsole, TextDecoder, TextEncoder, URL, URLSearchParams, atob, btoa, setTimeout, clearTimeout,
    queueMicrotask, performance, window: standIn(), document: standIn(), navigator: standIn(), location: standIn(),
    localStorage: standIn(), requestAnimationFrame: standIn(), matchMedia: standIn(), addEventListener: standIn(),
  };
  sandbox.self = sandbox;
  vm.createContext(sandbox);
  try {
    vm.runInContext(bundle, sandbox, {filename: bundleName});
  } catch (e) {
    if (e !== 'stop') throw e;
  }
  const importer = await sandbox.__speedscopeImporter;
  const group = await importer.importProfileGroupFromText(path.basename(tracePath), text);
  if (!group) throw new Error('speedscope did not recognise the file');
  const threads = {};
  for (const profile of group.profiles) {
    const name = profile.getName();
    let depth = 0, maxDepth = 0, slices = 0;
    const open = [];
    const got = new Set();
    profile.forEachCall((node, value) => {
      ++depth;
      ++slices;
      maxDepth = Math.max(maxDepth, depth);
      open.push([node.frame.name, value]);
    }, (node, value) => {
      --depth;
      const [frame, start] = open.pop();
      // speedscope names a frame by the event's name and, when it has them, its args.
      got.add(key(frame.replace(/ \{.*\}$/, ''), start, value));
    });
    threads[name] = {slices, maxDepth, got};
  }
  return {threads, messages: seen};
}

async function devtools() {
  const engineDir = path.join(modulesDir, '@paulirish', 'trace_engine');
  const Trace = await import(pathToFileURL(path.join(engineDir, 'models', 'trace', 'trace.js')).href);
  const saved = {warn: console.warn, error: console.error, log: console.log};
  const messages = collectConsole(console);
  try {
    const model = Trace.TraceModel.Model.createWithAllHandlers();
    await model.parse(events);
    const parsed = model.parsedTrace().data;
    const threads = {};
    for (const [, proc] of parsed.Renderer.processes) {
      for (const [tid, thread] of proc.threads) {
        const got = new Set();
        let slices = 0;
        for (const entry of thread.entries) {
          if (entry.ph !== 'X' || !parsed.Renderer.entryToNode.has(entry)) continue;
          ++slices;
          got.add(key(entry.name, entry.ts, entry.ts + entry.dur));
        }
        threads[tid] = {name: thread.name, slices, maxDepth: thread.tree ? thread.tree.maxDepth : 0, got};
      }
    }
    return {threads, messages};
  } finally {
    Object.assign(console, saved);
  }
}

// The trace engine keeps timestamps in microseconds as the file has them; speedscope's values
// are relative to the profile's first event. Compare durations by name, and starts relative to
// the earliest X of the thread.
// speedscope draws no zero-length frame, and where a slice begins as one of the same name ends
// it opens the new one first (its rule for ties), so the two read as one; with `relative`
// (speedscope) those are asked for as it shows them.
function asSpeedscopeShows(want) {
  const sorted = [...want].sort((a, b) => a.ts - b.ts || b.end - a.end);
  const shown = [];
  const byEnd = new Map();  // `${name}@${end}` -> the shown slice ending there
  for (const w of sorted) {
    const prev = byEnd.get(`${w.name}@${w.ts}`);
    if (prev) {
      byEnd.delete(`${w.name}@${prev.end}`);
      prev.end = w.end;
      byEnd.set(`${w.name}@${prev.end}`, prev);
      continue;
    }
    const copy = {...w};
    shown.push(copy);
    byEnd.set(`${w.name}@${w.end}`, copy);
  }
  return shown.filter((w) => w.end > w.ts);
}

function compare(tid, got, relative) {
  const all = expected.get(tid) ?? [];
  const want = relative ? asSpeedscopeShows(all) : all;
  const base = relative ? Math.min(...want.map((w) => w.ts)) : 0;
  let missing = 0;
  const examples = [];
  for (const w of want) {
    const k = key(w.name, w.ts - base, w.end - base);
    if (!got.has(k)) {
      ++missing;
      if (examples.length < 3) examples.push(k);
    }
  }
  return {missing, examples, wanted: want.length};
}

const report = {file: tracePath, threads: {}, speedscope: {}, devtools: {}};
for (const [tid, name] of threadNames) report.threads[name] = {tid, x_events: (expected.get(tid) ?? []).length};

try {
  const s = await speedscope();
  report.speedscope.messages = s.messages;
  report.speedscope.threads = {};
  for (const [profile, t] of Object.entries(s.threads)) {
    // speedscope names a profile "PROCESS (pid P), THREAD (tid T)".
    const m = /\(tid (\d+)\)$/.exec(profile);
    const tid = m ? Number(m[1]) : undefined;
    const c = tid === undefined ? {missing: -1, examples: []} : compare(tid, t.got, true);
    report.speedscope.threads[threadNames.get(tid) ?? profile] =
        {slices: t.slices, wanted: c.wanted, maxDepth: t.maxDepth, missing: c.missing, examples: c.examples};
  }
} catch (e) {
  report.speedscope.error = String(e && e.stack ? e.stack : e);
}

try {
  const d = await devtools();
  report.devtools.messages = d.messages;
  report.devtools.threads = {};
  for (const [tid, t] of Object.entries(d.threads)) {
    const c = compare(Number(tid), t.got, false);
    report.devtools.threads[threadNames.get(Number(tid)) ?? tid] =
        {slices: t.slices, wanted: c.wanted, maxDepth: t.maxDepth, missing: c.missing, examples: c.examples};
  }
} catch (e) {
  report.devtools.error = String(e && e.stack ? e.stack : e);
}

process.stdout.write(JSON.stringify(report, null, 1) + '\n');
