// 40 s of active reading, then the browser process is killed (SIGKILL: no
// pagehide, no visibilitychange, nothing more leaves it). The heartbeats
// sent every 15 s while engaged are stored: at most 15 s is lost.
export default async function (t) {
  const { context, process } = await t.launchKillable();
  const page = context.pages()[0];
  await t.open(page, 'long-article.html');
  await t.read(page, 40_000);
  // In real time a reader's heartbeats have seconds to travel before a crash;
  // here the 40 s took a moment, so give the last one that moment.
  await new Promise((r) => setTimeout(r, 1_000));
  const gone = new Promise((r) => process.once('exit', r));
  process.kill('SIGKILL');
  await gone;

  let view;
  const events = await t.waitFor((ev) => {
    view = t.viewsOf(ev, '/demo/long-article.html')[0]?.view;
    return view && (t.engagedByView(ev)[view] || 0) >= 25_000;
  }, 'at least 40 s − 15 s engaged stored before the crash');
  const engaged = t.engagedByView(events)[view];
  t.note(`engaged ms stored after 40 s of reading and a browser kill: ${engaged} (lost ${40_000 - engaged})`);
  t.assert(engaged <= 41_000, `engaged ms stored: ${engaged}, more than the 40 s read`);
}
