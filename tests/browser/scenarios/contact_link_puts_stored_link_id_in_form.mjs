// A click on the data-dwell-contact link stores an event named "contact" and
// a link event, and puts the same link id into the form's hidden dwell_link
// field (so it reaches the ticket). dwell.linkId() returns a new id, stored too.
export default async function (t) {
  const page = await t.open(t.page, 'feedback.html', { clock: false });
  t.assert(await page.inputValue('#dwell_link') === '', 'precondition: the dwell_link field starts empty');
  await page.click('#contact');
  const field = await page.inputValue('#dwell_link');
  t.assert(/^[A-Za-z0-9_-]{8,64}$/.test(field),
    `the form's dwell_link field holds ${JSON.stringify(field)}, want a link id (8–64 of [A-Za-z0-9_-])`);
  const fromApi = await page.evaluate(() => dwell.linkId());
  t.assert(typeof fromApi === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(fromApi) && fromApi !== field,
    `dwell.linkId() returned ${JSON.stringify(fromApi)}, want a new link id`);

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/feedback.html')[0]?.view;
    return view && ev.some((e) => e.type === 'event' && e.name === 'contact') &&
      ev.filter((e) => e.type === 'link').length >= 2;
  }, 'a "contact" event and two link events stored');
  const links = events.filter((e) => e.type === 'link');
  t.assert(links.some((l) => l.link === field),
    `stored link ids ${links.map((l) => l.link).join(', ')}; none is the form's ${field}`);
  t.assert(links.some((l) => l.link === fromApi), `the id returned by dwell.linkId() (${fromApi}) is not stored`);
  t.assert(links.every((l) => l.view === view), 'the link events belong to the page\'s view');
}
