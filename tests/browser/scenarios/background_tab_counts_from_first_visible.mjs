// An article opened in a real background tab stays hidden for 30 s of page
// time (nothing may be sent meanwhile: the reader has not seen it), then the
// reader switches to it and reads 10 s, then closes it. Exactly one view is
// stored, and its engaged time is the 10 s read after it became visible
// (± 1 s): the hidden half minute counts for nothing.
export default async function (t) {
  const bg = await t.backgroundTab('long-article.html');
  t.assert(await bg.evaluate(() => document.visibilityState) === 'hidden',
    'precondition: the background tab\'s page is hidden');
  await t.idle(bg, 30_000);
  await new Promise((r) => setTimeout(r, 1_000)); // real time for a beacon on its way
  const early = await t.events();
  t.assert(early.length === 0, `stored while the tab was never visible: ${t.summarize(early)}`);

  await t.show(bg);
  await t.read(bg, 10_000);
  await bg.close({ runBeforeUnload: true });

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/long-article.html')[0]?.view;
    return view && (t.engagedByView(ev)[view] || 0) >= 9_000;
  }, 'a view of /demo/long-article.html with at least 9 s engaged');
  const views = t.viewsOf(events, '/demo/long-article.html');
  t.assert(views.length === 1, `views stored: ${views.length}, want 1 (${t.summarize(events)})`);
  t.near(t.engagedByView(events)[view], 10_000, 1_000, 'engaged ms: 30 s hidden in the background, then 10 s read');
}
