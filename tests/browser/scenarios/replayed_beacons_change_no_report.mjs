// Beacons arrive twice and out of order in real life (a retry, a proxy, a
// replayed request). A browser session (three pages, engaged time, scroll
// depth, a search, a vote, an SPA route change, a tab switch) is recorded by
// copying the body of every POST /e the pages send; then every recorded beacon is posted
// again twice, in a shuffled order (seeded, so a failure replays the same
// way), with the browser's Origin, User-Agent and Content-Type. The reports
// (API summary, articles, each article's detail, searches; `dwell report`
// as JSON, with --summary and --searches) are then byte-for-byte what they
// were before the replay. Keeps tests/out/browser/replay-*.json on failure.
import fs from 'node:fs';
import http from 'node:http';

export async function setup(s) {
  return { token: await s.cli('token', 'create', s.site, '--read-only') };
}

/* POST BODY to URL with HEADERS: the status. */
function post(url, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { ...headers, 'Content-Length': Buffer.byteLength(body) }, timeout: 5_000 },
      (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('timeout', () => req.destroy(new Error(`POST ${url}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/* The events of a beacon body (one object or an array). */
function eventsOf(body) {
  const v = JSON.parse(body);
  return Array.isArray(v) ? v : [v];
}

/* Every report the scenario compares: name -> its exact bytes. */
async function reports(t) {
  const auth = { Authorization: `Bearer ${t.fixture.token}`, Accept: 'application/json' };
  const base = `/api/v1/sites/${t.site}`;
  const out = {};
  // today's events: a report without dates covers only full days (ending yesterday)
  const today = new Date().toISOString().slice(0, 10);
  const get = async (name, p) => {
    p += `&to=${today}`;
    const res = await t.get(`${base}/${p}`, auth);
    t.assert(res.status === 200, `GET ${p}: ${res.status} ${res.body.toString().slice(0, 200)}`);
    out[name] = res.body.toString('utf8');
  };
  await get('summary', 'summary?include_bots=1');
  await get('articles', 'articles?include_bots=1&limit=100');
  await get('searches', 'searches?include_bots=1');
  for (const a of JSON.parse(out.articles).articles) {
    await get(`article ${a.path}`, `articles/${encodeURIComponent(a.id)}?include_bots=1`);
  }
  out['dwell report'] = await t.cli('report', t.site, '--format', 'json', '--include-bots', '--to', today);
  out['dwell report --summary'] = await t.cli('report', t.site, '--format', 'json', '--include-bots', '--summary', '--to', today);
  out['dwell report --searches'] = await t.cli('report', t.site, '--format', 'json', '--include-bots', '--searches', '--to', today);
  return out;
}

/* The first report of BEFORE whose bytes differ in AFTER, or null. */
function firstDifference(before, after) {
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[k] !== after[k]) {
      const a = before[k] || '';
      const b = after[k] || '';
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      return `${k}: at byte ${i}, before …${a.slice(Math.max(0, i - 60), i + 60)}…, after …${b.slice(Math.max(0, i - 60), i + 60)}…`;
    }
  }
  return null;
}

/* A seeded shuffle (mulberry32), so that a failing order can be replayed. */
function shuffle(list, seed) {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

export default async function (t) {
  const beacons = [];
  t.context.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/e') {
      beacons.push({ body: r.postData(), headers: r.headers() });
    }
  });
  const page = await t.open(t.page, 'long-article.html');
  await t.read(page, 8_000);
  await page.evaluate(() => scrollTo(0, (document.documentElement.scrollHeight - innerHeight) / 2));
  await t.read(page, 12_000);
  await t.hide(page);
  await t.idle(page, 30_000);
  await t.show(page);
  await t.read(page, 3_000);

  // Playwright does not report the beacons a page sends while it unloads,
  // so before each navigation the reader switches tabs and back: the engage
  // sent on hiding is recorded, and the one of the unload repeats it.
  await t.hide(page);
  await t.show(page);
  await page.goto(t.url('feedback.html'));
  await t.read(page, 5_000);
  await page.fill('#q', 'password');
  await page.click('#search-go');
  await t.read(page, 4_000);
  await page.click('#vote-up');
  await t.read(page, 2_000);

  await t.hide(page);
  await t.show(page);
  await page.goto(t.url('spa.html'));
  await t.read(page, 6_000);
  await page.click('#to-b');
  await t.read(page, 4_000);
  await t.hide(page);

  const stored = await t.waitFor((ev) => ev.some((e) => e.type === 'search') && ev.some((e) => e.type === 'vote') &&
    ev.filter((e) => e.type === 'view').length === 4 && t.viewsOf(ev, '/demo/spa-b').length === 1 &&
    (t.engagedByView(ev)[t.viewsOf(ev, '/demo/spa-b')[0].view] || 0) > 0,
    'the session stored: 4 views, a search, a vote, engaged time on the last route');
  t.assert(beacons.length > 0 && beacons.every((b) => typeof b.body === 'string' && b.body.length > 0),
    `precondition: every beacon's body was recorded (${beacons.length} beacons)`);
  const sent = new Set(beacons.flatMap((b) => eventsOf(b.body).map((e) => `${e.t} ${e.v}`)));
  const missed = stored.filter((e) => !sent.has(`${e.type} ${e.view}`));
  t.assert(missed.length === 0, `precondition: stored but not recorded: ${t.summarize(missed)}`);

  const before = await reports(t);
  const again = await reports(t);
  const unstable = firstDifference(before, again);
  t.assert(unstable === null, `precondition: the reports change with nothing sent: ${unstable}`);

  const seed = 9;
  const replay = shuffle([...beacons, ...beacons], seed);
  for (const b of replay) {
    const headers = {};
    for (const k of ['origin', 'user-agent', 'content-type']) if (b.headers[k]) headers[k] = b.headers[k];
    // Playwright's request.headers() are the provisional ones, which can lack
    // the Origin the browser did send (the server refuses a beacon without
    // one for this site, and it stored them all): the page's origin it was
    headers.origin = headers.origin || t.origin;
    const status = await post(`${t.origin}/e`, b.body, headers);
    t.assert(status >= 200 && status < 300, `replayed beacon answered ${status}: ${b.body.slice(0, 200)}`);
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = await reports(t);
  const diff = firstDifference(before, after);
  if (diff) {
    fs.writeFileSync(t.outFile('replay-before.json'), JSON.stringify(before, null, 1));
    fs.writeFileSync(t.outFile('replay-after.json'), JSON.stringify(after, null, 1));
  }
  t.assert(diff === null, `after ${replay.length} replayed beacons (${beacons.length} twice, shuffled, seed ${seed}) ` +
    `a report changed: ${diff}`);
  t.note(`${beacons.length} beacons (${sent.size} event types × views) replayed twice, shuffled; ${Object.keys(before).length} reports unchanged`);
}
