/* dwell.js — help-center analytics snippet. Reference: docs/snippet.md.
 *
 *   <script>window.dwell=window.dwell||function(){(dwell.q=dwell.q||[]).push(arguments)}</script>
 *   <script defer src="https://stats.example.com/dwell.js" data-site="help.example.com"></script>
 *
 * Sends a `view` per page view (first shown, SPA route change once the new
 * page has rendered, back/forward-cache restore), the view's cumulative
 * engaged time in `engage` events, and what the page asks for (votes,
 * searches, custom events, link ids, identify). Wire version 3: every event
 * carries "wv":3. No cookies; storage is read for `dwell_ignore` and written
 * only with data-link="persistent".
 *
 * Written for size: minified by esbuild (--target=es2017, js-snippet/pack.mjs,
 * which also re-chooses the local names for gzip) and served as zopfli's gzip,
 * it must stay within the gzip budget of js-snippet/budget.json (the build
 * prints both, the browser suite fails above it; docs/snippet.md "Size" has
 * what each feature costs). gzip is what counts, and in gzip a name costs
 * about as much as the text it stands for, so: no helper for what is written
 * twice alike (the repeat is nearly free), one function per job (send, tick,
 * flush, tell, route), state in the wrapper's parameters, and default
 * parameters in place of `let` lines.
 * Wire format: DESIGN.md §2. */
// The state lives in the wrapper's parameters (the call passes only the
// first two): one list instead of `let` lines.
((d, L, X, n = navigator,
  me = d.currentScript || d.querySelector('script[data-site]'), // our own tag
  cfg = me.dataset, // its data-* attributes: the settings
  vid,      // page-view id of the current view
  U,        // its URL as sent (the next SPA view's referrer)
  px = 0,   // deepest point seen, in px from the top of the document
  acc,      // the view's engaged ms so far
  sent,     // the engaged ms last sent
  seq,      // dwell(…) calls of the view so far
  mark,     // start of the interval being measured
  last,     // time of the reader's last action
  live,     // since `mark`: hidden or unfocused (falsy), focused (1),
            // or focus inside an iframe (6)
  pend,     // an SPA view waiting for its page: pend(1) sends it now
  K,        // scratch of linkId
) => {

  // Switched off — no data-site, Do Not Track (the string '1') or Global
  // Privacy Control unless data-respect-dnt="false", or dwell_ignore: a
  // do-nothing API (linkId gives ''), so pages calling it still work. Where
  // storage is blocked, reading localStorage throws: not switched off.
  try {
    if (!cfg.site || cfg.respectDnt != 'false' && (n.doNotTrack == 1 || n.globalPrivacyControl) ||
        localStorage.dwell_ignore == '1') return (window.dwell = () => '').linkId = window.dwell;
  } catch (e) { /* blocked */ }

  // Sends event O of type T. Every event carries the max scroll depth so
  // far — in %, against the document's height now (so a page that grows
  // lowers it until the reader scrolls on), rounded; a page that fits = 100
  // — the wire version and, under automation, b:true (JSON.stringify
  // drops X, undefined). A string body goes as text/plain: no CORS
  // preflight. The default endpoint is our own origin's /e (a URL object:
  // sendBeacon takes its string). (sendBeacon refuses only beyond 64 KB in
  // flight; what such a refusal loses of engaged time, the view's next
  // engage carries again.)
  let send = (t, o) => {
    o.s = cfg.site; o.t = t; o.v = vid;
    o.sd = Math.min(100, (px = Math.max(px, scrollY + innerHeight)) * 100 / d.documentElement.scrollHeight + 0.5 | 0);
    o.wv = 3; o.b = n.webdriver || X;
    n.sendBeacon(cfg.api || new URL('/e', me.src), JSON.stringify(o));
  };

  // --- engaged time -------------------------------------------------------
  // Time between two ticks counts if the page was visible and had focus
  // (itself or one of its iframes: hasFocus) during it — every change of
  // those calls tick — and only up to 30 s after the reader's last action,
  // or 3 min (6 × 30 s) while an iframe holds the focus: input inside a
  // cross-origin frame cannot be seen. ACT truthy: the reader did something
  // (the activity listeners pass their event): the deepest point seen is
  // measured too (as in send). `live` needs no test: when
  // it is falsy, last ≤ mark makes the sum 0 (last is only ever set to the
  // mark of its own tick); before the first view acc is NaN, and the view
  // sets it to 0.
  let tick = (act, t = performance.now() | 0) => { // whole ms, monotonic; faked by test clocks
    acc += Math.max(0, Math.min(t, last + live * 3e4) - mark);
    mark = t;
    live = d.hasFocus() && !d.hidden && (d.activeElement.tagName == 'IFRAME' ? 6 : 1);
    act && (last = t, px = Math.max(px, scrollY + innerHeight));
  };

  // Sends the view's engaged total when it grew. FIN (the page hidden,
  // which browsers also do as it unloads, or leaving the view) first sends
  // a view still waiting for its page (pend(1)). FIN 2 then opens a new view (a new
  // view counts as an action). Hidden, the tick found live falsy: the clock
  // stays stopped until the next tick. (Before the first view there is
  // nothing to send.)
  let flush = (fin) => {
    tick();
    fin && pend && pend(1);
    acc > sent && !pend && send('engage', { e: (sent = acc) });
    fin > 1 && (last = mark, acc = sent = seq = 0,
      // 16 random chars of [0-9a-v] (a subset of the wire's [A-Za-z0-9_-]):
      // 80 bits, 5 per byte, unbiased.
      vid = crypto.getRandomValues(new Uint8Array(16)).reduce((s, b) => s + (b & 31).toString(32), ''));
  };

  // Sends the current view, described from the page as it is now, with
  // referrer R; on a search page (the site's search parameter in the URL)
  // the search too. The URL as sent: origin + path (+ query with
  // data-keep-query).
  let tell = (r, q = new URL(L).searchParams.get(cfg.searchParam || 'q')) => {
    pend = px = 0; // the scroll baseline: this page as rendered now
    send('view', {
      u: (U = L.origin + L.pathname + ('keepQuery' in cfg ? L.search : '')),
      r: r,
      ti: d.title,
      // words of the article (data-article selector, else article, main,
      // body): N words cut the text into N + 1 pieces
      w: (d.querySelector(cfg.article || 'article') || d.querySelector('main') || d.body)
        .innerText.split(/\S+/).length - 1,
      c: (d.querySelector('meta[name="dwell:category"]') || 0).content, // undefined: dropped
      l: n.language,
      // <meta name="dwell:page" content="search|list|home">; else an article
      pk: q ? 'search' : (d.querySelector('meta[name="dwell:page"]') || 0).content,
    });
    q && dwell('search', q);
  };

  // An SPA route change, if the URL as sent changed: the current view ends
  // now, and the new one (referrer R, the URL before) is sent once the
  // router has rendered its page. Routers render the content, then set the
  // title: the title is checked every 100 ms, and the view goes at the
  // check after the one that saw it changed, or after 1 s if it never
  // does. Further URL changes meanwhile belong to the same new view. P is
  // both the check and the waiting view's pend (NOW: send it at once); a
  // check whose view went already (with a final flush) stops.
  let route = (e, r = U, t0 = d.title, i = 11,
               p = (now) => pend == p && (now || !--i ? tell(r) : (d.title != t0 && (i = 1), setTimeout(p, 100)))) =>
    U != (U = L.origin + L.pathname + ('keepQuery' in cfg ? L.search : '')) && !pend && (flush(2), pend = p, p());

  // --- public API ---------------------------------------------------------
  // dwell('vote', 'up'|'down'), dwell('search', query, resultCount),
  // dwell('event', name), dwell('identify', sha256hex): the first argument
  // is the event type, the second goes as `a`, the third as `n` (wire 3:
  // the server checks them all — it refuses a type it does not know or
  // `a` on a view, engage or link — and takes `n` only as a search's
  // result count, when it is a number). Each call is numbered within its
  // view (i), so the server counts a repeated search or custom event once.
  // While an SPA view waits for its page (at most 1 s), calls wait too.
  // (A: the arguments; one name for all three is shorter in gzip.)
  let dwell = (...a) => pend ? setTimeout(dwell, 1e3, ...a) : send(a[0], { a: a[1], n: a[2], i: ++seq });
  // A link id (see flush for its form); with data-link="persistent" the
  // first one, kept in localStorage (which throws where storage is blocked:
  // then a fresh one).
  dwell.linkId = () => {
    K = crypto.getRandomValues(new Uint8Array(16)).reduce((s, b) => s + (b & 31).toString(32), '');
    try { cfg.link == 'persistent' && (localStorage.dwell_link = K = localStorage.dwell_link || K); } catch (e) { /* blocked */ }
    send('link', { k: K });
    return K;
  };

  // Nothing is sent before the reader first sees the page: a prerendered
  // page or a background tab waits until shown, and one closed unseen
  // sends nothing. The first call that finds the page shown sends the view
  // and sets up the rest; later calls find `vid` and do nothing.
  let begin = () => vid || d.hidden || d.prerendering || (
    flush(2),
    tell(d.referrer),
    // Calls queued by the page's stub, in order, after the first view.
    ((window.dwell || 0).q || []).map((a) => dwell(...a)),
    window.dwell = dwell,
    // Back/forward cache restore: a new view (pageshow reaches only window).
    addEventListener('pageshow', (e) => e.persisted && (flush(2), tell())),
    setInterval(flush, 15e3), // heartbeat
    // SPA navigation. replaceState and popstate often keep the URL (state
    // updates, fragment jumps): route() ignores those.
    'pushState replaceState'.split(' ').map((k) => ((f) => history[k] = (...a) => route(f.apply(history, a)))(history[k])),
    addEventListener('popstate', route),
    // Declarative: data-dwell-vote="up|down" and data-dwell-contact. Capture,
    // so a page handler that stops propagation cannot hide the click. The
    // link id goes into the page's dwell_link field (the contact form's
    // hidden input, which the help desk keeps), else into the link's query:
    // "?&dwell_link=…" when it had none, still valid (on an element that is
    // no link, `search` is a property of nobody's).
    addEventListener('click', (e, v = e.target.closest('[data-dwell-vote]'),
                               c = e.target.closest('[data-dwell-contact]'), f = d.querySelector('[name=dwell_link]')) => {
      v && dwell('vote', v.dataset.dwellVote);
      c && (dwell('event', 'contact'), f ? (f.value = dwell.linkId()) : (c.search += '&dwell_link=' + dwell.linkId()));
    }, 1));

  // `addEventListener` on window in the capture phase: these reach window
  // (visibilitychange and prerenderingchange from the document; focus of
  // elements and iframes, and scrolling of inner scrollers, which only count
  // as activity). (Pointer events cover mouse, pen and touch.) The page
  // becoming visible, or shown after prerendering, may begin; hidden, it
  // flushes; any of them is an action. (Before the first view, flush and
  // tick find no view and send nothing.)
  'scroll keydown pointerdown pointermove focus blur visibilitychange prerenderingchange'.split(' ')
    .map((t) => addEventListener(t, (e) => (begin(), d.hidden ? flush(1) : tick(e)), 1));
  begin();
})(document, location);
