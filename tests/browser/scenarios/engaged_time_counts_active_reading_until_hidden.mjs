// 20 s of active reading, then the tab is hidden: the view's stored engaged
// time is 20 s ± 1 s (a 15 s heartbeat and the rest at visibilitychange).
export default async function (t) {
  const page = await t.open(t.page, 'long-article.html');
  await t.read(page, 20_000);
  await t.hide(page);

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/long-article.html')[0]?.view;
    return view && (t.engagedByView(ev)[view] || 0) >= 19_000;
  }, 'a view of /demo/long-article.html with at least 19 s engaged');
  t.assert(t.viewsOf(events, '/demo/long-article.html').length === 1, 'one view stored');
  t.near(t.engagedByView(events)[view], 20_000, 1_000, 'engaged ms after 20 s of active reading');
}
