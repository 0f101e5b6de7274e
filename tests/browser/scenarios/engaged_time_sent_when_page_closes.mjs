// 8 s of reading, then the tab is closed (a real pagehide, no heartbeat due
// yet): the stored engaged time is 8 s ± 1 s.
export default async function (t) {
  const page = await t.open(t.page, 'long-article.html');
  await t.read(page, 8_000);
  await page.close({ runBeforeUnload: true });

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/long-article.html')[0]?.view;
    return view && (t.engagedByView(ev)[view] || 0) >= 7_000;
  }, 'a view of /demo/long-article.html with at least 7 s engaged');
  t.near(t.engagedByView(events)[view], 8_000, 1_000, 'engaged ms sent at pagehide after 8 s of reading');
}
