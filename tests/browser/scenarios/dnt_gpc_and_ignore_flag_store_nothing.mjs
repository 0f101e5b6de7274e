// Readers who asked not to be tracked: a page load with Do Not Track on, one
// with Global Privacy Control on, and one by the site's writer with
// localStorage.dwell_ignore = '1' each read, vote and leave, and the server
// stores nothing for them. A plain reader loaded afterwards is stored (so the
// store was reachable and had time to receive the others' beacons).
//
// DNT is the browser's own setting (the profile preference behind
// navigator.doNotTrack). Chromium 156 exposes navigator.globalPrivacyControl
// but has no setting to turn it on; GPC reaches Chromium readers through
// extensions that define it before the page runs, which is what the init
// script below does.
async function visit(t, page, name) {
  await t.open(page, name);
  await t.read(page, 5_000);
  await page.evaluate(() => {
    dwell('vote', 'up');
    dwell('search', 'invoice', 1);
    if (typeof dwell.linkId === 'function') dwell.linkId(); // whether it exists when off is not checked here
  });
  await t.hide(page);
  await page.close({ runBeforeUnload: true });
}

export default async function (t) {
  const dnt = await t.persistentContext({ enable_do_not_track: true });
  const dntPage = await dnt.newPage();
  t.assert(await dntPage.evaluate(() => navigator.doNotTrack) === '1', 'precondition: navigator.doNotTrack is "1"');
  await visit(t, dntPage, 'private-dnt.html');

  const gpc = await t.newContext();
  await gpc.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { configurable: true, get: () => true });
  });
  await visit(t, await gpc.newPage(), 'private-gpc.html');

  const writer = await t.newContext();
  const writerPage = await writer.newPage();
  await writerPage.goto(`${t.origin}/healthz`); // same origin, no snippet
  await writerPage.evaluate(() => { localStorage.dwell_ignore = '1'; });
  await visit(t, writerPage, 'private-ignore.html');

  await visit(t, t.page, 'short-article.html');
  let plain;
  const events = await t.waitFor((ev) => {
    plain = t.viewsOf(ev, '/demo/short-article.html')[0]?.view;
    return plain && (t.engagedByView(ev)[plain] || 0) > 0;
  }, 'the plain reader\'s view and engaged time stored');
  const leaked = events.filter((e) => e.view !== plain);
  t.assert(leaked.length === 0, `stored for readers who opted out: ${t.summarize(leaked)}`);
}
