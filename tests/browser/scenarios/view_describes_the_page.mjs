// The view stored at load describes the page: path without the query string,
// title, category (<meta name="dwell:category">), word count of <article>,
// language; it is sent with wire version 2 and without a screen width
// (nothing reads it: wire 2 leaves it out); and, as the test browser is
// automated (navigator.webdriver), it is flagged bot and automated.
export default async function (t) {
  const page = t.page;
  await t.open(page, 'long-article.html?utm_source=newsletter&id=42');
  const seen = await page.evaluate(() => ({
    title: document.title,
    lang: navigator.language,
    words: (document.querySelector('article').innerText.match(/\S+/g) || []).length,
    webdriver: navigator.webdriver,
  }));
  t.assert(seen.webdriver === true, 'precondition: navigator.webdriver is true');

  const events = await t.waitFor((ev) => ev.some((e) => e.type === 'view'), 'a view stored');
  const views = events.filter((e) => e.type === 'view');
  t.assert(views.length === 1, `views stored: ${views.length}, want 1`);
  const v = views[0];
  const want = {
    path: '/demo/long-article.html',
    title: seen.title,
    category: 'billing',
    lang: seen.lang,
    screen_width: 0,
    wire: 2,
    bot: true,
    automated: true,
  };
  for (const [k, value] of Object.entries(want)) {
    t.assert(v[k] === value, `stored view ${k}: ${JSON.stringify(v[k])}, want ${JSON.stringify(value)}`);
  }
  t.assert(/^[A-Za-z0-9_-]{8,32}$/.test(v.view), `view id ${JSON.stringify(v.view)}: want 8–32 of [A-Za-z0-9_-]`);
  t.assert(seen.words === 1500, `precondition: the fixture's article has 1500 words (has ${seen.words})`);
  t.near(v.words, 1500, 15, 'stored word count of the article');
}
