// The page's search box reports each search with dwell('search', q, n): one
// with results (n > 0) and one without (n = 0) are stored as sent.
export default async function (t) {
  const page = await t.open(t.page, 'feedback.html', { clock: false });
  await page.fill('#q', 'your');
  await page.click('#search-go');
  const shown = await page.locator('#results li').count();
  t.assert(shown > 0, 'precondition: the search for "your" shows results');
  await page.fill('#q', 'zzzz');
  await page.click('#search-go');

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/feedback.html')[0]?.view;
    return view && ev.filter((e) => e.type === 'search').length >= 2;
  }, 'two searches stored');
  const searches = events.filter((e) => e.type === 'search');
  t.assert(searches.length === 2, `searches stored: ${searches.length}, want 2`);
  t.assert(searches.every((s) => s.view === view), 'the searches belong to the page\'s view');
  const got = searches.map((s) => `${JSON.stringify(s.query)}/${s.results}`).sort().join(', ');
  const want = [`"your"/${shown}`, '"zzzz"/0'].sort().join(', ');
  t.assert(got === want, `searches stored (query/results): ${got}; want ${want}`);
}
