// vitepress.mjs — the VitePress help center of the browser suite.
//
// The site's sources are vitepress/ (config in vitepress/.vitepress/config.mjs).
// A scenario builds it in its `setup` and serves it on a second loopback
// origin from its body:
//
//   import { buildVitePress, serveVitePress } from '../vitepress.mjs';
//   export async function setup() { return buildVitePress(); }
//   export default async function (t) {
//     const vp = await serveVitePress(t); // also allows vp.origin for t.test
//     try { await page.goto(vp.url('/guide/webhooks')); ... } finally { await vp.close(); }
//   }
//
// buildVitePress() runs `vitepress build` once per process (the first call
// builds, later calls get the same result) into a temporary directory that
// is removed when the process exits. The pages carry the snippet's script
// tag with a placeholder origin, which serveVitePress() replaces by the
// scenario's dwell origin in every HTML file it serves, so one build serves
// every scenario whatever port its dwell server got.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, 'vitepress');
const CLI = path.join(HERE, 'node_modules', 'vitepress', 'bin', 'vitepress.js');
// vitepress build writes its intermediate files to ROOT/.vitepress/.temp and
// deletes them: two builds at once (two suite runs) would clash, so a build
// holds this lock directory while it runs.
const LOCK = path.join(ROOT, '.vitepress', '.build-lock');
const PLACEHOLDER = '__DWELL_ORIGIN__';
const BUILD_TIMEOUT_MS = 90_000;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
};

let built = null; // the promise of this process's build

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/* Takes the build lock, waiting for another build to finish; a lock older
   than the build timeout was left by a killed run and is taken over. */
async function lock() {
  for (const deadline = Date.now() + BUILD_TIMEOUT_MS; ;) {
    try {
      fs.mkdirSync(LOCK);
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let age = 0;
    try {
      age = Date.now() - fs.statSync(LOCK).mtimeMs;
    } catch { /* just released */ }
    if (age > BUILD_TIMEOUT_MS) fs.rmSync(LOCK, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`vitepress: ${LOCK} held for too long`);
    await sleep(200);
  }
}

/* `vitepress build vitepress --outDir OUT` from tests/browser. */
function runBuild(out) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, 'build', ROOT, '--outDir', out],
      { cwd: HERE, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err) {
          const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-8).join('\n');
          reject(new Error(`vitepress build failed: ${tail || err.message}`));
        } else {
          resolve();
        }
      });
  });
}

async function build() {
  if (!fs.existsSync(CLI)) throw new Error('vitepress is not installed (cd tests/browser && npm ci)');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dwell-vitepress-'));
  process.on('exit', () => fs.rmSync(out, { recursive: true, force: true }));
  const began = Date.now();
  await lock();
  try {
    await runBuild(out);
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
  if (!fs.existsSync(path.join(out, 'guide', 'webhooks.html'))) {
    throw new Error(`vitepress build wrote no guide/webhooks.html in ${out}`);
  }
  return { dist: out, buildMs: Date.now() - began };
}

/* The built site: { dist, buildMs } (the directory, how long the build took).
   Builds on the first call of the process; later calls share that build. */
export function buildVitePress() {
  if (!built) {
    built = build();
    built.catch(() => { built = null; }); // a failed build is tried again
  }
  return built;
}

/* The file of DIST that answers URL path P, as VitePress's clean URLs need
   it (/guide/a → guide/a.html, / → index.html), or null. */
function fileFor(dist, p) {
  let rel;
  try {
    rel = decodeURIComponent(p);
  } catch {
    return null;
  }
  const base = path.join(dist, path.normalize(rel));
  if (base !== dist && !base.startsWith(dist + path.sep)) return null;
  for (const f of [base, `${base}.html`, path.join(base, 'index.html')]) {
    try {
      if (fs.statSync(f).isFile()) return f;
    } catch { /* try the next one */ }
  }
  return null;
}

/* Serves the built site (T.fixture.dist, from buildVitePress() in setup) on
   a new loopback port, with T's dwell origin in the snippet's script tags,
   and adds that port's origin to the site's origins next to T's own.
   Returns { origin, url(path), close() }. */
export async function serveVitePress(t) {
  const dist = t.fixture && t.fixture.dist;
  if (!dist) throw new Error('serveVitePress: the scenario\'s setup must return buildVitePress()');
  const server = http.createServer((req, res) => {
    const file = fileFor(dist, new URL(req.url, 'http://x').pathname);
    const status = file ? 200 : 404;
    const served = file || path.join(dist, '404.html');
    let body = fs.readFileSync(served);
    const ext = path.extname(served);
    if (ext === '.html') body = Buffer.from(body.toString('utf8').replaceAll(PLACEHOLDER, t.origin));
    res.writeHead(status, { 'Content-Type': TYPES[ext] || 'application/octet-stream', 'Cache-Control': 'no-store' });
    res.end(body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  // `site add` replaces the site's origins: give both.
  await t.cli('site', 'add', t.site, '--origin', t.origin, '--origin', origin);
  return {
    origin,
    url: (p) => origin + p,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
