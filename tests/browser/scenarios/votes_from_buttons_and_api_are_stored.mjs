// A click on a data-dwell-vote button and a dwell('vote', …) call are stored
// as votes of the page's view.
export default async function (t) {
  const page = await t.open(t.page, 'feedback.html', { clock: false });
  await page.click('#vote-up');
  await page.evaluate(() => dwell('vote', 'down'));

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/feedback.html')[0]?.view;
    return view && ev.filter((e) => e.type === 'vote').length >= 2;
  }, 'two votes stored');
  const votes = events.filter((e) => e.type === 'vote');
  t.assert(votes.length === 2, `votes stored: ${votes.length}, want 2 (one click, one call)`);
  t.assert(votes.every((v) => v.view === view), 'the votes belong to the page\'s view');
  const got = votes.map((v) => v.vote).sort().join(', ');
  t.assert(got === 'down, up', `votes stored: ${got}; want down (the call) and up (the button)`);
}
