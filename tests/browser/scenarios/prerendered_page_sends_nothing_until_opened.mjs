// A prerendered page (document.prerendering true: the browser loaded it
// speculatively) runs the snippet while nobody sees it: nothing may be
// stored then, and the page's dwell(…) calls wait. When the reader opens it,
// the browser sets prerendering false and fires prerenderingchange at the
// document: then its one view is stored, and the waiting call after it,
// under the same view.
// (Headless Chromium here does not prerender speculation rules, so the page
// plays the browser's part: prerendering is a getter it controls, and the
// event is dispatched as the browser does — at the document, not bubbling.)
export default async function (t) {
  await t.context.addInitScript(() => {
    let pre = true;
    Object.defineProperty(Document.prototype, 'prerendering', { get: () => pre, configurable: true });
    window.activate = () => { pre = false; document.dispatchEvent(new Event('prerenderingchange')); };
  });
  const page = await t.open(t.page, 'long-article.html', { clock: false });
  await page.evaluate(() => { window.dwell('event', 'while-prerendered'); window.scrollBy(0, 200); });
  await new Promise((r) => setTimeout(r, 2_000)); // time for a beacon on its way
  const early = await t.events();
  t.assert(early.length === 0, `stored while prerendered: ${t.summarize(early)}`);

  await page.evaluate(() => window.activate());
  const events = await t.waitFor((ev) => ev.some((e) => e.type === 'event'), 'the view and the waiting event');
  const views = t.viewsOf(events, '/demo/long-article.html');
  t.assert(views.length === 1, `views stored: ${views.length}, want 1 (${t.summarize(events)})`);
  const ev = events.filter((e) => e.type === 'event');
  t.assert(ev.length === 1 && ev[0].view === views[0].view,
    `the call made while prerendered belongs to the view: ${t.summarize(events)}`);
}
