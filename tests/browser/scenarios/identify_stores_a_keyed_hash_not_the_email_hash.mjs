// dwell('identify', sha256 of the lower-cased e-mail): the server never keeps
// that hash as sent (it could be matched against a list of addresses); it
// stores HMAC-SHA-256 of it under the server's secret. The same hash, sent
// in upper case by another page load, gives the same stored identity.
import { createHash } from 'node:crypto';

export default async function (t) {
  const hash = createHash('sha256').update('Reader@Example.COM'.toLowerCase()).digest('hex');
  const page = await t.open(t.page, 'feedback.html', { clock: false });
  await page.evaluate((h) => dwell('identify', h), hash.toUpperCase());
  await page.evaluate((h) => dwell('identify', h), hash);

  const events = await t.waitFor((ev) => ev.filter((e) => e.type === 'identify').length >= 2,
    'two identify events stored');
  const ids = events.filter((e) => e.type === 'identify');
  t.assert(ids.length === 2, `identify events stored: ${ids.length}, want 2`);
  t.assert(/^[0-9a-f]{64}$/.test(ids[0].identity), `stored identity ${ids[0].identity} is 64 hex digits`);
  t.assert(ids[0].identity !== hash, 'the e-mail hash itself is not stored');
  t.assert(ids[0].identity === ids[1].identity, 'upper and lower case give the same identity');
  const view = t.viewsOf(events, '/demo/feedback.html')[0]?.view;
  t.assert(view && ids[0].view === view, 'the identify event belongs to the page\'s view');
}
