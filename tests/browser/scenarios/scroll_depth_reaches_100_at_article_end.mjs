// A long article: before scrolling the stored depth is that of the first
// screen; after the reader scrolls (mouse wheel) to the end it is 100.
export default async function (t) {
  const page = await t.open(t.page, 'long-article.html');
  const geometry = () => page.evaluate(() => ({
    top: scrollY, seen: scrollY + innerHeight, height: document.documentElement.scrollHeight,
  }));
  const start = await geometry();
  t.assert(start.height >= 3 * start.seen, `precondition: the article is several screens tall (${start.height} px)`);

  await t.read(page, 3_000);
  await t.hide(page);
  let view;
  let events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/long-article.html')[0]?.view;
    return view && ev.some((e) => e.type === 'engage' && e.view === view);
  }, 'an engage event for the view of /demo/long-article.html');
  const before = t.scrollOf(events, view);
  const firstScreen = Math.round(100 * start.seen / start.height);
  t.assert(before !== null && before <= firstScreen + 5,
    `depth before scrolling: stored ${before}, the first screen is ${firstScreen} %`);

  await t.show(page);
  for (let i = 0; i < 40; i++) {
    const g = await geometry();
    if (g.seen >= g.height) break;
    await page.mouse.wheel(0, 600);
    await t.idle(page, 200);
  }
  const end = await geometry();
  t.assert(end.seen >= end.height, `precondition: scrolled to the end (${end.seen} of ${end.height} px)`);
  await t.read(page, 2_000);
  await t.hide(page);

  events = await t.waitFor((ev) => t.scrollOf(ev, view) === 100,
    'stored scroll depth 100 after scrolling to the end');
  t.assert(t.viewsOf(events, '/demo/long-article.html').length === 1, 'one view stored');
}
