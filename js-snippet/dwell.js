/* dwell.js — help-center analytics snippet. Reference: docs/snippet.md.
 *
 *   <script>window.dwell=window.dwell||function(){(dwell.q=dwell.q||[]).push(arguments)}</script>
 *   <script defer src="https://stats.example.com/dwell.js" data-site="help.example.com"></script>
 *
 * Sends a `view` per page view (first shown, SPA route change once the new
 * page has rendered, back/forward-cache restore), the view's cumulative
 * engaged time in `engage` events, and what the page asks for (votes,
 * searches, custom events, link ids, identify). Wire version 2: every event
 * carries "wv":2. No cookies; storage is read for `dwell_ignore` and written
 * only with data-link="persistent".
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
  const kq = 'keepQuery' in cfg; // data-keep-query: u keeps the query
  const sp = cfg.searchParam || 'q'; // the search page's query parameter
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

  // `addEventListener` in the capture phase, on window unless told. All
  // events used here but prerenderingchange reach window (visibilitychange
  // and click from the document; focus of elements and iframes too, which
  // only count as activity).
  const on = (type, fn, at = w) => at.addEventListener(type, fn, true);
  // 16 random chars of [0-9a-v] (a subset of the wire's [A-Za-z0-9_-]):
  // 80 bits, 5 per byte, unbiased.
  const rid = () => crypto.getRandomValues(new Uint8Array(16))
    .reduce((s, b) => s + (b & 31).toString(32), '');

  // The page URL as sent: origin + path (+ query with data-keep-query).
  const url = () => L.origin + L.pathname + (kq ? L.search : '');

  let vid;      // page-view id of the current view
  let U;        // its URL as sent (the next SPA view's referrer)
  let px = 0;   // deepest point seen, in px from the top of the document
  let acc;      // the view's engaged ms so far
  let sent;     // the engaged ms last sent
  let seq;      // searches and custom events of the view so far
  let mark;     // start of the interval being measured
  let last;     // time of the reader's last action
  let live;     // since `mark`: hidden or unfocused (falsy), focused (1),
                // or focus inside an iframe (6)
  let pend;     // an SPA view waiting for its page: sends it now

  // Max scroll depth in %, against the document's height now (so a page
  // that grows lowers it until the reader scrolls on); a page that fits = 100.
  const depth = () => {
    px = Math.max(px, w.scrollY + w.innerHeight);
    return Math.min(100, px * 100 / d.documentElement.scrollHeight + 0.5 | 0); // rounded
  };

  // Sends event O of type T. Every event carries the max scroll depth so far, the wire version and,
  // under automation, b:true. JSON.stringify drops undefined fields. A
  // string body goes as text/plain: no CORS preflight. (sendBeacon refuses
  // only beyond 64 KB in flight; what such a refusal loses of engaged time,
  // the view's next engage carries again.)
  const send = (t, o) => {
    o.s = site;
    o.t = t;
    o.v = vid;
    o.sd = depth();
    o.wv = 2;
    o.b = n.webdriver || void 0;
    n.sendBeacon(api, JSON.stringify(o));
  };

  // --- engaged time -------------------------------------------------------
  // Time between two ticks counts if the page was visible and had focus
  // (itself or one of its iframes: hasFocus) during it — every change of
  // those calls tick — and only up to 30 s after the reader's last action,
  // or 3 min (6 × 30 s) while an iframe holds the focus: input inside a
  // cross-origin frame cannot be seen. tick(truthy): the reader did
  // something (the activity listeners pass their event).
  const tick = (act) => {
    const t = performance.now() | 0; // whole ms, monotonic; faked by test clocks
    if (live) acc += Math.max(0, Math.min(t, last + live * 3e4) - mark);
    mark = t;
    live = !d.hidden && d.hasFocus() && (d.activeElement instanceof HTMLIFrameElement ? 6 : 1);
    if (act) {
      last = t;
      depth();
    }
  };

  // Sends the view's engaged total when it grew. A final trigger (the page
  // hidden, which browsers also do as it unloads, or leaving the view)
  // sends a view still waiting for its page first, and stops the clock
  // until the next tick. (Before the first view there is nothing to send.)
  const flush = (fin) => {
    tick();
    if (fin) {
      pend && pend();
      live = 0;
    }
    if (acc > sent && !pend) send('engage', { e: (sent = acc) });
  };

  // Starts a new view (closing the current one, whose time ends now).
  const open = () => {
    flush(1);
    tick(1);          // a new view counts as an action
    vid = rid();
    acc = sent = seq = 0;
  };

  // Sends the current view, described from the page as it is now, with
  // referrer R; on a search page (the site's search parameter in the URL)
  // the search too.
  const tell = (r) => {
    const q = new URLSearchParams(L.search).get(sp);
    pend = px = 0; // the scroll baseline: this page as rendered now
    send('view', {
      u: (U = url()),
      r: r,
      ti: d.title,
      // words of the article: data-article selector, else article, main, body
      w: (($(cfg.article || 'article') || $('main') || d.body)
        .innerText.match(/\S+/g) || []).length,
      c: ($('meta[name="dwell:category"]') || 0).content, // undefined: dropped
      l: n.language,
      // <meta name="dwell:page" content="search|list|home">; else an article
      pk: q ? 'search' : ($('meta[name="dwell:page"]') || 0).content,
    });
    q && dwell('search', q);
  };

  // An SPA route change (the URL as sent changed): the current view ends
  // now, and the new one is sent once the router has rendered its page.
  // Routers render the content, then set the title: the view goes 100 ms
  // after the title changed, or after 1 s if it never does. Further URL
  // changes meanwhile belong to the same new view.
  const route = (e, r = U, t0 = d.title) => {
    if (url() == U) return;
    U = url();
    if (pend) return;
    open();
    const mo = new MutationObserver(() => d.title != t0 &&
      (mo.disconnect(), clearTimeout(q), q = setTimeout(pend, 100)));
    let q = setTimeout(pend = () => (mo.disconnect(), clearTimeout(q), tell(r)), 1e3);
    mo.observe(d, { subtree: true, childList: true });
  };

  // --- link ids -----------------------------------------------------------
  const linkId = () => {
    let k = rid();
    // localStorage itself throws where storage is blocked.
    try { cfg.link == 'persistent' && (k = S.dwell_link || (S.dwell_link = k)); } catch (e) { /* blocked */ }
    send('link', { k: k });
    return k;
  };

  // --- public API ---------------------------------------------------------
  // dwell('vote', 'up'|'down'), dwell('search', query, resultCount),
  // dwell('event', name), dwell('identify', sha256hex): the first argument
  // names the event type, the second fills the field this table gives.
  // Each call is numbered within its view (i), so the server counts a
  // repeated search or custom event once. (n comes first so that the name of an
  // 'event' overrides it.)
  const dwell = (c, a, b) => {
    const k = { vote: 'x', search: 'q', event: 'n', identify: 'h' }[c];
    // while an SPA view waits for its page (at most 1 s), calls wait too
    pend ? setTimeout(dwell, 1e3, c, a, b) :
      k && send(c, { n: k == 'q' && b === +b ? b : void 0, [k]: a, i: ++seq });
  };
  dwell.linkId = linkId;

  const go = () => {
    open();
    tell(d.referrer);
    // Calls queued by the page's stub, in order, after the first view.
    ((w.dwell || 0).q || []).map((a) => dwell(...a));
    w.dwell = dwell;

    // (Pointer events cover mouse, pen and touch.)
    'scroll keydown pointerdown pointermove focus blur'.split(' ')
      .map((t) => on(t, tick));
    // Back/forward cache restore: a new view.
    on('pageshow', (e) => e.persisted && (open(), tell()));
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
        // The id goes into the page's dwell_link field (the contact form's
        // hidden input, which the help desk keeps), else into the link's
        // query: "?&dwell_link=…" when it had none, still valid.
        const k = linkId(), f = $('[name=dwell_link]');
        f ? (f.value = k) : c.href && (c.search += '&dwell_link=' + k);
      }
    });
  };

  // Nothing is sent before the reader first sees the page: a prerendered
  // page or a background tab waits until shown, and one closed unseen
  // sends nothing.
  // (Before go, flush and tick find no view and send nothing.)
  let begin = () => d.hidden || d.prerendering || go(begin = noop);
  on('visibilitychange', () => (begin(), d.hidden ? flush(1) : tick(1)));
  on('prerenderingchange', () => begin(), d);
  begin();
})(window, document, navigator, location);
