// The report page holds no data: without a token it asks for one, with an
// unknown token it shows the API's 401, with another site's token its 403,
// and in none of these cases a row of the articles table. A valid token
// pasted into its form opens the report.
export async function setup(s) {
  await s.cli('demo', s.site, '--days', '30', '--seed', '5');
  await s.cli('site', 'add', 'other.test');
  return {
    token: await s.cli('token', 'create', s.site, '--read-only'),
    other: await s.cli('token', 'create', 'other.test', '--read-only'),
  };
}

/* Opens the report with TOKEN (none when null) and waits for the token form
   to show; returns what the reader sees. */
async function refused(t, page, token) {
  await page.goto(`${t.origin}/report/${t.site}${token ? `#token=${encodeURIComponent(token)}` : ''}`);
  await page.locator('#auth').waitFor({ state: 'visible' });
  await page.waitForLoadState('networkidle');
  return {
    message: (await page.textContent('#authmsg')).trim(),
    input: await page.locator('#auth input#tok').isVisible(),
    rows: await page.locator('[data-test=row]').count(),
    table: await page.locator('[data-test=articles]').isVisible(),
    totals: await page.locator('[data-test=total-views]').count(),
  };
}

function nothingShown(t, seen, what) {
  t.assert(seen.input, `${what}: no visible field to paste a token into`);
  t.assert(seen.rows === 0 && !seen.table && seen.totals === 0,
    `${what}: the page shows data (${seen.rows} rows, table ${seen.table ? 'visible' : 'hidden'}, ${seen.totals} totals)`);
}

export default async function (t) {
  const { token, other } = t.fixture;
  const page = t.page;

  // No token.
  const none = await refused(t, page, null);
  nothingShown(t, none, 'without a token');
  t.assert(/needs an access token/i.test(none.message), `without a token the page says ${JSON.stringify(none.message)}`);
  const noneApi = await t.apiGet('summary', {}, null);
  t.assert(noneApi.status === 401, `precondition: the API answers ${noneApi.status} without a token`);

  // A token of the right shape that the server does not know.
  const wrong = `dw_${'x'.repeat(32)}`;
  const wrongApi = await t.apiGet('summary', {}, wrong);
  t.assert(wrongApi.status === 401, `precondition: the API answers ${wrongApi.status} to an unknown token`);
  const bad = await refused(t, page, wrong);
  nothingShown(t, bad, 'with an unknown token');
  t.assert(/not accepted/.test(bad.message) && bad.message.includes(wrongApi.json.error),
    `with an unknown token the page says ${JSON.stringify(bad.message)}; the API's 401: ${JSON.stringify(wrongApi.json.error)}`);

  // Another site's token.
  const otherApi = await t.apiGet('summary', {}, other);
  t.assert(otherApi.status === 403, `precondition: the API answers ${otherApi.status} to other.test's token`);
  const foreign = await refused(t, page, other);
  nothingShown(t, foreign, "with another site's token");
  t.assert(foreign.message.includes(`may not read the site “${t.site}”`) && foreign.message.includes(otherApi.json.error),
    `with another site's token the page says ${JSON.stringify(foreign.message)}; the API's 403: ${JSON.stringify(otherApi.json.error)}`);

  // The site's token pasted into the form opens the report.
  await page.fill('#tok', token);
  await page.locator('#auth button[type=submit]').click();
  await page.locator('[data-test=articles] [data-test=row]').first().waitFor();
  t.assert(await page.locator('#auth').isHidden(), 'the token form stays open after a valid token');
  const rows = await page.locator('[data-test=articles] [data-test=row]').count();
  const list = await t.api('articles', { from: await page.inputValue('[data-test=from]'), to: await page.inputValue('[data-test=to]') }, token);
  t.assert(rows === list.articles.length, `with the pasted token: ${rows} rows, the API lists ${list.articles.length}`);
}
