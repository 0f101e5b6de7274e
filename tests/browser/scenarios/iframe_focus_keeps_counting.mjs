// A reader reads an article 10 s, clicks into the interactive demo embedded
// in it (an iframe of another origin), works in it 20 s (pointer and typing
// inside the frame only: nothing reaches the article's page), clicks back
// into the article and closes the tab. The time in the iframe is reading
// time too: the stored engaged time is 30 s ± 1.5 s (not the 10 s before the
// click).
//
// Focus is real (the run's own Chromium): the click moves the focus into
// the frame, which fires blur on the article's window while
// document.hasFocus() stays true; both are checked.
export default async function (t) {
  const page = await t.open(t.page, 'iframe-article.html');
  await t.realFocus(page);
  const frame = page.frameLocator('#demo');
  await frame.locator('#cols').waitFor();
  t.assert(await page.evaluate(() => new URL(document.getElementById('demo').src).origin !== location.origin),
    'precondition: the iframe is of another origin');
  await page.evaluate(() => {
    window.__blurs = 0;
    addEventListener('blur', () => window.__blurs++);
  });
  t.assert(await page.evaluate(() => document.hasFocus()), 'precondition: the article has the focus');

  await t.read(page, 10_000);
  const box = await page.locator('#demo').boundingBox();
  const inFrame = (i) => ({ x: box.x + 40 + (i % 2) * 30, y: box.y + 40 + (i % 3) * 10 });
  await page.mouse.click(inFrame(0).x, inFrame(0).y + 40); // on the textarea
  await frame.locator('#cols').click();
  const state = await page.evaluate(() => ({
    active: document.activeElement && document.activeElement.id,
    hasFocus: document.hasFocus(),
    blurs: window.__blurs,
  }));
  t.assert(state.active === 'demo' && state.hasFocus && state.blurs >= 1,
    `precondition: focus moved into the iframe (active element ${state.active}, hasFocus ${state.hasFocus}, ` +
    `window blurs ${state.blurs}; want demo, true, ≥ 1)`);

  // 20 s inside the frame: a pointer move and a few keys every 5 s.
  for (let i = 1; i <= 4; i++) {
    await page.mouse.move(inFrame(i).x, inFrame(i).y);
    await page.keyboard.type('ab ');
    await page.clock.runFor(5_000);
  }
  t.assert((await frame.locator('#cols').inputValue()).length === 12, 'precondition: the typing went into the iframe');
  t.assert(await page.evaluate(() => document.activeElement.id === 'demo'), 'precondition: the iframe kept the focus');

  await page.click('#title'); // back into the article
  await page.close({ runBeforeUnload: true });

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/iframe-article.html')[0]?.view;
    return view && ev.some((e) => e.type === 'engage' && e.view === view);
  }, 'a view of /demo/iframe-article.html with engaged time');
  t.near(t.engagedByView(events)[view], 30_000, 1_500, 'engaged ms: 10 s reading + 20 s working in the iframe');
}
