// A site that sets data-respect-dnt="false" is tracked even with Do Not
// Track on (the browser's own setting): its view, engaged time and calls are
// stored.
export default async function (t) {
  const context = await t.persistentContext({ enable_do_not_track: true });
  const page = await context.newPage();
  t.assert(await page.evaluate(() => navigator.doNotTrack) === '1', 'precondition: navigator.doNotTrack is "1"');
  await t.open(page, 'dnt-ignored.html');
  await t.read(page, 5_000);
  await t.hide(page);

  await t.waitFor((ev) => {
    const view = t.viewsOf(ev, '/demo/dnt-ignored.html')[0]?.view;
    return view && (t.engagedByView(ev)[view] || 0) >= 4_000 &&
      ev.some((e) => e.type === 'event' && e.name === 'queued-before-load');
  }, 'the view, its engaged time and its queued event stored despite DNT');
}
