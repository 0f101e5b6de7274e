// A reader opens an article in a background tab (a real one: Chromium's
// Target.createTarget with background: true, the page loaded and hidden),
// leaves it there for 20 s of page time, and closes it without ever looking
// at it. Nothing is stored for it: not even a view (a 0 ms view would be a
// quick exit that never happened). A page then read in the front tab is
// stored, so the store was reachable and had time to receive the other's
// beacons.
export default async function (t) {
  const bg = await t.backgroundTab('long-article.html');
  t.assert(await bg.evaluate(() => document.visibilityState) === 'hidden',
    'precondition: the background tab\'s page is hidden');
  t.assert(await bg.evaluate(() => typeof window.dwell === 'function' && !Array.isArray(window.dwell.q)),
    'precondition: the snippet ran in the background tab');
  await t.idle(bg, 20_000);
  await new Promise((r) => setTimeout(r, 500)); // real time for a beacon on its way
  t.assert(await bg.evaluate(() => document.visibilityState) === 'hidden',
    'precondition: the background tab stayed hidden');
  await bg.close({ runBeforeUnload: true });

  const page = await t.open(t.page, 'short-article.html');
  await t.read(page, 3_000);
  await page.close({ runBeforeUnload: true });
  let plain;
  const events = await t.waitFor((ev) => {
    plain = t.viewsOf(ev, '/demo/short-article.html')[0]?.view;
    return plain && (t.engagedByView(ev)[plain] || 0) > 0;
  }, 'the front tab\'s view and engaged time stored');
  const unseen = events.filter((e) => e.view !== plain);
  t.assert(unseen.length === 0, `stored for the tab closed unseen: ${t.summarize(unseen)}`);
}
