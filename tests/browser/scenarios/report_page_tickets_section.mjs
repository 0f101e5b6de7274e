// The report page's "Tickets after reading" section over 90 days of demo
// traffic and tickets shows the API's numbers for the page's range and
// window: the site numbers, beside the rates how many tickets are linked to a
// reader at all (of all the range's tickets), each rate labelled as the lower
// bound it is ("at least X%" under "Contacted support within 24 hours"), no
// deflection column, the rows in the order of the number shown (both ways),
// /kb/refund-policy's contact rate (the demo plants
// ~40 %) at the top of the articles, every topic's best lag and verdict (the
// demo plants "accounts" tickets falling 2 days after its reads), and the top
// searches followed by a ticket with the zero-result ones marked. The 7 d and
// 30 min windows refetch and show the API's values for them, the window is
// kept in the address, the ticket lookup lists the API's reads, and a site
// without tickets gets the empty state. Keeps tests/out/browser/report-tickets.png.
export async function setup(s) {
  await s.cli('demo', s.site, '--days', '90', '--seed', '4');
  await s.cli('site', 'add', 'quiet.test');
  return {
    token: await s.cli('token', 'create', s.site, '--read-only'),
    quietToken: await s.cli('token', 'create', 'quiet.test', '--read-only'),
  };
}

const nf = new Intl.NumberFormat('en-US');
/* The page's formats: percentages (one decimal below 10 %), counts. */
const pct = (r) => (r == null ? '—' : `${r * 100 > 0 && r * 100 < 10 ? (r * 100).toFixed(1) : Math.round(r * 100)}%`);
const num = (v) => (v == null ? '—' : nf.format(v));

function settled(page) {
  return page.waitForFunction(() => ['main', 'tw', 'tk'].every((id) =>
    document.getElementById(id).getAttribute('aria-busy') === 'false'));
}

/* Waits until the ticket lookup has drawn its answer (the response can
   arrive before the page's script has handled it). */
function answered(page) {
  return page.waitForFunction(() => {
    const ol = document.querySelector('[data-test=ticket-reads]');
    return ol && ol.textContent.trim() !== 'Loading…';
  });
}

/* Runs ACTION and waits until the page has the deflection, topics and gaps
   answers for window W and has drawn them. */
async function andWaitWindow(page, action, w) {
  const answers = ['contact-after-read', 'topics', 'gaps'].map((k) => page.waitForResponse((r) =>
    r.url().includes(`/${k}?`) && new URL(r.url()).searchParams.get('window') === w));
  await action();
  await Promise.all(answers);
  await settled(page);
}

/* What the section shows: site numbers, article rows, topics, gaps. */
function shown(page) {
  return page.locator('[data-test=tickets]').evaluate((sec) => {
    const val = (el) => (el ? { value: el.getAttribute('data-value'), text: el.textContent.trim() } : null);
    const numbers = {};
    for (const k of ['tickets', 'linked', 'share', 'score', 'per1000']) numbers[k] = val(sec.querySelector(`[data-test=tk-${k}]`));
    const rows = [...sec.querySelectorAll('[data-test=deflection-row]')].map((tr) => {
      const c = {};
      for (const td of tr.querySelectorAll('td[data-col]')) c[td.getAttribute('data-col')] = val(td);
      return { path: tr.getAttribute('data-path'), id: tr.getAttribute('data-id'), ...c };
    });
    const topics = [...sec.querySelectorAll('[data-test=topic]')].map((el) => ({
      category: el.getAttribute('data-category'),
      lag: el.getAttribute('data-lag'),
      verdict: el.querySelector('[data-test=verdict]').textContent.trim(),
      marked: [...el.querySelectorAll('rect.b3')].map((r) => r.getAttribute('data-lag')),
      label: el.querySelector('[data-test=best-lag]')?.textContent.trim() ?? null,
      r: el.querySelector('[data-test=topic-r]')?.getAttribute('data-value') ?? null,
    }));
    const gaps = [...sec.querySelectorAll('[data-test=gap]')].map((li) => ({
      query: li.getAttribute('data-query'), tickets: li.getAttribute('data-value'),
      zero: li.getAttribute('data-zero') === '1', text: li.querySelector('.lb span').textContent,
      tag: li.querySelector('.tag')?.textContent ?? null,
    }));
    const ls = sec.querySelector('[data-test=linked-share]');
    const linked = ls && {
      linked: ls.getAttribute('data-linked'), tickets: ls.getAttribute('data-tickets'),
      share: ls.getAttribute('data-share'), text: ls.textContent.trim(), visible: ls.offsetParent !== null,
    };
    const heads = [...sec.querySelectorAll('[data-test=deflection] thead th button[data-dsort]')].map((th) => th.textContent.replace(/[\u00a0▲▼]/g, '').trim());
    const cols = [...new Set([...sec.querySelectorAll('[data-test=deflection-row] td[data-col]')].map((td) => td.getAttribute('data-col')))];
    // an ⓘ on every card, column and panel of the section (the key it opens)
    const infos = [...sec.querySelectorAll('#tkn .card, [data-test=deflection] thead th, h3')]
      .map((el) => el.querySelector('button.ib')?.getAttribute('data-info') ?? null);
    return { numbers, rows, topics, gaps, linked, heads, cols, infos };
  });
}

/* The section shows the API's answers D (deflection), T (topics), G (gaps). */
function matches(t, s, d, tp, g, what) {
  const n = d.site_numbers;
  for (const [k, key, fmt] of [['tickets', 'tickets', num], ['linked', 'linked_tickets', num],
    ['share', 'share_of_tickets_after_reading', pct], ['score', 'self_service_score', (v) => (v == null ? '—' : v.toFixed(1))],
    ['per1000', 'tickets_per_1000_views', (v) => (v == null ? '—' : v.toFixed(1))]]) {
    t.assert(s.numbers[k] && s.numbers[k].value === String(n[key]) && s.numbers[k].text === fmt(n[key]),
      `${what}: the ${k} card shows ${s.numbers[k]?.text} (data-value ${s.numbers[k]?.value}); API ${key} ${n[key]}`);
  }
  // how many tickets the rates can see, beside them: the API's linked share
  const ls = d.linked_share;
  t.assert(ls && ls.tickets === n.tickets && ls.linked_tickets === n.linked_tickets && ls.linked_tickets < ls.tickets &&
    Math.abs(ls.share - ls.linked_tickets / ls.tickets) < 1e-4,
  `${what}: API linked_share ${JSON.stringify(ls)} against ${n.linked_tickets} linked of ${n.tickets} tickets`);
  t.assert(s.linked && s.linked.visible && s.linked.linked === String(ls.linked_tickets) && s.linked.tickets === String(ls.tickets) &&
    s.linked.share === String(ls.share) &&
    s.linked.text.includes(`${num(ls.linked_tickets)} of ${num(ls.tickets)} tickets (${pct(ls.share)})`) &&
    s.linked.text.includes(`The other ${num(ls.tickets - ls.linked_tickets)} cannot`) && s.linked.text.includes('lower bound'),
  `${what}: the linked share beside the rates says "${s.linked?.text}" (${JSON.stringify(s.linked)}); API ${JSON.stringify(ls)}`);
  t.assert(s.infos.length >= 12 && s.infos.every((k) => k), `${what}: cards, columns or panels without an ⓘ: ${JSON.stringify(s.infos)}`);
  // the rate as a lower bound, in the window chosen; no deflection anywhere
  const win = { '30m': '30 minutes', '24h': '24 hours', '7d': '7 days' }[d.window];
  t.assert(s.heads.join('|') === `Article|Contacted support within ${win}|Views|Tickets after|Median read → ticket`,
    `${what}: the columns are ${s.heads.join(' | ')}`);
  t.assert(!s.cols.includes('deflection') && !s.heads.some((x) => /deflect/i.test(x)) && !d.articles.some((a) => 'deflection' in a),
    `${what}: a deflection column is still there (cells ${s.cols.join(',')}, headers ${s.heads.join(',')})`);
  // the rows in the order of the number shown, highest first
  const shownRates = s.rows.map((r) => Number(r.contact_rate.value));
  t.assert(shownRates.every((v, i) => i === 0 || shownRates[i - 1] >= v),
    `${what}: rows not sorted by the rate shown: ${s.rows.map((r) => `${r.path} ${r.contact_rate.text}`).join(', ')}`);
  const api = new Map(d.articles.map((a) => [a.path, a]));
  t.assert(s.rows.length === Math.min(15, d.articles.length), `${what}: ${s.rows.length} article rows; the API has ${d.articles.length}`);
  t.assert(s.rows.map((r) => r.path).join(' ') === d.articles.slice(0, 15).map((a) => a.path).join(' '),
    `${what}: rows ${s.rows.map((r) => r.path).join(' ')}; the API's first 15 ${d.articles.slice(0, 15).map((a) => a.path).join(' ')}`);
  for (const row of s.rows) {
    const a = api.get(row.path);
    t.assert(a, `${what}: row ${row.path} is not in the API's articles`);
    t.assert(row.id === a.id, `${what}: ${row.path} has id ${row.id}; API ${a.id}`);
    t.assert(row.contact_rate.value === String(a.contact_after_read) && row.contact_rate.text === `at least ${pct(a.contact_after_read)}`,
      `${what}: ${row.path} contact rate "${row.contact_rate.text}" (${row.contact_rate.value}); API ${a.contact_after_read}`);
    t.assert(row.views.value === String(a.views) && row.tickets.value === String(a.followed_by_ticket),
      `${what}: ${row.path} views/tickets ${row.views.value}/${row.tickets.value}; API ${a.views}/${a.followed_by_ticket}`);
    t.assert(a.median_read_to_ticket_s == null ? row.median.text === '—' && row.median.value === null
      : row.median.value === String(a.median_read_to_ticket_s),
    `${what}: ${row.path} median "${row.median.text}" (${row.median.value}); API ${a.median_read_to_ticket_s}`);
  }
  t.assert(s.topics.length === tp.topics.length, `${what}: ${s.topics.length} topics shown; the API has ${tp.topics.length}`);
  for (const x of tp.topics) {
    const el = s.topics.find((y) => y.category === x.category);
    t.assert(el, `${what}: no topic block for ${x.category}`);
    const lag = x.best_lag_days == null ? null : String(x.best_lag_days);
    t.assert(el.lag === lag, `${what}: topic ${x.category} best lag ${el.lag}; API ${lag}`);
    t.assert(el.verdict === x.verdict, `${what}: topic ${x.category} says "${el.verdict}"; API "${x.verdict}"`);
    if (lag != null) {
      t.assert(el.marked.length === 1 && el.marked[0] === lag && el.label === `▼ ${lag} d`,
        `${what}: topic ${x.category} marks lag(s) ${el.marked.join(',')} ("${el.label}"); API best lag ${lag}`);
      t.assert(el.r === String(x.r), `${what}: topic ${x.category} r ${el.r}; API ${x.r}`);
    }
  }
  const top = g.gaps.slice(0, 10);
  t.assert(s.gaps.length === top.length, `${what}: ${s.gaps.length} gaps shown; the API's top ${top.length}`);
  top.forEach((x, i) => {
    const el = s.gaps[i];
    t.assert(el.query === x.query && el.text === x.query && el.tickets === String(x.tickets) && el.zero === x.zero_results &&
      el.tag === (x.zero_results ? 'no results' : null),
    `${what}: gap ${i + 1} is ${JSON.stringify(el)}; API ${JSON.stringify(x)}`);
  });
}

async function api(t, range, w) {
  const p = { ...range, window: w };
  const token = t.fixture.token;
  return Promise.all([t.api('contact-after-read', p, token), t.api('topics', p, token), t.api('gaps', p, token)]);
}

export default async function (t) {
  const page = t.page;
  await page.goto(`${t.origin}/report/${t.site}?days=90#token=${encodeURIComponent(t.fixture.token)}`);
  await settled(page);
  const range = { from: await page.inputValue('[data-test=from]'), to: await page.inputValue('[data-test=to]') };
  t.assert(await page.getAttribute('[data-test=window-24h]', 'aria-pressed') === 'true', 'the 24 h window is not shown as chosen by default');

  // 24 h (the default)
  const [d, tp, g] = await api(t, range, '24h');
  const refund = d.articles.find((a) => a.path === '/kb/refund-policy');
  t.assert(refund && refund.contact_after_read > 0.3 && refund.contact_after_read < 0.5,
    `precondition: the demo's /kb/refund-policy contact rate is ~40 % (API: ${refund && refund.contact_after_read})`);
  t.assert(tp.topics.length >= 3 && g.gaps.some((x) => x.zero_results) && g.gaps.length > 3,
    `precondition: the demo has topics (${tp.topics.length}) and gaps with and without results (${g.gaps.length})`);
  let s = await shown(page);
  matches(t, s, d, tp, g, '24 h');

  // the contact rate's ⓘ shows the declared definition (the lower bound)
  // and links to its section of docs/tickets.md, which the server serves
  const legend = Object.fromEntries((await t.api('legend', {}, t.fixture.token)).metrics.map((m) => [m.key, m]));
  await page.click('[data-test=deflection] thead button.ib[data-info=contact_rate]');
  await page.waitForFunction(() => document.getElementById('tipt').textContent !== 'Loading…');
  const tip = await page.evaluate(() => ({ text: document.getElementById('tipt').textContent,
    href: document.querySelector('#tip [data-test=definition-link]').href }));
  t.assert(tip.text === legend.contact_rate.definition && /lower bound/.test(tip.text) && tip.href.endsWith('/' + legend.contact_rate.doc),
    `the contact rate's ⓘ shows "${tip.text}" linking ${tip.href}; declared: ${JSON.stringify(legend.contact_rate)}`);
  const doc = await t.get(new URL(tip.href).pathname);
  t.assert(doc.status === 200 && doc.body.includes(`id="${legend.contact_rate.doc.split('#')[1]}"`),
    `the definition's link ${tip.href} answers ${doc.status} without its anchor`);
  await page.keyboard.press('Escape');
  t.assert(s.rows[0].path === '/kb/refund-policy' && s.rows[0].contact_rate.text === `at least ${pct(refund.contact_after_read)}`,
    `/kb/refund-policy is not first with ${pct(refund.contact_after_read)}: first is ${s.rows[0].path} ${s.rows[0].contact_rate.text}`);
  const accounts = s.topics.find((x) => x.category === 'accounts');
  t.note(`/kb/refund-policy contact rate ${s.rows[0].contact_rate.text}; accounts: best lag ${accounts?.lag} d, "${accounts?.verdict}"`);
  await page.locator('[data-test=tickets]').screenshot({ path: t.outFile('report-tickets.png') });
  // the old route name answers the same document
  const old = await t.api('deflection', { ...range, window: '24h' }, t.fixture.token);
  t.assert(JSON.stringify(old) === JSON.stringify(d), 'the deflection route no longer answers what contact-after-read does');

  // sorting by the column: ascending puts the lowest rate shown first, all of
  // the articles in the order of the number shown
  await page.click('[data-test=deflection] button[data-dsort=contact_rate]');
  await page.click('#dall');
  s = await shown(page);
  const asc = s.rows.map((r) => Number(r.contact_rate.value));
  t.assert(s.rows.length === d.articles.length && asc.every((v, i) => i === 0 || asc[i - 1] <= v) &&
    asc[0] === Math.min(...d.articles.map((a) => a.contact_after_read)),
  `ascending: ${s.rows.map((r) => `${r.path} ${r.contact_rate.text}`).join(', ')}`);
  t.assert(new URL(page.url()).searchParams.get('dorder') === 'asc', `the address does not keep the order: ${new URL(page.url()).search}`);
  await page.click('[data-test=deflection] button[data-dsort=contact_rate]');
  s = await shown(page);
  t.assert(s.rows[0].path === '/kb/refund-policy' && !new URL(page.url()).searchParams.has('dorder'),
    `descending again: first ${s.rows[0].path}, address ${new URL(page.url()).search}`);

  // 7 d: the page asks again with window=7d and shows the API's 7-day values
  await andWaitWindow(page, () => page.click('[data-test=window-7d]'), '7d');
  t.assert(await page.getAttribute('[data-test=window-7d]', 'aria-pressed') === 'true', 'after "7 d" the 7 d window is not shown as chosen');
  const week = await api(t, range, '7d');
  s = await shown(page);
  matches(t, s, ...week, '7 d');
  t.assert(new URL(page.url()).searchParams.get('window') === '7d', `the address does not keep the window: ${new URL(page.url()).search}`);

  // 30 min: fewer tickets follow a read that closely, so the numbers change
  await andWaitWindow(page, () => page.click('[data-test=window-30m]'), '30m');
  const half = await api(t, range, '30m');
  t.assert(half[0].site_numbers.tickets_with_read < d.site_numbers.tickets_with_read,
    `precondition: fewer tickets within 30 min of a read (${half[0].site_numbers.tickets_with_read}) than 24 h (${d.site_numbers.tickets_with_read})`);
  s = await shown(page);
  matches(t, s, ...half, '30 min');
  t.assert(s.numbers.share.value !== String(d.site_numbers.share_of_tickets_after_reading),
    `the share after reading did not change from 24 h to 30 min (${s.numbers.share.text})`);

  // the window survives a reload (it is in the address)
  await page.reload();
  await settled(page);
  t.assert(await page.getAttribute('[data-test=window-30m]', 'aria-pressed') === 'true', 'after a reload the 30 min window is no longer chosen');
  matches(t, await shown(page), ...half, '30 min after reload');

  // back to 24 h: the first answers again
  await andWaitWindow(page, () => page.click('[data-test=window-24h]'), '24h');
  matches(t, await shown(page), d, tp, g, 'back to 24 h');
  t.assert(!new URL(page.url()).searchParams.has('window'), `the default window is still in the address: ${new URL(page.url()).search}`);

  // one ticket's reads (in the page's window), and an unknown ticket
  let ticket = null;
  for (let i = 1; i <= 60 && !ticket; i++) {
    const r = await t.apiGet(`tickets/demo-4-${i}/reads`, { window: '24h' }, t.fixture.token);
    if (r.status === 200 && r.json.linked && r.json.reads.length) ticket = r.json;
  }
  t.assert(ticket, 'precondition: one of the first 60 demo tickets has reads in the 24 h before it');
  await page.fill('[data-test=ticket-id]', ticket.ticket);
  await Promise.all([page.waitForResponse((r) => r.url().includes(`/tickets/${ticket.ticket}/reads`)), page.press('[data-test=ticket-id]', 'Enter')]);
  await answered(page);
  const reads = await page.locator('[data-test=ticket-read]').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-path')));
  t.assert(reads.join(' ') === ticket.reads.map((r) => r.path).join(' '),
    `ticket ${ticket.ticket}: the page lists ${reads.join(' ')}; API ${ticket.reads.map((r) => r.path).join(' ')}`);
  await page.fill('[data-test=ticket-id]', 'no-such-ticket');
  await Promise.all([page.waitForResponse((r) => r.url().includes('/tickets/no-such-ticket/reads')), page.press('[data-test=ticket-id]', 'Enter')]);
  await answered(page);
  const missing = (await page.textContent('[data-test=ticket-reads]')).trim();
  t.assert(missing === 'no such ticket on this site', `an unknown ticket shows "${missing}"`);

  // a site without tickets
  const quiet = await (await t.newContext()).newPage();
  await quiet.goto(`${t.origin}/report/quiet.test#token=${encodeURIComponent(t.fixture.quietToken)}`);
  await settled(quiet);
  t.assert(await quiet.isVisible('[data-test=tickets-empty]'), 'a site without tickets does not show the empty state');
  const empty = (await quiet.textContent('[data-test=tickets-empty]')).trim();
  t.assert(/^No tickets in this range/.test(empty) && empty.includes('quiet.test'), `the empty state says "${empty}"`);
  t.assert(await quiet.locator('[data-test=deflection-row], [data-test=topic], [data-test=gap]').count() === 0
    && !(await quiet.isVisible('[data-test=tk-tickets]')), 'a site without tickets still shows ticket numbers');
}
