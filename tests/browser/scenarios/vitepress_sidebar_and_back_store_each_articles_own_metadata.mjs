// A real VitePress help center (tests/browser/vitepress/, built by
// vitepress.mjs and served on a second loopback origin), navigated the way a
// reader does: article A (long) read 8 s and scrolled deep → sidebar link
// to B (short) read 5 s, never scrolled → sidebar link to C read 4 s → the
// browser's back button to B, 3 s → back again to A (VitePress puts A's
// scroll position back), 3 s → tab closed. VitePress pushes the new URL
// before it renders the new page and sets its title, so a snippet that
// reads the page at the URL change stores the previous article's title,
// words, category and scroll depth.
//
// What every stored view must carry is measured in the page itself once it
// has rendered, the way the snippet measures it: title, words of
// `article` (else `main`, else body), the dwell:category meta, and the
// scroll depth (the deepest point the reader saw, in % of the document).
import { buildVitePress, serveVitePress } from '../vitepress.mjs';

export async function setup() {
  return buildVitePress();
}

/* What the page shows now, measured as dwell.js measures it. */
function measure(page) {
  return page.evaluate(() => {
    const s = document.querySelector('script[data-site]');
    const el = document.querySelector((s && s.dataset.article) || 'article') ||
      document.querySelector('main') || document.body;
    const cat = document.querySelector('meta[name="dwell:category"]');
    return {
      path: location.pathname,
      h1: (document.querySelector('main h1') || {}).textContent || '',
      title: document.title,
      words: (el.innerText.match(/\S+/g) || []).length,
      category: cat ? cat.content : '',
      depth: Math.min(100, (scrollY + innerHeight) * 100 / document.documentElement.scrollHeight + 0.5 | 0),
    };
  });
}

/* Waits (real time, up to 5 s) until PAGE shows the article at PATHNAME
   whose heading is H1, its title set; returns measure(). */
async function arrived(page, pathname, h1) {
  let m;
  for (let i = 0; i < 50; i++) {
    m = await measure(page);
    if (m.path === pathname && m.h1.startsWith(h1) && m.title.startsWith(h1)) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`precondition: VitePress did not render ${pathname} ("${h1}"); the page shows ${JSON.stringify(m)}`);
}

export default async function (t) {
  const vp = await serveVitePress(t);
  t.note(`vitepress build took ${(t.fixture.buildMs / 1000).toFixed(1)} s (once per run)`);
  const page = t.page;
  const truth = []; // one per view: measure() at arrival, depth = deepest seen, ms = engaged
  const visit = async (pathname, h1, ms, scrollTo = null) => {
    const m = await arrived(page, pathname, h1);
    if (scrollTo === null) {
      await t.read(page, ms);
    } else {
      await t.read(page, ms / 2);
      await page.evaluate((f) => window.scrollTo({
        top: f * document.documentElement.scrollHeight - innerHeight, behavior: 'instant',
      }), scrollTo);
      await t.read(page, ms / 2);
    }
    m.depth = Math.max(m.depth, (await measure(page)).depth);
    m.ms = ms;
    truth.push(m);
  };
  const sidebar = (text) => page.locator('.VPSidebar a', { hasText: text }).click();

  try {
    await t.pauseClock(page.context());
    await page.bringToFront();
    await page.goto(vp.url('/guide/webhooks'));
    await visit('/guide/webhooks', 'Set up webhooks', 8_000, 0.6);
    await sidebar('Reset your password');
    await visit('/guide/reset-password', 'Reset your password', 5_000);
    await sidebar('Download invoices');
    await visit('/guide/invoices', 'Download invoices', 4_000);
    await page.goBack({ waitUntil: 'commit' });
    await visit('/guide/reset-password', 'Reset your password', 3_000);
    await page.goBack({ waitUntil: 'commit' });
    await visit('/guide/webhooks', 'Set up webhooks', 3_000);
    await page.close({ runBeforeUnload: true });
  } finally {
    await vp.close();
  }
  const [a, b] = truth;
  t.assert(a.depth >= 55 && a.depth <= 65 && b.depth < 90 && truth[4].depth === a.depth,
    `precondition: A is scrolled to ~60 % (${a.depth}), B is taller than the window (${b.depth} % seen ` +
    `unscrolled) and VitePress put A's position back (${truth[4].depth})`);

  const events = await t.waitFor((ev) => ev.filter((e) => e.type === 'view').length >= truth.length &&
    ev.some((e) => e.type === 'engage'), `${truth.length} views with engaged time`);
  const views = events.filter((e) => e.type === 'view');
  const engaged = t.engagedByView(events);
  // Pair stored and true views: per path, the longest read with the longest.
  const byTime = (x, y) => y.ms - x.ms;
  const stored = views.map((v) => ({ v, ms: engaged[v.view] || 0 })).sort(byTime);
  const rows = [];
  for (const want of [...truth].sort(byTime)) {
    const i = stored.findIndex((s) => s.v.path === want.path);
    rows.push({ want, got: i >= 0 ? stored.splice(i, 1)[0] : null });
  }
  const order = (r) => truth.indexOf(r.want);
  rows.sort((x, y) => order(x) - order(y));
  const letter = { '/guide/webhooks': 'A', '/guide/reset-password': 'B', '/guide/invoices': 'C' };
  const problems = [];
  for (const { want, got } of rows) {
    const name = `${letter[want.path]} ${want.path}`;
    if (!got) {
      problems.push(`${name}: no view stored`);
      continue;
    }
    const sd = t.scrollOf(events, got.v.view);
    t.note(`${name}: truth title "${want.title}", ${want.words} words, category ${want.category}, ` +
      `scroll ${want.depth} %, ${want.ms} ms | stored "${got.v.title}", ${got.v.words} words, ` +
      `category ${got.v.category}, scroll ${sd} %, ${got.ms} ms`);
    if (got.v.title !== want.title) problems.push(`${name}: title "${got.v.title}", want "${want.title}"`);
    if (got.v.words !== want.words) problems.push(`${name}: ${got.v.words} words, want ${want.words}`);
    if ((got.v.category || '') !== want.category) {
      problems.push(`${name}: category "${got.v.category}", want "${want.category}"`);
    }
    if (typeof sd !== 'number' || Math.abs(sd - want.depth) > 1) {
      problems.push(`${name}: scroll ${sd} %, want ${want.depth} %`);
    }
    if (Math.abs(got.ms - want.ms) > 1_000) problems.push(`${name}: ${got.ms} ms engaged, want ${want.ms} ± 1000`);
  }
  if (stored.length) problems.push(`views nobody made: ${stored.map((s) => s.v.path).join(', ')}`);
  t.assert(problems.length === 0, problems.join('; '));
}
