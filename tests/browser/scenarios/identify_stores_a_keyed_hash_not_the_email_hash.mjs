// dwell('identify', sha256 of the lower-cased e-mail): the stored identity is
// that hash in lower-case hex, even when the page passes it in upper case.
import { createHash } from 'node:crypto';

export default async function (t) {
  const hash = createHash('sha256').update('Reader@Example.COM'.toLowerCase()).digest('hex');
  const page = await t.open(t.page, 'feedback.html', { clock: false });
  await page.evaluate((h) => dwell('identify', h), hash.toUpperCase());

  const events = await t.waitFor((ev) => ev.some((e) => e.type === 'identify'), 'an identify event stored');
  const ids = events.filter((e) => e.type === 'identify');
  t.assert(ids.length === 1, `identify events stored: ${ids.length}, want 1`);
  t.assert(ids[0].identity === hash, `stored identity ${ids[0].identity}, want ${hash}`);
  const view = t.viewsOf(events, '/demo/feedback.html')[0]?.view;
  t.assert(view && ids[0].view === view, 'the identify event belongs to the page\'s view');
}
