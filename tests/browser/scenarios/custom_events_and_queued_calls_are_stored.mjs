// dwell('event', name) is stored with its name, including a call the page
// made before the deferred snippet had loaded (queued by the stub).
export default async function (t) {
  const page = await t.open(t.page, 'feedback.html', { clock: false });
  await page.evaluate(() => dwell('event', 'printed'));

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/feedback.html')[0]?.view;
    return view && ev.filter((e) => e.type === 'event').length >= 2;
  }, 'two custom events stored');
  const names = events.filter((e) => e.type === 'event' && e.view === view).map((e) => e.name).sort();
  t.assert(JSON.stringify(names) === JSON.stringify(['printed', 'queued-before-load']),
    `custom events of the view: ${names.join(', ')}; want printed, queued-before-load`);
}
