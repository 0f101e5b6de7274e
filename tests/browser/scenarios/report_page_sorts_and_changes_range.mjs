// On the report page a click on the Views header sorts the articles by views
// ascending, a second one descending (the rows' order is the API's for that
// sort); the 7-day preset asks for the 7 full days before today and shows the
// API's totals and rows for them, and a custom From/To + Apply shows that
// range's.
export async function setup(s) {
  await s.cli('demo', s.site, '--days', '30', '--seed', '5');
  return { token: await s.cli('token', 'create', s.site, '--read-only') };
}

const DAY = 864e5;
function dayOffset(today, n) {
  return new Date(Date.parse(`${today}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
}

function settled(page) {
  return page.waitForFunction(() => ['main', 'tw'].every((id) =>
    document.getElementById(id).getAttribute('aria-busy') === 'false'));
}

/* Runs ACTION (a click) and waits until the page has the API's answer for
   the report whose URL contains every string of PARTS, and has drawn it. */
async function andWait(page, action, ...parts) {
  const answer = page.waitForResponse((r) => r.url().includes('/api/v1/') && parts.every((p) => r.url().includes(p)));
  await action();
  await answer;
  await settled(page);
}

function visibleRows(page) {
  return page.locator('[data-test=articles] [data-test=row]').filter({ visible: true }).evaluateAll((trs) =>
    trs.map((tr) => {
      const v = (col) => tr.querySelector(`[data-col=${col}]`)?.getAttribute('data-value') ?? null;
      return { id: tr.getAttribute('data-id'), views: v('views'), visitors: v('visitors'), engaged_p50: v('engaged_p50') };
    }));
}

async function shownRange(page) {
  return { from: await page.inputValue('[data-test=from]'), to: await page.inputValue('[data-test=to]') };
}

/* The visible rows and the views card are the API's for RANGE, sorted by
   views in ORDER. Returns the summary. */
async function matchesApi(t, page, range, order, what) {
  const token = t.fixture.token;
  const [summary, list] = await Promise.all([
    t.api('summary', range, token),
    t.api('articles', { ...range, sort: 'views', order, limit: 50 }, token),
  ]);
  const rows = await visibleRows(page);
  t.assert(rows.length === list.articles.length, `${what}: ${rows.length} rows shown; the API lists ${list.articles.length}`);
  const shown = rows.map((r) => r.id).join(' ');
  const want = list.articles.map((a) => a.id).join(' ');
  t.assert(shown === want, `${what}: row order ${shown}\n  is not the API's (views ${order}) ${want}`);
  rows.forEach((r, i) => {
    const a = list.articles[i];
    t.assert(r.views === String(a.views) && r.visitors === String(a.visitors) && r.engaged_p50 === String(a.engaged_p50_ms),
      `${what}: ${a.path} shows views/visitors/median ${r.views}/${r.visitors}/${r.engaged_p50}; ` +
      `API ${a.views}/${a.visitors}/${a.engaged_p50_ms}`);
  });
  const total = await page.getAttribute('[data-test=total-views]', 'data-value');
  t.assert(total === String(summary.totals.views), `${what}: views card ${total}; API totals.views ${summary.totals.views}`);
  return summary;
}

function isSorted(values, order) {
  for (let i = 1; i < values.length; i++) {
    if (order === 'asc' ? values[i - 1] > values[i] : values[i - 1] < values[i]) return false;
  }
  return true;
}

export default async function (t) {
  const page = t.page;
  await page.goto(`${t.origin}/report/${t.site}#token=${encodeURIComponent(t.fixture.token)}`);
  await settled(page);
  const month = await shownRange(page);
  const today = new Date().toISOString().slice(0, 10);
  t.assert(month.to === dayOffset(today, -1) && month.from === dayOffset(today, -30),
    `at load From/To show ${month.from} – ${month.to}; want the 30 full days before today, ${dayOffset(today, -30)} – ${dayOffset(today, -1)}`);
  const monthSummary = await matchesApi(t, page, month, 'desc', 'at load (30 days)');

  // Sorting by the Views header.
  const views = page.locator('[data-test=articles] thead button[data-sort=views]');
  for (const order of ['asc', 'desc']) {
    await andWait(page, () => views.click(), '/articles?', 'sort=views', `order=${order}`);
    const values = (await visibleRows(page)).map((r) => Number(r.views));
    t.assert(values.length > 1 && isSorted(values, order), `after a click on Views the views are not ${order}: ${values.join(', ')}`);
    const aria = await page.getAttribute('[data-test=articles] th:has(button[data-sort=views])', 'aria-sort');
    t.assert(aria === (order === 'asc' ? 'ascending' : 'descending'), `Views header aria-sort ${aria} when sorted ${order}`);
    await matchesApi(t, page, month, order, `sorted by views ${order}`);
  }
  const ascending = (await visibleRows(page)).map((r) => Number(r.views));
  t.assert(ascending[0] > ascending[ascending.length - 1], 'precondition: the views of the articles differ');

  // The 7-day preset: the page asks for 7 days, the server decides them (the 7 before today).
  const week = { from: dayOffset(today, -7), to: dayOffset(today, -1) };
  const asked = page.waitForRequest((r) => r.url().includes('/summary?'));
  await andWait(page, () => page.click('[data-test=preset-7]'), '/summary?', 'days=7');
  const q = new URL((await asked).url()).searchParams;
  t.assert(q.get('days') === '7' && !q.has('from') && !q.has('to'), `"7 days" asked for ${q}; want days=7 and no dates`);
  const shownWeek = await shownRange(page);
  t.assert(shownWeek.from === week.from && shownWeek.to === week.to,
    `after "7 days" From/To show ${shownWeek.from} – ${shownWeek.to}; want ${week.from} – ${week.to}`);
  t.assert(await page.getAttribute('[data-test=preset-7]', 'aria-pressed') === 'true', '"7 days" is not shown as pressed');
  const weekSummary = await matchesApi(t, page, week, 'desc', '7 days');
  t.assert(weekSummary.totals.views < monthSummary.totals.views,
    `precondition: 7 days have fewer views (${weekSummary.totals.views}) than 30 (${monthSummary.totals.views})`);

  // A custom range: 10 days ending 11 days ago.
  const custom = { from: dayOffset(today, -20), to: dayOffset(today, -11) };
  await page.fill('[data-test=from]', custom.from);
  await page.fill('[data-test=to]', custom.to);
  await andWait(page, () => page.click('[data-test=apply]'), '/summary?', `from=${custom.from}`, `to=${custom.to}`);
  const shownCustom = await shownRange(page);
  t.assert(shownCustom.from === custom.from && shownCustom.to === custom.to,
    `after Apply From/To show ${shownCustom.from} – ${shownCustom.to}; want ${custom.from} – ${custom.to}`);
  const customSummary = await matchesApi(t, page, custom, 'desc', `${custom.from} – ${custom.to}`);
  t.assert(customSummary.totals.views !== weekSummary.totals.views && customSummary.totals.views > 0,
    `precondition: the custom range has its own views (${customSummary.totals.views}; 7 days: ${weekSummary.totals.views})`);
  const caption = await page.textContent('#cmp');
  t.assert(caption.includes('(10 days, UTC)'), `the range caption says "${caption}"; want 10 days`);
  const pressed = await page.locator('[data-days][aria-pressed=true]').count();
  t.assert(pressed === 0, `${pressed} preset(s) still shown as pressed for a custom range`);
  const url = new URL(page.url());
  t.assert(url.searchParams.get('from') === custom.from && url.searchParams.get('to') === custom.to,
    `the page's address does not keep the range: ${url.search}`);
}
