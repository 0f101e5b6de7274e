// The report page (/report/SITE#token=…) over two months of demo traffic shows
// the API's numbers: every visible row of the articles table has the views,
// visitors and median engaged time that /articles answers for the range the
// page shows, in the API's order, and the views card is the summary's total.
// Keeps a desktop and a phone-width full-page screenshot in tests/out/browser/,
// and the first screen at 1280 × 720 (README's picture: `make screenshot`).
export async function setup(s) {
  await s.cli('demo', s.site, '--days', '60', '--seed', '5');
  return { token: await s.cli('token', 'create', s.site, '--read-only') };
}

const nf = new Intl.NumberFormat('en-US');

/* Seconds shown by the page's duration format (45s, 1m 05s, 1h 02m). */
function shownSeconds(text) {
  let m;
  if ((m = /^(\d+)s$/.exec(text))) return +m[1];
  if ((m = /^(\d+)m (\d\d)s$/.exec(text))) return +m[1] * 60 + +m[2];
  if ((m = /^(\d+)h (\d\d)m$/.exec(text))) return +m[1] * 3600 + +m[2] * 60;
  return NaN;
}

async function openReport(t, page) {
  await page.goto(`${t.origin}/report/${t.site}#token=${encodeURIComponent(t.fixture.token)}`);
  await page.waitForFunction(() => ['main', 'tw'].every((id) =>
    document.getElementById(id).getAttribute('aria-busy') === 'false'));
}

/* The rows of the articles table a reader can see, cell by cell. */
function visibleRows(page) {
  return page.locator('[data-test=articles] [data-test=row]').filter({ visible: true }).evaluateAll((trs) =>
    trs.map((tr) => {
      const cell = (col) => {
        const td = tr.querySelector(`[data-col=${col}]`);
        return td ? { value: td.getAttribute('data-value'), text: td.textContent.trim() } : null;
      };
      return {
        id: tr.getAttribute('data-id'), title: cell('title').text,
        views: cell('views'), visitors: cell('visitors'), engaged_p50: cell('engaged_p50'),
      };
    }));
}

export default async function (t) {
  const token = t.fixture.token;
  const page = t.page;
  await openReport(t, page);

  const range = { from: await page.inputValue('[data-test=from]'), to: await page.inputValue('[data-test=to]') };
  // the default: the 30 full days before today (UTC); today is shown apart
  const day = (n) => new Date(Date.now() - n * 864e5).toISOString().slice(0, 10);
  const yesterday = day(1), monthAgo = day(30);
  t.assert(range.to === yesterday && range.from === monthAgo,
    `the page shows ${range.from} – ${range.to}; want the default 30 full days, ${monthAgo} – ${yesterday}`);
  const todays = await t.api('summary', { from: day(0), to: day(0) }, token);
  await page.waitForSelector('[data-test=today]:not([hidden])');
  const shownToday = await page.getAttribute('[data-test=today-views]', 'data-value');
  t.assert(shownToday === String(todays.totals.views),
    `"Today so far" shows ${shownToday} views; the API has ${todays.totals.views} for ${day(0)}`);

  const [summary, list] = await Promise.all([
    t.api('summary', range, token),
    t.api('articles', { ...range, sort: 'views', order: 'desc', limit: 50 }, token),
  ]);
  t.assert(list.articles.length >= 10, `precondition: the demo month has articles (API: ${list.articles.length})`);

  const rows = await visibleRows(page);
  t.assert(rows.length === list.articles.length,
    `visible rows: ${rows.length}; the API lists ${list.articles.length} articles (of ${list.total})`);
  const shownOrder = rows.map((r) => r.id).join(' ');
  const apiOrder = list.articles.map((a) => a.id).join(' ');
  t.assert(shownOrder === apiOrder, `row order ${shownOrder}\n  is not the API's ${apiOrder}`);

  rows.forEach((row, i) => {
    const a = list.articles[i];
    const where = `row ${i + 1} (${a.path})`;
    t.assert(row.title === (a.title || a.path), `${where}: title ${JSON.stringify(row.title)}, API ${JSON.stringify(a.title)}`);
    for (const [col, key] of [['views', 'views'], ['visitors', 'visitors'], ['engaged_p50', 'engaged_p50_ms']]) {
      t.assert(row[col] && row[col].value === String(a[key]),
        `${where}: ${col} data-value ${row[col] && row[col].value}, API ${key} ${a[key]}`);
    }
    t.assert(row.views.text === nf.format(a.views), `${where}: views shown as "${row.views.text}", API ${a.views}`);
    t.assert(row.visitors.text === nf.format(a.visitors), `${where}: visitors shown as "${row.visitors.text}", API ${a.visitors}`);
    const secs = shownSeconds(row.engaged_p50.text);
    const want = Math.round(a.engaged_p50_ms / 1000);
    t.assert(want >= 3600 ? Math.abs(secs - want) < 60 : secs === want,
      `${where}: median time shown as "${row.engaged_p50.text}", API ${a.engaged_p50_ms} ms`);
  });

  const total = page.locator('[data-test=total-views]');
  const shownTotal = { value: await total.getAttribute('data-value'), text: (await total.textContent()).trim() };
  t.assert(shownTotal.value === String(summary.totals.views) && shownTotal.text === nf.format(summary.totals.views),
    `views card: ${shownTotal.text} (data-value ${shownTotal.value}); API summary totals.views ${summary.totals.views}`);
  t.assert(summary.from === range.from && summary.to === range.to, `the summary's range ${summary.from} – ${summary.to}`);

  await page.screenshot({ path: t.outFile('report-page.png'), fullPage: true });
  await page.screenshot({ path: t.outFile('report-page-top.png') });

  // The same report on a phone: the same rows, and nothing wider than the
  // screen except the table, which scrolls inside its own box.
  const phone = await (await t.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
  await openReport(t, phone);
  const phoneRows = await visibleRows(phone);
  t.assert(phoneRows.map((r) => r.id).join(' ') === apiOrder, `phone: rows ${phoneRows.length}, not the API's ${list.articles.length} in its order`);
  t.assert(phoneRows.every((r, i) => r.views.value === String(list.articles[i].views)), 'phone: views differ from the API');
  await phone.screenshot({ path: t.outFile('report-page-phone.png'), fullPage: true });
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  t.assert(width <= 390, `phone: the page is ${width} px wide on a 390 px screen (scrolls sideways)`);
}
