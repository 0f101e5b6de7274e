// Size budget: GET /dwell.js with Accept-Encoding: gzip answers gzip of at
// most the budget (Content-Length), and it unzips to the plain snippet. The
// budget is declared once, in js-snippet/budget.json, which the build's size
// line prints too (docs/snippet.md "Size").
import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';

const BUDGET = JSON.parse(fs.readFileSync(new URL('../../../js-snippet/budget.json', import.meta.url))).gzip;

export default async function (t) {
  t.assert(Number.isInteger(BUDGET) && BUDGET > 0, `js-snippet/budget.json: gzip ${BUDGET}, want a byte count`);
  const gz = await t.get('/dwell.js', { 'Accept-Encoding': 'gzip' });
  t.assert(gz.status === 200, `GET /dwell.js: status ${gz.status}`);
  t.assert(gz.headers['content-encoding'] === 'gzip', `Content-Encoding: ${gz.headers['content-encoding']}, want gzip`);
  const length = Number(gz.headers['content-length']);
  t.assert(length === gz.body.length, `Content-Length ${gz.headers['content-length']}, body ${gz.body.length} bytes`);
  const plain = await t.get('/dwell.js');
  t.assert(gunzipSync(gz.body).equals(plain.body), 'the gzip body does not unzip to the plain snippet');
  t.note(`snippet: ${plain.body.length} bytes, ${length} gzipped (budget ${BUDGET})`);
  t.assert(length <= BUDGET, `snippet is ${length} bytes gzipped, over the ${BUDGET}-byte budget`);
}
