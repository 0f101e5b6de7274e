// The report page keeps its token out of every URL: opened with #token=…
// (a fragment never reaches a server, a log or a Referer) it takes the
// token out of the address at once, still shows the report after a reload
// (sessionStorage of this tab), sends it only as an Authorization header,
// downloads CSV without it in a URL, and an old ?token= link still opens
// the report, leaving no token in the address either. Its CSP holds: no
// violation is reported, and another page cannot frame it.
export async function setup(s) {
  await s.cli('demo', s.site, '--days', '30', '--seed', '5');
  return { token: await s.cli('token', 'create', s.site, '--read-only') };
}

const rows = '[data-test=articles] [data-test=row]';

export default async function (t) {
  const { token } = t.fixture;
  const page = t.page;
  const seen = [];       // every request the page made: url and Referer
  const csp = [];        // console messages about the Content-Security-Policy
  page.on('request', (r) => seen.push({ url: r.url(), referer: r.headers().referer }));
  page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) csp.push(m.text()); });

  await page.goto(`${t.origin}/report/${t.site}#token=${encodeURIComponent(token)}`);
  await page.locator(rows).first().waitFor();
  t.assert(!page.url().includes(token) && !/token/.test(page.url()),
    `the token is still in the address: ${page.url()}`);

  await page.reload();
  await page.locator(rows).first().waitFor();
  t.assert(await page.locator('#auth').isHidden(), 'after a reload the page asks for the token again');
  t.assert(!/token/.test(page.url()), `after a reload the address holds a token: ${page.url()}`);

  // CSV: fetched with the header (then saved from a blob), no token in a URL
  const [res] = await Promise.all([page.waitForResponse((r) => r.url().includes('/articles.csv?')), page.click('[data-test=csv]')]);
  t.assert(res.status() === 200 && /^Bearer dw_/.test(res.request().headers().authorization || ''),
    `the CSV download: ${res.status()}, Authorization ${JSON.stringify(res.request().headers().authorization)}`);
  t.assert((res.headers()['content-type'] || '').startsWith('text/csv'), `the CSV download is ${res.headers()['content-type']}`);
  t.assert(await page.locator('#msg').isHidden(), `the CSV download shows an error: ${await page.textContent('#msg')}`);
  const href = await page.getAttribute('[data-test=csv]', 'href');
  t.assert(!href.includes(token) && !/token=/.test(href), `the CSV link carries the token: ${href}`);

  // an old link: ?token= in the query still opens the report, once
  await page.goto(`${t.origin}/report/${t.site}?days=7&token=${encodeURIComponent(token)}`);
  await page.locator(rows).first().waitFor();
  const u = new URL(page.url());
  t.assert(!u.searchParams.has('token') && !page.url().includes(token) && u.searchParams.get('days') === '7',
    `an old ?token= link leaves the address ${page.url()}`);

  const leaks = seen.filter((r) => r.url.includes(token) && !r.url.includes('?days=7&token='));
  t.assert(leaks.length === 0, `requests with the token in their URL: ${leaks.map((r) => r.url).join(', ')}`);
  const api = seen.filter((r) => r.url.includes('/api/v1/'));
  t.assert(api.length >= 5, `only ${api.length} API requests seen`);
  const referred = seen.filter((r) => r.referer);
  t.assert(referred.length === 0, `requests sent a Referer: ${referred.map((r) => `${r.url} ← ${r.referer}`).join(', ')}`);
  t.assert(csp.length === 0, `the page broke its own CSP: ${csp.join(' | ')}`);

  // another page cannot frame the report
  const other = await t.context.newPage();
  await other.goto(`${t.origin}/demo/`);
  await other.evaluate((src) => new Promise((ok) => {
    const f = document.createElement('iframe');
    f.src = src; f.onload = ok; setTimeout(ok, 3000); document.body.appendChild(f);
  }), `${t.origin}/report/${t.site}`);
  const framed = other.frames().filter((f) => f !== other.mainFrame());
  let shown = 0;
  for (const f of framed) {
    try { shown += await f.locator('#site').count(); } catch { /* the blocked frame's error page */ }
  }
  t.assert(framed.length === 1 && shown === 0, `the report page shows inside another page's frame (${framed.length} frames, ${shown} report headers)`);
  await other.close();
}
