/* dwell.js — help-center analytics snippet. Reference: docs/snippet.md.
 *
 *   <script>window.dwell=window.dwell||function(){(dwell.q=dwell.q||[]).push(arguments)}</script>
 *   <script defer src="https://stats.example.com/dwell.js" data-site="help.example.com"></script>
 *
 * Sends a `view` per page view (load, SPA route change, back/forward-cache
 * restore), `engage` deltas of engaged time, and what the page asks for
 * (votes, searches, custom events, link ids, identify). No cookies; storage
 * is read for `dwell_ignore` and written only with data-link="persistent".
 *
 * Written for size: it is minified by esbuild (--target=es2017) and must stay
 * under 1,536 bytes gzipped. Hence local variables over object properties
 * (the minifier renames the former, never the latter), one event-listener
 * helper, one sender, and a few terse idioms that are commented where used.
 * Wire format: DESIGN.md §2. */
((w, d, n, L) => {
  const $ = (sel) => d.querySelector(sel);
  const me = d.currentScript || $('script[data-site]');
  const cfg = me.dataset;
  const site = cfg.site;
  const api = cfg.api || new URL(me.src).origin + '/e';
  const kq = 'keepQuery' in cfg ? 1 : void 0; // data-keep-query present
  const noop = () => '';

  // (doNotTrack == 1: the string '1'.)
  let off = !site || (cfg.respectDnt != 'false' &&
                      (n.doNotTrack == 1 || n.globalPrivacyControl));
  // Reading localStorage throws where storage is blocked; then S stays unset
  // and linkId's use of it throws into its own catch.
  let S;
  try { off = off || (S = localStorage).dwell_ignore == '1'; } catch (e) { /* blocked */ }
  // Off: a do-nothing API (linkId gives ''), so pages calling it still work.
  if (off) return (w.dwell = noop).linkId = noop;

  // `addEventListener`, on window unless told; C = capture. All events used
  // here but prerenderingchange reach window (visibilitychange and click
  // bubble up from the document).
  const on = (type, fn, C, at = w) => at.addEventListener(type, fn, C);
  // 16 random chars of [0-9a-v] (a subset of the wire's [A-Za-z0-9_-]):
  // 80 bits, 5 per byte, unbiased.
  const rid = () => crypto.getRandomValues(new Uint8Array(16))
    .reduce((s, b) => s + (b & 31).toString(32), '');

  // The page URL as sent: origin + path (+ query with data-keep-query).
  const url = () => L.origin + L.pathname + (kq ? L.search : '');

  let vid;      // page-view id of the current view
  let U;        // its URL as sent (the next SPA view's referrer)
  let px = 0;   // deepest point seen, in px from the top of the document
  let acc = 0;  // engaged ms not sent yet
  let mark;     // start of the interval being measured
  let last;     // time of the reader's last action
  let live;     // visible and focused since `mark`
  let focused;  // window focus, from focus/blur events

  // Max scroll depth in %, against the document's height now (so a page
  // that grows lowers it until the reader scrolls on); a page that fits = 100.
  const depth = () => {
    px = Math.max(px, w.scrollY + w.innerHeight);
    return Math.min(100, px * 100 / d.documentElement.scrollHeight + 0.5 | 0); // rounded
  };

  // Sends event O of type T. Every event carries the max scroll depth so far
  // and, under automation, b:1. JSON.stringify drops undefined fields.
  const send = (t, o) => {
    o.s = site;
    o.t = t;
    o.v = vid;
    o.sd = depth();
    if (n.webdriver) o.b = 1;
    const body = JSON.stringify(o);
    // A string body goes as text/plain: no CORS preflight. sendBeacon returns
    // false when it cannot queue; then fetch; without fetch, views only, the
    // pixel (…/e → …/p.gif).
    (n.sendBeacon && n.sendBeacon(api, body)) ||
      (w.fetch
        ? fetch(api, { method: 'POST', body: body, keepalive: true, mode: 'no-cors' }).catch(noop)
        : o.u && (new Image().src = api.slice(0, -1) + 'p.gif?' +
            new URLSearchParams({ s: site, u: o.u, r: o.r, t: o.ti })));
  };

  // --- engaged time -------------------------------------------------------
  // Time between two ticks counts if the page was visible and focused
  // during it (every change of those calls tick) and only up to 30 s after
  // the reader's last action. tick(truthy): the reader did something (the
  // activity listeners pass their event).
  const tick = (act) => {
    const t = performance.now() | 0; // whole ms, monotonic; faked by test clocks
    if (live) acc += Math.max(0, Math.min(t, last + 3e4) - mark);
    mark = t;
    live = !d.hidden && focused;
    if (act) {
      last = t;
      depth();
    }
  };

  // Sends what has accrued (whole ms), never a zero delta. A final trigger
  // (hide, pagehide, leaving the view) also stops the clock until the next
  // tick, so hide + pagehide together send one event.
  const flush = (fin) => {
    tick();
    if (fin) live = 0;
    if (acc > 0) {
      send('engage', { e: acc });
      acc = 0;
    }
  };

  // Starts a view: closes the current one under its own id first.
  const view = (r) => {
    if (vid) flush(1);
    tick(1);          // a new view counts as an action
    vid = rid();
    px = 0; // (acc is 0: just flushed)
    send('view', {
      u: (U = url()),
      r: r,
      ti: d.title,
      // words of the article: data-article selector, else article, main, body
      w: (($(cfg.article || 'article') || $('main') || d.body)
        .innerText.match(/\S+/g) || []).length,
      c: ($('meta[name="dwell:category"]') || 0).content, // undefined: dropped
      l: n.language,
      sw: screen.width,
      kq: kq,
    });
  };

  // An SPA route change: a view when the URL as sent changed.
  const route = () => url() != U && view(U);

  // --- link ids -----------------------------------------------------------
  const linkId = () => {
    let k = rid();
    // localStorage itself throws where storage is blocked.
    if (cfg.link == 'persistent') {
      try { k = S.dwell_link || (S.dwell_link = k); } catch (e) { /* blocked */ }
    }
    send('link', { k: k });
    return k;
  };

  // --- public API ---------------------------------------------------------
  // dwell('vote', 'up'|'down'), dwell('search', query, resultCount),
  // dwell('event', name), dwell('identify', sha256hex): the first argument
  // names the event type, the second fills the field this table gives.
  // (n comes first so that the name of an 'event' overrides it.)
  const dwell = (c, a, b) => {
    const k = { vote: 'x', search: 'q', event: 'n', identify: 'h' }[c];
    k && send(c, { n: k == 'q' && b === +b ? b : void 0, [k]: a });
  };
  dwell.linkId = linkId;

  const go = () => {
    focused = d.hasFocus();
    view(d.referrer);
    // Calls queued by the page's stub, in order, after the first view.
    const q = (w.dwell || 0).q || [];
    w.dwell = dwell;
    q.map((a) => dwell(...a));

    'scroll keydown pointerdown pointermove touchstart wheel'.split(' ')
      .map((t) => on(t, tick, true));
    // Focus counts as an action; so may blur, as nothing counts until the
    // next focus, which sets `last` again.
    const fb = (e) => { focused = e.type == 'focus'; tick(1); };
    on('focus', fb);
    on('blur', fb);
    on('visibilitychange', () => (d.hidden ? flush(1) : tick(1)));
    on('pagehide', () => flush(1));
    // Back/forward cache restore: a new view.
    on('pageshow', (e) => e.persisted && view());
    setInterval(flush, 15e3); // heartbeat

    // SPA navigation. replaceState and popstate often keep the URL (state
    // updates, fragment jumps): route() ignores those.
    'pushState replaceState'.split(' ').map((k) => {
      const f = history[k];
      history[k] = (...a) => { f.apply(history, a); route(); };
    });
    on('popstate', route);

    // Declarative: data-dwell-vote="up|down" and data-dwell-contact. Capture,
    // so a page handler that stops propagation cannot hide the click.
    on('click', (e) => {
      const t = e.target, v = t.closest('[data-dwell-vote]'), c = t.closest('[data-dwell-contact]');
      if (v) dwell('vote', v.dataset.dwellVote);
      if (c) {
        dwell('event', 'contact');
        const k = linkId();
        // The nearest form, else the first form holding a dwell_link input
        // (form.dwell_link: the form's control of that name).
        const f = c.closest('form') || ($('[name=dwell_link]') || 0).form;
        if (f) {
          f.dwell_link || f.insertAdjacentHTML('beforeend', '<input type=hidden name=dwell_link>');
          f.dwell_link.value = k;
        } else if (c.href) {
          // ("?&dwell_link=…" when the link had no query: still valid.)
          c.search += '&dwell_link=' + k;
        }
      }
    }, true);
  };

  // A prerendered page sends nothing until the reader actually opens it.
  d.prerendering ? on('prerenderingchange', go, 0, d) : go();
})(window, document, navigator, location);
