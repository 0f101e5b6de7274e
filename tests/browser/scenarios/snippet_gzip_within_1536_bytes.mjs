// Size budget: GET /dwell.js with Accept-Encoding: gzip answers gzip of at
// most 1,536 bytes (Content-Length), and it unzips to the plain snippet.
import { gunzipSync } from 'node:zlib';

const BUDGET = 1536;

export default async function (t) {
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
