// Leaving a page and coming back with the back button restores it from the
// back/forward cache (no reload, pageshow.persisted): that is a new view,
// with its own id, of the same page.
//
// Chromium's back/forward cache works headless as long as playwright-core's
// --disable-back-forward-cache is left out (run.mjs does). If the page is
// ever not restored from it, this scenario fails rather than fake a restore.
export default async function (t) {
  await t.context.addInitScript(() => {
    window.__restores = 0;
    addEventListener('pageshow', (e) => { if (e.persisted) window.__restores++; });
  });
  const page = t.page;
  await page.goto(t.url('short-article.html'));
  await page.click('#to-long');
  await page.waitForURL(/long-article/);
  await page.goBack({ waitUntil: 'commit' });

  let restored = 0;
  for (let i = 0; i < 30 && !restored; i++) {
    restored = await page.evaluate(() => location.pathname === '/demo/short-article.html' && window.__restores)
      .catch(() => 0);
    if (!restored) await new Promise((r) => setTimeout(r, 100));
  }
  t.assert(restored === 1,
    'precondition: Chromium did not restore the page from the back/forward cache (no pageshow with persisted)');

  const events = await t.waitFor((ev) => t.viewsOf(ev, '/demo/short-article.html').length >= 2,
    'two views of /demo/short-article.html (the load and the restore)');
  const views = t.viewsOf(events, '/demo/short-article.html');
  t.assert(views.length === 2, `views of /demo/short-article.html: ${views.length}, want 2`);
  t.assert(views[0].view !== views[1].view, 'the restored page has a new view id');
  t.assert(t.viewsOf(events, '/demo/long-article.html').length === 1, 'one view of the page in between');
}
