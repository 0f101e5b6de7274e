#!/usr/bin/env node
// run.mjs — the browser scenarios of dwell.
//
//   node tests/browser/run.mjs BIN [NAME...]
//
// BIN is the dwell binary (e.g. build/std/dwell). Every scenario is one file
// scenarios/NAME.mjs exporting `default async function (t)` (t: the class
// Scenario below); without NAMEs all of them run, in name order. Each one
// gets its own data directory, its own `dwell serve` (site t.test, the pages
// of pages/ at /demo/) and its own Chromium (Debian's /usr/bin/chromium,
// never a downloaded browser), started here as a child process with a fresh
// profile and attached to with playwright-core's connectOverCDP, so tabs,
// visibility, focus and closing are the browser's own (see launchChromium);
// it asserts on what the server STORED, read back with `dwell events`.
//
// Prints `ok   NAME` or `FAIL NAME: reason` per scenario and ends with
// `N passed, N failed`; exits 1 when anything failed. On a failure the error
// with its stack, the server log, the stored events and a screenshot of every
// open page go to tests/out/browser/.
//
// A scenario may also export `async function setup(s)`: it runs once, after
// the site is added and before `dwell serve` starts, with s.cli(...ARGS)
// running `dwell ARGS --data DIR` (its stdout, trimmed) and s.site; what it
// returns is the scenario's t.fixture (e.g. tokens it created).
//
// DWELL_SNIPPET=FILE serves FILE to the pages in place of the binary's
// /dwell.js (e.g. js-snippet/dwell.js while working on it, without a
// rebuild); the size budget scenario still measures the binary's.
// DWELL_BROWSER_TIMES=1 prints how long each scenario took.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PAGES = path.join(HERE, 'pages');
const SCENARIOS = path.join(HERE, 'scenarios');
const OUT = path.resolve(HERE, '..', 'out', 'browser');
const SITE = 't.test';
const SCENARIO_TIMEOUT_MS = 60_000;
const SUITE_BUDGET_MS = 170_000; // the whole suite stays under ~3 min
const STORE_WAIT_MS = 3_000;     // beacons are async: how long to poll the store
let chromium; // playwright-core's, imported in main() so a missing install is reported
const SNIPPET = process.env.DWELL_SNIPPET ? path.resolve(process.env.DWELL_SNIPPET) : null;

// DESIGN.md §8. Chromium is started by launchChromium with these flags and
// nothing of playwright-core's launch() defaults: those keep every page
// visible and focused (--disable-renderer-backgrounding,
// --disable-backgrounding-occluded-windows, focus emulation) and turn the
// back/forward cache off. The window is 1280 × 863 so that the page's
// viewport is 1280 × 720 (headless keeps 143 px for the window's frame).
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--window-size=1280,863'];
const CHROMIUM_START_MS = 15_000;

// ---------------------------------------------------------------- helpers --

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/* Rejects after MS with MESSAGE unless PROMISE settles first. */
function within(promise, ms, message) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

function runBin(bin, args) {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: 15_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`dwell ${args.join(' ')}: ${(stderr || err.message).trim()}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/* GET URL without any decoding: { status, headers, body (Buffer) }. */
function httpGet(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, timeout: 5_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

/* One line per stored event, short enough for a failure message. */
function summarize(events) {
  if (events.length === 0) return 'nothing stored';
  return events.map((e) => {
    let s = `${e.type} ${e.view} ${e.path}`;
    if (e.type === 'engage') s += ` e=${e.engaged_ms} sd=${e.scroll}`;
    for (const k of ['vote', 'query', 'results', 'link', 'name', 'identity']) {
      if (e[k] !== undefined) s += ` ${k}=${JSON.stringify(e[k])}`;
    }
    return s;
  }).join('; ');
}

/* With DWELL_SNIPPET, CONTEXT's pages get that file as /dwell.js. */
async function useSnippet(context) {
  if (!SNIPPET) return;
  await context.route((u) => u.pathname === '/dwell.js', (route) =>
    route.fulfill({ path: SNIPPET, contentType: 'application/javascript; charset=utf-8' }));
}

// ----------------------------------------------------------- the server --

/* `dwell ARGS --data DATA` in BIN: its stdout, trimmed. */
function cli(bin, data, args) {
  return runBin(bin, [...args, '--data', data]).then((out) => out.trim());
}

/* Starts `dwell serve` on a free port with site SITE. SETUP (a scenario's
   setup export), when given, runs once before the server starts; what it
   returns is the server's `fixture`. */
async function startServer(bin, dir, setup) {
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  let fixture;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    await runBin(bin, ['site', 'add', SITE, '--origin', origin, '--data', data]);
    if (setup && attempt === 1) {
      fixture = await setup({ site: SITE, cli: (...args) => cli(bin, data, args) });
    }
    const fd = fs.openSync(log, 'a');
    // the pages read on Playwright's fake clock, far faster than the server's
    // wall clock: a day of engage allowance keeps their reading uncapped
    const proc = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data', data, '--demo', PAGES,
      '--engage-allowance', '86400'],
      { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    let exited = false;
    proc.on('exit', () => { exited = true; });
    const deadline = Date.now() + 5_000;
    while (!exited && Date.now() < deadline) {
      try {
        if ((await httpGet(`${origin}/healthz`)).status === 200) return { proc, port, origin, data, log, fixture };
      } catch { /* not listening yet */ }
      await sleep(50);
    }
    await stopServer(proc);
    if (attempt === 2 || !exited) throw new Error(`dwell serve did not become ready on ${origin}; see ${log}`);
    // exited early: most likely the port was taken meanwhile; try another one
  }
}

async function stopServer(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  if (await Promise.race([gone.then(() => true), sleep(5_000).then(() => false)])) return;
  proc.kill('SIGKILL');
  await Promise.race([gone, sleep(2_000)]);
}

// ------------------------------------------------------------ the browser --

/* Starts /usr/bin/chromium as a child process in its own process group, with
   a fresh profile under DIR (whose Default/Preferences is PREFS when given),
   reads its DevTools port from the profile's DevToolsActivePort file, and
   attaches with connectOverCDP(…, { noDefaults: true }). Returns
   { browser, context, process, close }: context is the browser's default
   context, the one where Playwright applies none of its emulation, so
   visibility and focus are real there: a tab brought to front hides the
   others of its window and takes the focus. close() ends the browser
   (Browser.close, then SIGKILL of its process group) and waits for it. */
async function launchChromium(dir, prefs = null) {
  const profile = fs.mkdtempSync(path.join(dir, 'profile-'));
  if (prefs) {
    fs.mkdirSync(path.join(profile, 'Default'));
    fs.writeFileSync(path.join(profile, 'Default', 'Preferences'), JSON.stringify(prefs));
  }
  const log = path.join(profile, 'chromium.log');
  const fd = fs.openSync(log, 'a');
  const proc = spawn(CHROMIUM, [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0',
    'about:blank'], { stdio: ['ignore', fd, fd], detached: true });
  fs.closeSync(fd);
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const kill = () => {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch { /* already gone */ }
  };
  let browser = null;
  try {
    const endpoint = await devToolsEndpoint(proc, path.join(profile, 'DevToolsActivePort'), log);
    browser = await chromium.connectOverCDP(endpoint, { noDefaults: true, timeout: CHROMIUM_START_MS });
  } catch (e) {
    kill();
    await Promise.race([exited, sleep(2_000)]);
    throw e;
  }
  const context = browser.contexts()[0];
  const close = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      try {
        const cdp = await within(browser.newBrowserCDPSession(), 2_000, 'cdp');
        await within(cdp.send('Browser.close'), 2_000, 'Browser.close');
      } catch { /* killed below */ }
      await Promise.race([exited, sleep(3_000)]);
    }
    kill(); // the renderers, whatever the browser left behind
    await Promise.race([exited, sleep(2_000)]);
  };
  return { browser, context, process: proc, close };
}

/* The DevTools websocket URL of the Chromium PROC: the port and path it writes
   to PORTFILE once listening. Throws, with the end of LOG, if it exits or
   takes longer than CHROMIUM_START_MS. */
async function devToolsEndpoint(proc, portFile, log) {
  const deadline = Date.now() + CHROMIUM_START_MS;
  for (;;) {
    try {
      const [port, wsPath] = fs.readFileSync(portFile, 'utf8').split('\n');
      if (port && wsPath) return `ws://127.0.0.1:${port.trim()}${wsPath.trim()}`;
    } catch { /* not written yet */ }
    if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > deadline) {
      let tail = '';
      try {
        tail = fs.readFileSync(log, 'utf8').trim().split('\n').slice(-5).join(' | ');
      } catch { /* no log */ }
      throw new Error(`chromium did not start (${proc.exitCode ?? proc.signalCode ?? 'no DevToolsActivePort'}): ${tail}`);
    }
    await sleep(25);
  }
}

// ------------------------------------------------- what a scenario gets --

class Scenario {
  constructor(name, bin, dir, server) {
    this.name = name;
    this.bin = bin;
    this.dir = dir;
    this.server = server;
    this.origin = server.origin;
    this.site = SITE;
    this.fixture = server.fixture; // what the scenario's setup returned
    this.chromes = [];    // browsers started for this scenario (launchChromium)
    this.made = [];       // contexts made with Playwright's emulation (newContext(options))
    this.covers = new Map(); // page -> the tab hide() brings in front of it
    this.notes = [];
    this.poked = 0;
  }

  /* The scenario's own browser, its default (real) context and its first
     tab: t.browser, t.context, t.page. */
  async init() {
    const chrome = await this.launch();
    this.browser = chrome.browser;
    this.context = chrome.context;
    this.page = this.context.pages()[0] || await this.context.newPage();
  }

  /* A new browser (see launchChromium) with its default context set up for
     the scenario: default timeouts and DWELL_SNIPPET. */
  async launch(prefs = null) {
    const chrome = await launchChromium(this.dir, prefs);
    this.chromes.push(chrome);
    if (this.closed) { // the scenario timed out meanwhile
      await chrome.close();
      throw new Error('the scenario is over');
    }
    chrome.context.setDefaultTimeout(10_000);
    await useSnippet(chrome.context);
    return chrome;
  }

  /* A browser of its own whose process the scenario may kill:
     { browser, context, process }. */
  async launchKillable() {
    const { browser, context, process } = await this.launch();
    return { browser, context, process };
  }

  /* Without OPTIONS: a context of a new reader, i.e. the default context of
     a browser of its own (its own profile, real visibility and focus).
     With OPTIONS (viewport, isMobile, hasTouch, …): a Playwright context in
     the scenario's browser with that emulation; Playwright keeps its pages
     visible and focused whatever happens, so hide/show/focus do not apply
     to them. */
  async newContext(options = {}) {
    if (Object.keys(options).length === 0) return (await this.launch()).context;
    const context = await this.browser.newContext({ viewport: { width: 1280, height: 720 }, ...options });
    context.setDefaultTimeout(10_000);
    this.made.push(context);
    await useSnippet(context);
    return context;
  }

  /* A context in its own browser whose profile starts with PREFS (Chromium's
     Preferences file), e.g. { enable_do_not_track: true }. */
  async persistentContext(prefs) {
    return (await this.launch(prefs)).context;
  }

  url(name) {
    return `${this.origin}/demo/${name}`;
  }

  /* NAME under /demo/, or NAME itself when it is a URL. */
  href(name) {
    return /^[a-z]+:/.test(name) ? name : this.url(name);
  }

  /* Loads page NAME in PAGE with Playwright's fake clock installed and
     paused first, so the scenario scripts every millisecond the page sees
     (performance.now, Date, timers) with runFor/read/idle. PAGE is brought
     to front first, like the tab a reader loads a page in: visible and
     focused (a real context's tabs are neither until then). */
  async open(page, name, { clock = true } = {}) {
    if (clock) await this.pauseClock(page.context());
    if (!this.made.includes(page.context())) await page.bringToFront();
    await page.goto(this.href(name));
    return page;
  }

  /* A tab opened in the background (CDP Target.createTarget with
     background: true, as a middle click or "open in new tab" does), loading
     NAME (a page of /demo/ or a URL) with the fake clock paused (unless
     { clock: false }); returns its Page once loaded. It stays hidden until
     brought to front (t.show). CONTEXT must be a real one (t.context or
     t.newContext()). The tab is created blank and then navigated: a URL
     given to createTarget starts loading before Playwright has attached, so
     the page would miss the clock and the DWELL_SNIPPET route. */
  async backgroundTab(name, { clock = true, context = this.context } = {}) {
    this.mustBeReal(context, 'backgroundTab');
    if (clock) await this.pauseClock(context);
    const cdp = await context.browser().newBrowserCDPSession();
    const opened = context.waitForEvent('page');
    await cdp.send('Target.createTarget', { url: 'about:blank', background: true });
    const page = await opened;
    await cdp.detach().catch(() => {});
    await page.goto(this.href(name));
    return page;
  }

  async pauseClock(context) {
    if (context._dwellPaused) return;
    await context.clock.install({ time: Date.now() });
    // The installed clock runs in real time until paused; pausing at a time
    // it has not reached yet (however slow the machine) needs some slack.
    // Pages already open (blank ones) just see it jump ahead.
    await context.clock.pauseAt(Date.now() + 2_000);
    context._dwellPaused = true;
  }

  /* Reader activity: a real pointer move (pointermove) over the page. */
  async poke(page) {
    this.poked++;
    await page.mouse.move(300 + (this.poked % 2) * 40, 300 + (this.poked % 3) * 10);
  }

  /* Active reading for MS of page time: activity, then the clock advanced by
     at most EVERY ms (timers fire on the way), again until MS has passed. */
  async read(page, ms, every = 5_000) {
    for (let done = 0; done < ms;) {
      await this.poke(page);
      const step = Math.min(every, ms - done);
      await page.clock.runFor(step);
      done += step;
    }
  }

  /* MS of page time without any reader activity. */
  async idle(page, ms) {
    await page.clock.runFor(ms);
  }

  // Visibility and focus are the browser's own: hide() brings another tab of
  // PAGE's window to front (a blank tab opened for that, kept behind it
  // afterwards), which hides PAGE and takes its focus, as a reader switching
  // tabs does; show() brings PAGE back to front (visible and focused). Both
  // wait until the page sees the change and throw if it does not.
  // Real unloads (page.close, navigation) fire pagehide and
  // visibilitychange themselves.
  async hide(page) {
    this.mustBeReal(page.context(), 'hide');
    let cover = this.covers.get(page);
    if (!cover || cover.isClosed()) {
      cover = await page.context().newPage(); // opens in front
      this.covers.set(page, cover);
    }
    await cover.bringToFront();
    await this.until(page, () => document.visibilityState === 'hidden', 'the page is hidden once another tab is in front');
  }

  async show(page) {
    await this.focus(page);
  }

  /* Brings PAGE to front, and waits until it is visible and has the focus. */
  async focus(page) {
    this.mustBeReal(page.context(), 'show/focus');
    await page.bringToFront();
    await this.until(page, () => document.visibilityState === 'visible' && document.hasFocus(),
      'the page is visible and focused once brought to front');
  }

  /* Polls FN in PAGE (up to 2 s) until it returns true; throws
     "precondition: WHAT" otherwise. */
  async until(page, fn, what) {
    for (let i = 0; i < 40; i++) {
      if (await page.evaluate(fn)) return;
      await sleep(50);
    }
    throw new Error(`precondition: ${what}`);
  }

  /* Focus is real in every context but those of newContext(options), where
     Playwright emulates it; this checks PAGES are not in one of those. */
  async realFocus(...pages) {
    for (const page of pages) this.mustBeReal(page.context(), 'realFocus');
  }

  mustBeReal(context, what) {
    if (this.made.includes(context)) {
      throw new Error(`${what}: a context of newContext(options) is always visible and focused; use t.context or t.newContext()`);
    }
  }

  // ---- the store ----

  /* Every stored event of the site, oldest first (dwell events, NDJSON). */
  async events() {
    const out = await runBin(this.bin, ['events', SITE, '--data', this.server.data, '--since', 'all', '--limit', '0']);
    return out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
  }

  /* Polls the store (up to ~3 s) until PRED(events) is true, then until
     nothing new has arrived for QUIET ms (so an upper bound is not checked
     while a beacon is still on its way); returns the events. Throws WHAT,
     with what was stored, when PRED never becomes true. */
  async waitFor(pred, what, ms = STORE_WAIT_MS, quiet = 500) {
    const deadline = Date.now() + ms;
    let events;
    for (;;) {
      events = await this.events();
      if (pred(events)) break;
      if (Date.now() >= deadline) throw new Error(`${what} (stored: ${summarize(events)})`);
      await sleep(100);
    }
    const cap = Date.now() + 3_000;
    for (let since = Date.now(); Date.now() - since < quiet && Date.now() < cap;) {
      await sleep(100);
      const again = await this.events();
      if (again.length !== events.length) {
        events = again;
        since = Date.now();
      }
    }
    if (!pred(events)) throw new Error(`${what} (no longer true once settled; stored: ${summarize(events)})`);
    return events;
  }

  /* view id -> its engaged ms: the largest cumulative engaged_ms of its
     wire 2 engage events (`wire` >= 2) plus the sum of its wire 1 ones
     (deltas). */
  engagedByView(events) {
    const max = {};
    const sum = {};
    for (const e of events) {
      if (e.type !== 'engage') continue;
      if ((e.wire || 1) >= 2) {
        max[e.view] = Math.max(max[e.view] || 0, e.engaged_ms);
      } else {
        sum[e.view] = (sum[e.view] || 0) + e.engaged_ms;
      }
    }
    const total = {};
    for (const v of new Set([...Object.keys(max), ...Object.keys(sum)])) total[v] = (max[v] || 0) + (sum[v] || 0);
    return total;
  }

  /* The view events whose path is PATH, in order. */
  viewsOf(events, pathname) {
    return events.filter((e) => e.type === 'view' && e.path === pathname);
  }

  /* Max scroll stored for VIEW, or null. */
  scrollOf(events, view) {
    let max = null;
    for (const e of events) {
      if (e.view === view && typeof e.scroll === 'number') max = Math.max(max ?? 0, e.scroll);
    }
    return max;
  }

  summarize(events) {
    return summarize(events);
  }

  async get(pathname, headers) {
    return httpGet(this.origin + pathname, headers);
  }

  /* `dwell ARGS --data DIR` on the scenario's data (the server may be
     running): its stdout, trimmed. */
  async cli(...args) {
    return cli(this.bin, this.server.data, args);
  }

  /* GET /api/v1/sites/SITE/REPORT?PARAMS with TOKEN as a Bearer header (none
     when null): { status, json } (json null when the body is not JSON). */
  async apiGet(report, params = {}, token = null, site = SITE) {
    const qs = new URLSearchParams(params).toString();
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await httpGet(`${this.origin}/api/v1/sites/${encodeURIComponent(site)}/${report}${qs ? `?${qs}` : ''}`, headers);
    let json = null;
    try {
      json = JSON.parse(res.body.toString('utf8'));
    } catch { /* not JSON */ }
    return { status: res.status, json };
  }

  /* The JSON of a report the API answers with 200; throws otherwise. */
  async api(report, params = {}, token = null, site = SITE) {
    const { status, json } = await this.apiGet(report, params, token, site);
    if (status !== 200 || !json) {
      throw new Error(`GET ${report}?${new URLSearchParams(params)}: ${status} ${json ? json.error : '(not JSON)'}`);
    }
    return json;
  }

  /* tests/out/browser/NAME (the directory made): for files a scenario keeps
     whether or not it fails, e.g. screenshots. */
  outFile(name) {
    fs.mkdirSync(OUT, { recursive: true });
    return path.join(OUT, name);
  }

  // ---- assertions ----

  assert(cond, message) {
    if (!cond) throw new Error(message);
  }

  near(actual, expected, tolerance, what) {
    if (typeof actual !== 'number' || Math.abs(actual - expected) > tolerance) {
      throw new Error(`${what}: ${actual} is not ${expected} ± ${tolerance}`);
    }
    this.note(`${what}: ${actual} (expected ${expected} ± ${tolerance}, error ${actual - expected})`);
  }

  note(message) {
    this.notes.push(message);
  }

  // ---- after the scenario ----

  openPages() {
    const pages = [];
    for (const c of [...this.chromes.map((x) => x.context), ...this.made]) {
      if (c.browser() === null || c.browser().isConnected()) pages.push(...c.pages());
    }
    return pages;
  }

  async saveFailure() {
    fs.mkdirSync(OUT, { recursive: true });
    let i = 0;
    for (const page of this.openPages()) {
      const file = path.join(OUT, `${this.name}-${++i}.png`);
      await within(page.screenshot({ path: file, timeout: 5_000 }), 6_000, 'screenshot').catch(() => {});
    }
    try {
      fs.copyFileSync(this.server.log, path.join(OUT, `${this.name}.server.log`));
    } catch { /* no log */ }
    try {
      const lines = (await this.events()).map((e) => JSON.stringify(e)).join('\n');
      fs.writeFileSync(path.join(OUT, `${this.name}.events.ndjson`), lines + '\n');
    } catch (e) {
      fs.writeFileSync(path.join(OUT, `${this.name}.events.ndjson`), `# ${e.message}\n`);
    }
  }

  /* Ends every browser the scenario started (and so its contexts). */
  async close() {
    this.closed = true;
    for (const context of this.made) await within(context.close(), 5_000, 'close').catch(() => {});
    for (const chrome of this.chromes) await within(chrome.close(), 10_000, 'close').catch(() => {});
  }
}

// ------------------------------------------------------------ the runner --

async function main() {
  const [binArg, ...names] = process.argv.slice(2);
  if (!binArg) {
    console.error('usage: node tests/browser/run.mjs BIN [NAME...]');
    process.exit(2);
  }
  if (!fs.existsSync(binArg)) {
    console.error(`run.mjs: no such binary: ${binArg}`);
    process.exit(2);
  }
  const all = fs.readdirSync(SCENARIOS).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4)).sort();
  const wanted = names.map((n) => n.replace(/\.mjs$/, ''));
  const unknown = wanted.filter((n) => !all.includes(n));
  if (unknown.length) {
    console.error(`run.mjs: no such scenario: ${unknown.join(', ')}`);
    process.exit(2);
  }
  const todo = wanted.length ? wanted : all;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    console.log('FAIL setup: playwright-core is not installed (cd tests/browser && npm ci)');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`FAIL setup: no ${CHROMIUM} (Debian's chromium package)`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  if (SNIPPET && !fs.existsSync(SNIPPET)) {
    console.error(`run.mjs: DWELL_SNIPPET: no such file: ${SNIPPET}`);
    process.exit(2);
  }
  if (SNIPPET) console.log(`# pages get ${SNIPPET} as /dwell.js (DWELL_SNIPPET)`);

  fs.rmSync(OUT, { recursive: true, force: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dwell-browser-'));
  // A private copy: a rebuild during the run cannot mix two versions.
  const bin = path.join(root, 'dwell');
  fs.copyFileSync(binArg, bin);
  fs.chmodSync(bin, 0o755);

  let current = null;
  const stop = async (signal) => {
    if (current) {
      await current.close().catch(() => {});
      await stopServer(current.server.proc);
    }
    fs.rmSync(root, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const started = Date.now();
  let passed = 0;
  let failed = 0;
  for (const name of todo) {
    const left = SUITE_BUDGET_MS - (Date.now() - started);
    if (left < 5_000) {
      console.log(`FAIL ${name}: not run, the suite's ${SUITE_BUDGET_MS / 1000} s budget is used up`);
      failed++;
      continue;
    }
    const began = Date.now();
    const dir = fs.mkdtempSync(path.join(root, `${name}-`));
    let t = null;
    let error = null;
    let server = null;
    try {
      const mod = await import(pathToFileURL(path.join(SCENARIOS, `${name}.mjs`)).href);
      server = await startServer(bin, dir, mod.setup);
      t = current = new Scenario(name, bin, dir, server);
      const body = (async () => {
        await t.init();
        await mod.default(t);
      })();
      body.catch(() => {}); // settles late after a timeout; reported below
      await within(body, Math.min(SCENARIO_TIMEOUT_MS, left), `timed out after ${Math.round(Math.min(SCENARIO_TIMEOUT_MS, left) / 1000)} s`);
    } catch (e) {
      error = e;
    }
    if (error) {
      failed++;
      const reason = String(error && error.message || error).split('\n')[0];
      console.log(`FAIL ${name}: ${reason}`);
      fs.mkdirSync(OUT, { recursive: true });
      fs.writeFileSync(path.join(OUT, `${name}.error.txt`), `${error && error.stack || error}\n`);
      if (t) {
        await t.saveFailure().catch(() => {});
      } else if (fs.existsSync(path.join(dir, 'server.log'))) {
        fs.copyFileSync(path.join(dir, 'server.log'), path.join(OUT, `${name}.server.log`));
      }
    } else {
      passed++;
      console.log(`ok   ${name}`);
    }
    if (process.env.DWELL_BROWSER_TIMES) t?.note(`took ${((Date.now() - began) / 1000).toFixed(1)} s`);
    for (const n of t ? t.notes : []) console.log(`     note: ${n}`);
    if (t) await t.close();
    if (server) await stopServer(server.proc);
    current = null;
  }
  fs.rmSync(root, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
