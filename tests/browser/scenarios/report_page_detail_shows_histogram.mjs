// A click on a row of the report's articles table opens the article's detail:
// its title and path as the API has them, its views, and a read-time
// histogram whose bars hold exactly the views of the API's histogram.
// Escape closes it.
export async function setup(s) {
  await s.cli('demo', s.site, '--days', '30', '--seed', '5');
  return { token: await s.cli('token', 'create', s.site, '--read-only') };
}

const nf = new Intl.NumberFormat('en-US');

export default async function (t) {
  const token = t.fixture.token;
  const page = t.page;
  await page.goto(`${t.origin}/report/${t.site}#token=${encodeURIComponent(token)}`);
  await page.waitForFunction(() => ['main', 'tw'].every((id) =>
    document.getElementById(id).getAttribute('aria-busy') === 'false'));
  const range = { from: await page.inputValue('[data-test=from]'), to: await page.inputValue('[data-test=to]') };

  // The second row: an article under /kb/ (the first is the demo's /search).
  const row = page.locator('[data-test=articles] [data-test=row]').nth(1);
  const id = await row.getAttribute('data-id');
  const d = await t.api(`articles/${id}`, range, token);
  const a = d.article;
  t.assert(a.path.startsWith('/kb/'), `precondition: the second row is a /kb/ article (${a.path})`);
  const apiCount = d.histogram.reduce((n, b) => n + b.count, 0);
  t.assert(apiCount > 0, `precondition: the API's histogram of ${a.path} is empty`);

  await row.locator('[data-col=title]').click();
  const detail = page.locator('[data-test=detail]');
  await detail.waitFor({ state: 'visible' });
  const hist = detail.locator('svg[data-test=histogram]');
  await hist.waitFor({ state: 'visible' });

  const heading = (await detail.locator('h2#dt').textContent()).trim();
  t.assert(heading === a.title, `the detail's heading is ${JSON.stringify(heading)}; the API's title ${JSON.stringify(a.title)}`);
  const sub = (await detail.locator('.dh p').textContent()).trim();
  t.assert(sub.startsWith(a.path), `the detail's subtitle ${JSON.stringify(sub)} does not start with the path ${a.path}`);
  t.assert(new URL(page.url()).searchParams.get('article') === id, `the page's address does not name the open article: ${page.url()}`);
  const views = (await detail.locator('.cards .card').first().locator('.v').textContent()).trim();
  t.assert(views === nf.format(a.views), `the detail's Views card says ${views}; the API ${a.views}`);

  const bars = await hist.locator('rect.hb').evaluateAll((rs) => rs.map((r) => ({
    count: Number(r.getAttribute('data-count')),
    height: Number(r.getAttribute('height')),
    width: r.getBoundingClientRect().width,
  })));
  t.assert(bars.length >= 1, 'the histogram has no bar');
  const drawn = bars.filter((b) => b.count > 0);
  t.assert(drawn.length >= 1 && drawn.every((b) => b.height > 0 && b.width > 0),
    `the histogram's bars with views are not drawn: ${JSON.stringify(drawn.slice(0, 5))}`);
  const shownCount = bars.reduce((n, b) => n + b.count, 0);
  t.assert(shownCount === apiCount, `the histogram's bars hold ${shownCount} views; the API's buckets ${apiCount}`);

  await page.keyboard.press('Escape');
  await detail.waitFor({ state: 'hidden' });
}
