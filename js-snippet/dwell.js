/* dwell.js — help-center analytics snippet (first version).
 *   <script defer src="https://stats.example.com/dwell.js" data-site="help.example.com"></script>
 * Sends a `view` at load, `engage` deltas of engaged time with the max scroll
 * depth, and votes. No cookies, no storage writes, no dependencies. */
(function () {
  'use strict';
  const w = window, d = document, n = navigator;
  const me = d.currentScript || d.querySelector('script[data-site]');
  const cfg = (me && me.dataset) || {};
  const site = cfg.site;
  const api = cfg.api || (me && me.src ? new URL(me.src).origin + '/e' : '');
  const IDLE = 30000, BEAT = 15000;
  const queued = (w.dwell && w.dwell.q) || [];

  let off = !site || !api;
  if (cfg.respectDnt !== 'false' && (n.doNotTrack === '1' || n.globalPrivacyControl)) off = true;
  try { if (localStorage.dwell_ignore === '1') off = true; } catch (e) { /* storage blocked */ }
  if (off) { w.dwell = function () {}; return; }

  // Page-view id: 12 chars of [A-Za-z0-9_-]; 256 % 64 == 0 keeps it uniform.
  const ABC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const view = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => ABC[b & 63]).join('');

  function send(t, fields) {
    const ev = Object.assign({ s: site, t: t, v: view }, fields);
    if (n.webdriver) ev.b = 1;
    const body = JSON.stringify(ev);
    // A string body goes as text/plain: no CORS preflight.
    if (!(n.sendBeacon && n.sendBeacon(api, body))) {
      fetch(api, { method: 'POST', body: body, keepalive: true, mode: 'no-cors' }).catch(() => {});
    }
  }

  // --- scroll depth: max % of the document seen; a page that fits is 100 ---
  let sd = 0;
  function depth() {
    const h = d.documentElement.scrollHeight;
    const p = h > 0 ? Math.round((w.scrollY + w.innerHeight) / h * 100) : 100;
    sd = Math.max(sd, Math.min(100, p));
  }

  // --- engaged time -------------------------------------------------------
  // Time between two ticks counts if the page was visible and focused during
  // it (every change of those calls tick) and only up to IDLE after the
  // reader's last action. Loading the page counts as an action.
  let acc = 0;                 // engaged ms not sent yet
  let mark = performance.now(); // start of the interval being measured
  let last = mark;             // last reader action
  let on = false;              // visible and focused since mark
  let sent = false;            // an engage event has been sent
  function tick() {
    const t = performance.now();
    if (on) acc += Math.max(0, Math.min(t, last + IDLE) - mark);
    mark = t;
    on = d.visibilityState === 'visible' && d.hasFocus();
  }
  function act(e) {
    if (e && e.type === 'scroll') depth();
    tick();
    last = mark;
  }
  // Sends what has accrued. A zero delta goes only on a final trigger and only
  // if nothing was sent before. A final trigger also stops the clock until the
  // page is shown again, so hide + pagehide together send one event.
  function flush(final) {
    tick();
    if (final) on = false;
    depth();
    const e = Math.round(acc);
    if (e > 0 || (final && !sent)) {
      acc -= e;
      sent = true;
      send('engage', { e: e, sd: sd });
    }
  }

  const opt = { capture: true, passive: true };
  ['scroll', 'keydown', 'pointerdown', 'pointermove', 'touchstart', 'wheel']
    .forEach((type) => w.addEventListener(type, act, opt));
  w.addEventListener('focus', act);
  w.addEventListener('blur', () => { tick(); on = false; });
  d.addEventListener('visibilitychange', () => {
    if (d.visibilityState === 'hidden') flush(true); else act();
  });
  w.addEventListener('pagehide', () => flush(true));
  setInterval(() => flush(false), BEAT);

  // --- the view -----------------------------------------------------------
  function words() {
    let el = null;
    try { el = cfg.article && d.querySelector(cfg.article); } catch (e) { /* bad selector */ }
    el = el || d.querySelector('article') || d.querySelector('main') || d.body;
    const text = el ? (el.innerText || el.textContent || '') : '';
    return (text.match(/\S+/g) || []).length;
  }
  const meta = d.querySelector('meta[name="dwell:category"]');
  depth();
  tick();
  send('view', {
    u: location.origin + location.pathname,
    r: d.referrer,
    ti: d.title,
    w: words(),
    c: meta ? meta.content : undefined, // JSON.stringify drops undefined
    l: n.language,
    sw: screen.width,
  });

  // --- public API: dwell('vote', 'up'|'down'), and data-dwell-vote buttons --
  function dwell(cmd, arg) {
    if (cmd === 'vote' && (arg === 'up' || arg === 'down')) send('vote', { x: arg });
  }
  w.dwell = dwell;
  queued.forEach((args) => dwell.apply(null, args));
  d.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('[data-dwell-vote]');
    if (b) dwell('vote', b.getAttribute('data-dwell-vote'));
  });
})();
