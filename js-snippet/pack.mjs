// pack.mjs IN OUT — the snippet as served: IN minified by esbuild (ES2017),
// its local names then re-chosen for gzip, written to OUT (the Makefile then
// gzips it with zopfli; the binary serves that: tests/tools/embed.sh).
//
// Why re-choose names: esbuild gives the most used names the first letters,
// which is best for the raw size; gzip pays instead for every distinct
// string, so a name that makes a stretch of code repeat one seen before is
// worth more than a frequent one. The search below is plain hill climbing
// on the size of zlib's deflate at level 9 (fast; zopfli ranks the same
// way within a byte or two): it tries every letter for every binding, then
// every swap of two bindings' letters, and keeps what shrinks the output,
// until nothing does. It is deterministic, and it only renames: two bindings
// may share a letter only where neither hides the other from a use of it
// (eslint-scope says which), and the result is analysed again to check that
// every use still reaches the same binding and the same globals.
import fs from 'fs';
import zlib from 'zlib';
import * as esbuild from 'esbuild';
import * as acorn from 'acorn';
import * as escope from 'eslint-scope';

const [inFile, outFile] = process.argv.slice(2);
// (Without esbuild's final ";\n": the script ends there anyway, and a
// newline is one more symbol in gzip's code table.)
const min = esbuild.transformSync(fs.readFileSync(inFile, 'utf8'), { minify: true, target: 'es2017' })
  .code.replace(/;?\n$/, '');

// The bindings of SRC (without the global scope's) and, for checking, each
// identifier's binding: pos -> binding index, or the global's name.
function analyse(src) {
  const ast = acorn.parse(src, { ecmaVersion: 2017, ranges: true });
  const sm = escope.analyze(ast, { ecmaVersion: 2017, sourceType: 'script' });
  const vars = [], at = new Map();
  for (const sc of sm.scopes) {
    if (sc.type === 'global') continue;
    for (const v of sc.variables) {
      if (v.name === 'arguments') continue;
      const ids = new Set([...v.identifiers, ...v.references.map((r) => r.identifier)]);
      for (const id of ids) at.set(id.start, vars.length);
      vars.push({ v, sc, ids: [...ids] });
    }
  }
  for (const r of sm.globalScope.through) at.set(r.identifier.start, '=' + r.identifier.name);
  // An object literal's {a} is both a key and a use: renaming would change
  // the key. esbuild writes none; stop if it ever does.
  (function walk(node) {
    if (node.type === 'Property' && node.shorthand) throw new Error('pack: shorthand property at ' + node.start);
    for (const k in node) {
      const x = node[k];
      for (const c of Array.isArray(x) ? x : [x]) if (c && typeof c.type === 'string') walk(c);
    }
  })(ast);
  return { vars, at, globals: new Set(sm.globalScope.through.map((r) => r.identifier.name)) };
}

const { vars, at, globals } = analyse(min);
const n = vars.length;

// conflict[i]: the bindings that may not share i's letter — those of the
// same scope, and those declared between a use of i and i's own scope.
const inside = (s, a) => { for (; s; s = s.upper) if (s === a) return true; return false; };
const conflict = vars.map(() => new Set());
for (let i = 0; i < n; i++) {
  for (let j = 0; j < n; j++) {
    const A = vars[i], B = vars[j];
    if (i !== j && (A.sc === B.sc || inside(B.sc, A.sc) && A.v.references.some((r) => inside(r.from, B.sc)))) {
      conflict[i].add(j);
      conflict[j].add(i);
    }
  }
}

// The program with binding i named names[i]; also where each identifier went.
const occ = [];
vars.forEach((V, i) => V.ids.forEach((id) => occ.push([id.start, id.end, i])));
occ.sort((a, b) => a[0] - b[0]);
function build(names, moved) {
  let out = '', p = 0;
  for (const [s, e, i] of occ) {
    out += min.slice(p, s);
    moved && moved.set(s, out.length);
    out += names[i];
    p = e;
  }
  return out + min.slice(p);
}

const letters = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$'].filter((c) => !globals.has(c));
const size = (names) => zlib.deflateRawSync(build(names), { level: 9 }).length;
const free = (names, i, c) => [...conflict[i]].every((j) => names[j] !== c);
const names = vars.map((V) => V.v.name);
let best = size(names);
for (let pass = 0, better = true; better && pass < 8; pass++) {
  better = false;
  for (let i = 0; i < n; i++) {
    for (const c of letters) {
      const old = names[i];
      if (c === old || !free(names, i, c)) continue;
      names[i] = c;
      const s = size(names);
      if (s < best) best = s, better = true;
      else names[i] = old;
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = names[i], b = names[j];
      if (a === b) continue;
      names[i] = b, names[j] = a;
      const s = free(names, i, b) && free(names, j, a) ? size(names) : Infinity;
      if (s < best) best = s, better = true;
      else names[i] = a, names[j] = b;
    }
  }
}

// Check: in the renamed program every identifier reaches the binding (or
// the global) it reached before, and distinct bindings stay distinct.
const moved = new Map();
const out = build(names, moved);
const after = analyse(out).at;
const fwd = new Map(), back = new Map();
for (const [s, was] of at) {
  const is = after.get(moved.get(s) ?? s + shift(s));
  const same = typeof was === 'string' ? is === was :
    typeof is === 'number' && (fwd.get(was) ?? is) === is && (back.get(is) ?? was) === was;
  if (!same) throw new Error(`pack: renaming changed what the identifier at ${s} refers to`);
  fwd.set(was, is), back.set(is, was);
}
if (after.size !== at.size) throw new Error('pack: renaming changed the identifiers');
// Offset in OUT of a position of the minified text that is no renamed
// identifier (a global's): the length changes of the renames before it.
function shift(pos) {
  let d = 0;
  for (const [s, e, i] of occ) if (s < pos) d += names[i].length - (e - s);
  return d;
}

fs.writeFileSync(outFile, out);
