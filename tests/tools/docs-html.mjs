#!/usr/bin/env node
// docs-html.mjs IN.md OUT.html — renders one page of docs/ as the
// self-contained HTML page `dwell serve` answers at /docs/NAME.md (the report
// page's ⓘ definitions link there). Headings get GitHub's anchors, so links
// such as metrics.md#read-ratio work on the server as in the repository;
// links between docs pages stay relative. No scripts, no external resources.
// Uses marked (js-snippet's build tools, installed by the Makefile).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MARKED = path.join(HERE, '..', '..', 'js-snippet', 'node_modules', 'marked', 'lib', 'marked.esm.js');

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: docs-html.mjs IN.md OUT.html');
  process.exit(2);
}
const { Marked } = await import(pathToFileURL(MARKED).href);

const escape = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as
// hyphens; a repeated one gets -1, -2, …
const seen = new Map();
function slug(text) {
  const base = text.toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replace(/ /g, '-');
  const n = seen.get(base) || 0;
  seen.set(base, n + 1);
  return n ? `${base}-${n}` : base;
}

const marked = new Marked({
  gfm: true,
  renderer: {
    heading({ tokens, depth, text }) {
      const plain = text.replace(/<[^>]*>/g, '').replace(/`/g, '');
      return `<h${depth} id="${escape(slug(plain))}">${this.parser.parseInline(tokens)}</h${depth}>\n`;
    },
  },
});

const md = fs.readFileSync(input, 'utf8');
const title = (md.match(/^#\s+(.+)$/m) || [, path.basename(input)])[1];
const body = marked.parse(md);
const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
:root{color-scheme:light dark}
body{font:16px/1.6 system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em}
code,pre{font:14px/1.45 ui-monospace,monospace}
pre{overflow:auto;padding:.8em;border:1px solid #8884;border-radius:6px}
table{border-collapse:collapse;display:block;overflow:auto}
th,td{border:1px solid #8886;padding:.3em .6em;vertical-align:top;text-align:left}
h1,h2,h3,h4{line-height:1.25;scroll-margin-top:1em}
:target{background:#fd04}
</style></head><body>
${body}</body></html>
`;
fs.writeFileSync(output, page);
