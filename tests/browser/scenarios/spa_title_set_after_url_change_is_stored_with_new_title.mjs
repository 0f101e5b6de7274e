// A client-side router that changes the URL first and renders the new page
// 400 ms later (VitePress, Vue Router, Next.js do so): the reader reads long
// article A 10 s and scrolls far down it, clicks a link to short article B
// (URL now B, content and title still A's for 400 ms; then B's content,
// title and category, scrolled to the top), reads B 5 s without scrolling,
// and closes the tab. Stored: A with A's title, words and category, its
// engaged time ending at the URL change (10 s ± 0.3 s) and its deep scroll;
// B with B's title, word count and category, ~5 s, and B's own scroll depth:
// B fits the viewport and was never scrolled, so 100, not A's position.
// A custom event the page sends while B is still being rendered belongs to
// B, and does not make B's view go out with A's title.
const A = '/demo/spa-late-title.html';
const B = '/demo/spa-late-b';

export default async function (t) {
  // What the page sends, in the order it sends it: under the fake clock the
  // view and the postponed event go out within the same real millisecond,
  // on connections of their own, so the order they are stored in is the
  // network's, not the snippet's.
  await t.context.addInitScript(() => {
    window.__sent = [];
    const send = navigator.sendBeacon.bind(navigator);
    navigator.sendBeacon = (url, body) => {
      try {
        const e = JSON.parse(body);
        window.__sent.push({ t: e.t, v: e.v, a: e.a });
      } catch (x) { /* not ours */ }
      return send(url, body);
    };
  });
  const page = await t.open(t.page, 'spa-late-title.html');
  const describe = () => page.evaluate(() => ({
    path: location.pathname,
    title: document.title,
    category: document.querySelector('meta[name="dwell:category"]').content,
    words: (document.querySelector('article').innerText.match(/\S+/g) || []).length,
    fits: document.documentElement.scrollHeight <= innerHeight,
    scrollY,
  }));
  const a = await describe();
  t.assert(a.path === A && !a.fits && a.words === 1200, `precondition: A is a long article of 1200 words (${JSON.stringify(a)})`);

  for (let i = 1; i <= 2; i++) { // 10 s, scrolling to 85 % of the page
    await t.poke(page);
    await page.evaluate((f) => scrollTo(0, f * (document.documentElement.scrollHeight - innerHeight)), 0.425 * i);
    await page.clock.runFor(5_000);
  }
  await page.click('#to-b');
  const during = await describe();
  t.assert(during.path === B && during.title === a.title && during.scrollY > 0,
    `precondition: right after the click the URL is B but the page is still A, scrolled (${JSON.stringify(during)})`);
  await page.evaluate(() => dwell('event', 'while-rendering'));
  await t.read(page, 5_000, 1_000);
  const b = await describe();
  t.assert(b.path === B && b.title === 'Reset your password' && b.category === 'accounts' && b.fits && b.scrollY === 0,
    `precondition: B rendered, fits the viewport, at the top (${JSON.stringify(b)})`);
  const sent = await page.evaluate(() => window.__sent);
  await page.close({ runBeforeUnload: true });

  const viewOf = (ev, p) => t.viewsOf(ev, p)[0]?.view;
  const events = await t.waitFor((ev) => {
    const va = viewOf(ev, A);
    const vb = viewOf(ev, B);
    return va && vb && ev.some((e) => e.type === 'engage' && e.view === vb);
  }, 'views of A and B, and engaged time for B');
  const views = events.filter((e) => e.type === 'view');
  t.assert(views.length === 2, `views stored: ${views.map((v) => v.path).join(', ')}; want A, B`);
  const [va, vb] = [t.viewsOf(events, A)[0], t.viewsOf(events, B)[0]];
  const fields = (v) => JSON.stringify({ title: v.title, category: v.category, words: v.words });
  t.assert(va.title === a.title && va.category === a.category, `view of A stored as ${fields(va)}, want ${JSON.stringify(a.title)}, ${a.category}`);
  t.assert(vb.title === b.title && vb.category === b.category,
    `view of B stored as ${fields(vb)}, want title ${JSON.stringify(b.title)}, category ${b.category}`);
  t.near(va.words, a.words, Math.ceil(a.words * 0.01), 'stored word count of A');
  t.near(vb.words, b.words, 2, 'stored word count of B');
  const scrollB = t.scrollOf(events, vb.view);
  t.assert(scrollB === 100, `stored scroll depth of B (fits the viewport, never scrolled): ${scrollB}, want 100`);
  t.assert(t.scrollOf(events, va.view) >= 80, `stored scroll depth of A: ${t.scrollOf(events, va.view)}, want ≥ 80`);
  const engaged = t.engagedByView(events);
  t.near(engaged[va.view] || 0, 10_000, 300, 'engaged ms of A (ends at the URL change)');
  t.near(engaged[vb.view] || 0, 5_000, 1_000, 'engaged ms of B');
  const custom = events.filter((e) => e.type === 'event' && e.name === 'while-rendering');
  t.assert(custom.length === 1 && custom[0].view === vb.view,
    `the event sent while B rendered: ${JSON.stringify(custom)}; want one, of B's view ${vb.view}`);
  const sentView = sent.findIndex((e) => e.t === 'view' && e.v === vb.view);
  const sentEvent = sent.findIndex((e) => e.t === 'event' && e.a === 'while-rendering'); // wire 3: the name in a
  t.assert(sentView >= 0 && sentEvent > sentView,
    `the page sent the event of B before B's view: ${JSON.stringify(sent.map((e) => e.t))}`);
}
