// A short article that fits the viewport: the reader sees all of it without
// scrolling, so the stored scroll depth is 100.
export default async function (t) {
  const page = await t.open(t.page, 'short-article.html');
  const fits = await page.evaluate(() => document.documentElement.scrollHeight <= innerHeight);
  t.assert(fits, 'precondition: the short article fits the viewport');
  await t.read(page, 3_000);
  await t.hide(page);

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/short-article.html')[0]?.view;
    return view && ev.some((e) => e.type === 'engage' && e.view === view);
  }, 'an engage event for the view of /demo/short-article.html');
  t.assert(await page.evaluate(() => scrollY === 0), 'precondition: the page was never scrolled');
  const depth = t.scrollOf(events, view);
  t.assert(depth === 100, `stored scroll depth of an article that fits: ${depth}, want 100`);
}
