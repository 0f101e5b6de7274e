// Every card and column of the report page has an ⓘ button; reached with
// Tab and opened with Enter, or tapped on a touch screen, it shows the
// definition the server declares (GET .../legend, src/legend.c; the same
// text `dwell report --legend` prints) and a link to docs/metrics.md.
export async function setup(s) {
  await s.cli('demo', s.site, '--days', '30', '--seed', '5');
  return { token: await s.cli('token', 'create', s.site, '--read-only') };
}

function settled(page) {
  return page.waitForFunction(() => ['main', 'tw'].every((id) =>
    document.getElementById(id).getAttribute('aria-busy') === 'false'));
}

async function open(t, page) {
  await page.goto(`${t.origin}/report/${t.site}#token=${encodeURIComponent(t.fixture.token)}`);
  await settled(page);
}

/* The open definition: { hidden, label, text, href }. */
function shown(page) {
  return page.evaluate(() => {
    const tip = document.querySelector('[data-test=definition]');
    return { hidden: tip.hidden, label: tip.querySelector('b').textContent,
      text: tip.querySelector('[data-test=definition-text]').textContent,
      href: tip.querySelector('[data-test=definition-link]').getAttribute('href') };
  });
}

async function opened(t, page, key, legend, how) {
  await page.waitForFunction((k) => {
    const tip = document.querySelector('[data-test=definition]');
    return !tip.hidden && tip.querySelector('[data-test=definition-link]').getAttribute('href')?.endsWith('#' + k.split('#')[1]);
  }, legend[key].doc);
  const d = await shown(page);
  t.assert(d.text === legend[key].definition,
    `${how}: the definition of ${key} shows "${d.text}"; declared: "${legend[key].definition}"`);
  t.assert(d.href.endsWith('/' + legend[key].doc), `${how}: the link of ${key} is ${d.href}; want …/${legend[key].doc}`);
  return d;
}

export default async function (t) {
  const page = t.page;
  const legend = {};
  for (const m of (await t.api('legend', {}, t.fixture.token)).metrics) legend[m.key] = m;
  await open(t, page);

  // Coverage: every card and column header has one, a real button.
  const cover = await page.evaluate(() => {
    const miss = [], keys = [];
    const each = (sel, what) => document.querySelectorAll(sel).forEach((el, i) => {
      const b = el.querySelector('button.ib');
      if (!b) miss.push(`${what} ${i + 1} (${el.textContent.trim().slice(0, 20)})`);
      else keys.push(b.getAttribute('data-info'));
      if (b && !(b.type === 'button' && b.getAttribute('aria-controls') === 'tip' &&
        b.getAttribute('aria-expanded') === 'false' && /^About /.test(b.getAttribute('aria-label')))) miss.push(`${what} ${i + 1}: attributes`);
    });
    each('#totals .card', 'card');
    each('#hdr th', 'column');
    keys.push(...[...document.querySelectorAll('button.ib')].map((b) => b.getAttribute('data-info')));
    return { miss, keys: [...new Set(keys)] };
  });
  t.assert(cover.miss.length === 0, `without an ⓘ button: ${cover.miss.join(', ')}`);
  const undeclared = cover.keys.filter((k) => !legend[k]);
  t.assert(undeclared.length === 0, `ⓘ buttons without a declared definition: ${undeclared.join(', ')}`);
  for (const k of ['views_change', 'engaged_p90', 'reads', 'searches', 'today', 'read_ratio', 'visitors']) {
    t.assert(cover.keys.includes(k), `no ⓘ for ${k} on the page (has ${cover.keys.join(', ')})`);
  }

  // Keyboard: Tab from the top reaches the Views card's ⓘ; Enter opens it,
  // Escape closes it and leaves the focus on the button.
  await page.locator('h1').click();
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.matches('#totals .ib[data-info=views]'));
  }
  t.assert(reached, 'Tab never reached the ⓘ of the Views card');
  t.assert((await shown(page)).hidden, 'a definition is open before any was asked for');
  await page.keyboard.press('Enter');
  await opened(t, page, 'views', legend, 'keyboard');
  t.assert(await page.getAttribute('#totals .ib[data-info=views]', 'aria-expanded') === 'true', 'aria-expanded is not true on the open ⓘ');
  await page.keyboard.press('Escape');
  t.assert((await shown(page)).hidden, 'Escape did not close the definition');
  t.assert(await page.evaluate(() => document.activeElement?.matches('#totals .ib[data-info=views]')), 'after Escape the focus left the ⓘ');
  t.assert(await page.getAttribute('#totals .ib[data-info=views]', 'aria-expanded') === 'false', 'aria-expanded stays true after Escape');

  // A click on the Change column's ⓘ opens its definition, and does not sort.
  const before = page.url();
  await page.click('#hdr .ib[data-info=views_change]');
  await opened(t, page, 'views_change', legend, 'click');
  t.assert(new URL(page.url()).searchParams.get('sort') === new URL(before).searchParams.get('sort'), 'a click on an ⓘ sorted the table');
  await page.locator('h1').click();
  t.assert((await shown(page)).hidden, 'a click elsewhere did not close the definition');

  // Touch: on a phone a tap on the p90 column's ⓘ, then on the Searches card's.
  const phone = await (await t.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
  await open(t, phone);
  await phone.locator('#hdr .ib[data-info=engaged_p90]').tap();
  await opened(t, phone, 'engaged_p90', legend, 'tap');
  await phone.locator('#totals .ib[data-info=searches]').tap();
  const d = await opened(t, phone, 'searches', legend, 'tap');
  t.assert(d.label === 'Searches', `the open definition is titled "${d.label}"`);
  const inside = await phone.evaluate(() => {
    const r = document.querySelector('[data-test=definition]').getBoundingClientRect();
    return r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight;
  });
  t.assert(inside, 'the definition on the phone is not inside the screen');
}
