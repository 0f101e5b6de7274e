// Titles, categories and search queries are whatever pages send. A page
// (pages/markup-title.html) whose title and category are HTML, with a search
// for markup, is stored through the snippet's POST /e like any page; the
// report page then shows those strings as text: in the table, the search
// lists and the article's detail, with no element made from them and none of
// their scripts or handlers run.
export async function setup(s) {
  await s.cli('demo', s.site, '--days', '30', '--seed', '5');
  return { token: await s.cli('token', 'create', s.site, '--read-only') };
}

const TITLE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';
const CATEGORY = '<b>faq</b><img src=y onerror="window.__pwned=5">';
const FOUND = '<script>window.__pwned=3</script>';      // a search with results
const NOTHING = '<img src=z onerror="window.__pwned=4">'; // one that found nothing

function settled(page) {
  return page.waitForFunction(() => ['main', 'tw'].every((id) =>
    document.getElementById(id).getAttribute('aria-busy') === 'false'));
}

/* Elements inside the table, the search lists and the detail pane that no
   report page makes (script, img, b, iframe, …), and window.__pwned. */
function injected(page) {
  return page.evaluate(() => {
    const where = ['[data-test=articles]', '[data-test=top-searches]', '[data-test=zero-searches]',
      '[data-test=attention]', '#novl', '[data-test=detail]'];
    const found = [];
    for (const sel of where) {
      for (const el of document.querySelectorAll(`${sel} :is(script, img, b, iframe, object, embed, svg image)`)) {
        found.push(`${sel} > ${el.tagName.toLowerCase()}`);
      }
    }
    return { found, pwned: window.__pwned, scripts: document.scripts.length, imgs: document.images.length };
  });
}

export default async function (t) {
  // The page's own view, sent by the snippet, and its two searches.
  const article = await t.open(t.page, 'markup-title.html', { clock: false });
  t.assert(await article.title() === TITLE, `precondition: the fixture's document.title is ${JSON.stringify(await article.title())}`);
  await article.evaluate(([a, b]) => { dwell('search', a, 3); dwell('search', b, 0); }, [FOUND, NOTHING]);
  const events = await t.waitFor((ev) => ev.some((e) => e.type === 'view' && e.path === '/demo/markup-title.html') &&
    ev.filter((e) => e.type === 'search').length >= 2, 'the markup view and two searches stored');
  const view = events.find((e) => e.type === 'view' && e.path === '/demo/markup-title.html');
  t.assert(view.title === TITLE && view.category === CATEGORY,
    `precondition: stored title ${JSON.stringify(view.title)}, category ${JSON.stringify(view.category)}`);
  await article.close();

  // The report, bots included: the test browser's events are flagged bot.
  // a range ending today: the default holds full days only, and the view is today's
  const page = await t.context.newPage();
  const today = new Date().toISOString().slice(0, 10);
  const from = new Date(Date.now() - 29 * 864e5).toISOString().slice(0, 10);
  await page.goto(`${t.origin}/report/${t.site}?include_bots=1&from=${from}&to=${today}#token=${encodeURIComponent(t.fixture.token)}`);
  await settled(page);
  await page.waitForLoadState('networkidle'); // an injected <img> would have failed to load by now

  const token = t.fixture.token;
  const list = await t.api('articles', { include_bots: 1, limit: 1000, from, to: today }, token);
  const api = list.articles.find((a) => a.path === '/demo/markup-title.html');
  t.assert(api && api.title === TITLE, `the API's row for the page: ${JSON.stringify(api)}`);

  const row = page.locator(`[data-test=articles] [data-test=row][data-id="${api.id}"]`);
  t.assert(await row.isVisible(), `no visible row for the article ${api.id}`);
  const title = await row.locator('[data-col=title]').textContent();
  t.assert(title.includes('<script>') && title === TITLE, `the title cell reads ${JSON.stringify(title)}; want the title as text`);
  const category = await row.locator('[data-col=category]').textContent();
  t.assert(category === CATEGORY, `the category cell reads ${JSON.stringify(category)}; want ${JSON.stringify(CATEGORY)}`);

  const searches = await t.api('searches', { include_bots: 1, limit: 100, from, to: today }, token);
  t.assert(searches.searches.some((s) => s.query === FOUND) && searches.zero_result_searches.some((s) => s.query === NOTHING),
    `precondition: the API lists both queries (${JSON.stringify(searches.searches.map((s) => s.query))})`);
  // The demo's 20 queries fill "Top searches"; one of each is further down.
  const more = page.waitForResponse((r) => r.url().includes('/searches?'));
  await page.click('button:has-text("Show 100")');
  await more;
  await page.locator('[data-test=top-searches] li').nth(20).waitFor();
  const top = await page.locator('[data-test=top-searches] li').allTextContents();
  t.assert(top.some((x) => x.includes(FOUND)), `"Top searches" does not show ${FOUND} as text: ${JSON.stringify(top)}`);
  t.assert(top.some((x) => x.includes(NOTHING)), `"Top searches" does not show ${NOTHING} as text: ${JSON.stringify(top)}`);
  const zero = await page.locator('[data-test=zero-searches] li').allTextContents();
  t.assert(zero.some((x) => x.includes(NOTHING)), `"Searches with no results" does not show ${NOTHING} as text: ${JSON.stringify(zero)}`);

  // The article's detail: its heading and the searches made on it.
  await row.click();
  await page.locator('[data-test=detail] h2').filter({ hasText: '<script>' }).waitFor();
  const heading = await page.textContent('[data-test=detail] h2');
  t.assert(heading === TITLE, `the detail's heading reads ${JSON.stringify(heading)}`);
  const sub = await page.textContent('[data-test=detail] .dh p');
  t.assert(sub.includes(CATEGORY), `the detail's subtitle does not show the category as text: ${JSON.stringify(sub)}`);
  const here = page.locator('[data-test=detail] li').filter({ hasText: FOUND });
  await here.first().waitFor();
  await page.waitForLoadState('networkidle');

  const seen = await injected(page);
  t.assert(seen.found.length === 0, `elements made from the strings: ${seen.found.join(', ')}`);
  t.assert(seen.pwned === undefined, `window.__pwned is ${seen.pwned}: markup from the data ran`);
  t.assert(seen.scripts === 1 && seen.imgs === 0, `the page has ${seen.scripts} script and ${seen.imgs} img elements; want its own 1 and 0`);
}
