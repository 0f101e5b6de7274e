// 5 s of reading, 60 s with the tab hidden, shown again, 5 s more reading,
// hidden: the stored engaged time is 10 s ± 1 s; the hidden minute is not
// counted, and counting resumes when the tab is visible again.
export default async function (t) {
  const page = await t.open(t.page, 'long-article.html');
  await t.read(page, 5_000);
  await t.hide(page);
  await t.idle(page, 60_000);
  await t.show(page);
  await t.read(page, 5_000);
  await t.hide(page);

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/long-article.html')[0]?.view;
    return view && (t.engagedByView(ev)[view] || 0) >= 9_000;
  }, 'a view of /demo/long-article.html with at least 9 s engaged');
  t.assert(t.viewsOf(events, '/demo/long-article.html').length === 1, 'showing the tab again is not a new view');
  t.near(t.engagedByView(events)[view], 10_000, 1_000, 'engaged ms for 5 s + 5 s visible around 60 s hidden');
}
