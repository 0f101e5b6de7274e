// A single-page app: every route is its own view with its own id, path and
// engaged time. A 12 s → pushState B 7 s → replaceState C 5 s → back
// (popstate, to A) 3 s → closed. A replaceState that keeps the path (saving
// state) is not a new view.
export default async function (t) {
  const page = await t.open(t.page, 'spa.html');
  const at = async (want) => {
    for (let i = 0; i < 30; i++) {
      if (await page.evaluate(() => location.pathname) === want) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`precondition: the app did not reach ${want}`);
  };
  await t.read(page, 6_000);
  await page.click('#same');
  await t.read(page, 6_000);
  await page.click('#to-b');
  await at('/demo/spa-b');
  await t.read(page, 7_000);
  await page.click('#to-c');
  await at('/demo/spa-c');
  await t.read(page, 5_000);
  await page.click('#back');
  await at('/demo/spa.html');
  await t.read(page, 3_000);
  await page.close({ runBeforeUnload: true });

  const want = [['/demo/spa.html', 12_000], ['/demo/spa-b', 7_000], ['/demo/spa-c', 5_000], ['/demo/spa.html', 3_000]];
  // Beacons may be stored in another order than sent: match views by path
  // and engaged time rather than by position.
  const match = (ev) => {
    const engaged = t.engagedByView(ev);
    const left = ev.filter((e) => e.type === 'view').map((v) => ({ path: v.path, ms: engaged[v.view] || 0 }));
    return want.every(([pathname, ms]) => {
      const i = left.findIndex((v) => v.path === pathname && Math.abs(v.ms - ms) <= 1_000);
      return i >= 0 && left.splice(i, 1);
    });
  };
  let events;
  try {
    events = await t.waitFor(match, 'views A 12 s, B 7 s, C 5 s, A 3 s');
  } catch {
    const ev = await t.events();
    const engaged = t.engagedByView(ev);
    const got = ev.filter((x) => x.type === 'view').map((v) => `${v.path} ${engaged[v.view] || 0} ms`);
    throw new Error(`views stored: ${got.join(', ') || 'none'}; want /demo/spa.html 12 s, /demo/spa-b 7 s, ` +
      '/demo/spa-c 5 s, /demo/spa.html 3 s (± 1 s)');
  }
  const views = events.filter((e) => e.type === 'view');
  t.assert(views.length === 4,
    `views stored: ${views.map((v) => v.path).join(', ')}; want A, B, C, A (a same-path replaceState is no view)`);
  t.assert(new Set(views.map((v) => v.view)).size === 4, 'every route has its own view id');
  const engaged = t.engagedByView(events);
  t.note(`engaged ms per route (want 12000, 7000, 5000, 3000): ${views.map((v) => engaged[v.view] || 0).join(', ')}`);
}
