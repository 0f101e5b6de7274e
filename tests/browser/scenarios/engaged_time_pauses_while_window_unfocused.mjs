// 10 s focused, 20 s while another tab has the focus (the page still
// scrolling meanwhile), 10 s focused again, then the page is closed: only the
// focused 20 s count (± 1 s).
//
// Focus is real here (the run's own Chromium, no focus emulation): bringing
// the other tab to front fires a real blur on this one, and bringing this one
// back a real focus (checked with hasFocus()). In headless Chromium a tab
// switch also hides the page; a second window does not take the focus from
// the first (every headless window keeps its own). While unfocused, the
// activity is a scroll made by script: input sent with page.mouse/keyboard
// would give the page the focus back.
export default async function (t) {
  const page = await t.open(t.page, 'long-article.html');
  const other = await t.context.newPage();
  await t.realFocus(page, other);
  const focused = async (want, what) => {
    for (let i = 0; i < 20; i++) {
      if (await page.evaluate(() => document.hasFocus()) === want) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`precondition: ${what}`);
  };
  await page.bringToFront();
  await focused(true, 'the page has the focus at the start');

  await t.read(page, 10_000);
  await other.bringToFront();
  await focused(false, 'bringing another window to front takes the focus away');
  for (let i = 0; i < 4; i++) {
    await page.evaluate(() => scrollBy(0, 40));
    await t.idle(page, 5_000);
  }
  await focused(false, 'the page stayed unfocused while it scrolled');
  await page.bringToFront();
  await focused(true, 'bringing the page to front gives it the focus back');
  await t.read(page, 10_000);
  await page.close({ runBeforeUnload: true });

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/long-article.html')[0]?.view;
    return view && (t.engagedByView(ev)[view] || 0) >= 19_000;
  }, 'a view of /demo/long-article.html with at least 19 s engaged');
  t.near(t.engagedByView(events)[view], 20_000, 1_000, 'engaged ms for 10 s + 10 s focused around 20 s unfocused');
}
