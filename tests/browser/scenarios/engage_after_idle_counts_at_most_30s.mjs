// 10 s of active reading, then 60 s with the tab visible and focused but no
// activity, then hidden: the idle time counts for at most 30 s after the last
// activity, so the stored engaged time is 10–40 s, never the 70 s elapsed.
export default async function (t) {
  const page = await t.open(t.page, 'long-article.html');
  await t.read(page, 10_000);
  await t.poke(page);       // the last activity, at 10 s
  await t.idle(page, 60_000);
  await t.hide(page);

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/long-article.html')[0]?.view;
    return view && (t.engagedByView(ev)[view] || 0) >= 9_000;
  }, 'a view of /demo/long-article.html with at least 9 s engaged');
  const engaged = t.engagedByView(events)[view];
  t.note(`engaged ms after 10 s active + 60 s idle: ${engaged} (true reading 10000, allowance to 40000)`);
  t.assert(engaged >= 9_000 && engaged <= 41_000,
    `engaged ms after 10 s active + 60 s idle: ${engaged}, want 10 000–40 000 (± 1 s)`);
}
