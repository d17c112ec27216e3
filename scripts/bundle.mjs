#!/usr/bin/env node
// Bundles tsc's output (dist/) and the libraries it runs on into dist/bundle/, which is what
// bin/ms-async.js runs and what the package ships (docs/ARCHITECTURE.md, "Build and start-up").
// Why: Node 20 starts a module graph of ~170 files in ~0.25 s, and every command pays it before
// its first request; one bundle, with what only some commands need split into chunks loaded on
// demand, starts ~0.1 s sooner, and `npx ms-async` installs one package instead of ~60.
// The libraries' licences go beside the bundle, in THIRD-PARTY-LICENSES.txt.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'acorn';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist/bundle');
// Licences we may ship inside the bundle with a notice; anything else stops the build.
const ALLOWED = new Set(['MIT', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', 'Apache-2.0', '0BSD', 'BlueOak-1.0.0']);

rmSync(OUT, { recursive: true, force: true });
const { metafile } = await build({
  absWorkingDir: ROOT,
  // The converter's worker thread (core/convert-thread.ts) is a second entry, found beside the chunks.
  entryPoints: ['dist/main.js', 'dist/core/convert-worker.js'],
  entryNames: '[name]',
  outdir: OUT,
  bundle: true,
  // Commands load what only they need (the sandbox, XLSX, batch …) with import(): separate chunks.
  // Flat in dist/bundle/, so that '../../package.json' from any chunk is the package's, as from dist/*/.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS libraries (commander, cli-progress, http2-wrapper …) require Node's modules.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
  inject: [join(ROOT, 'scripts/bundle/lazy-list-format.js')],
  plugins: [gotLeftOut()],
  define: { 'Intl.ListFormat': 'LazyListFormat' },
  // Readable stack traces of internal errors: not minified, and no source maps to load.
  minify: false,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

/**
 * got's optional features that ms-async never turns on, left out of the bundle: each package is
 * resolved to a module re-exporting its stand-in from scripts/bundle/got-left-out.js.
 */
function gotLeftOut() {
  const file = JSON.stringify(join(ROOT, 'scripts/bundle/got-left-out.js'));
  const exports = {
    'http2-wrapper': 'http2Wrapper as default',
    'cacheable-request': 'CacheableRequest as default, CacheError',
    'cacheable-lookup': 'CacheableLookup as default',
    'form-data-encoder': 'FormDataEncoder, isFormData',
  };
  return {
    name: 'got-left-out',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(${Object.keys(exports).join('|')})$`) }, (args) =>
        args.importer.includes('/node_modules/got/') ? { path: args.path, namespace: 'got-left-out' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'got-left-out' }, (args) => ({
        contents: `export { ${exports[args.path]} } from ${file};`,
        resolveDir: ROOT,
        loader: 'js',
      }));
    },
  };
}

/**
 * esbuild turns every top-level const of a bundle into var, on purpose and with no option (TDZ
 * checks were slow in some engines). V8 folds a module's const bindings into the code that reads
 * them, not its vars: the converter's hot loops, which read lookup tables and states from module
 * constants, ran 10–15% slower bundled (NDJSON of 100 MB in one process: 210 ms against 180).
 * This puts const back on the top-level vars of our own modules (after a `// dist/…` marker) that
 * are initialised where declared and assigned nowhere in the file. Our sources have no var
 * (Biome's noVar), so each of those was a const, and the bundle keeps the modules' order: no read
 * comes before its initialisation that did not already in the unbundled run. Libraries' code
 * stays as esbuild wrote it.
 */
function restoreConst(code) {
  const comments = [];
  const program = parse(code, { ecmaVersion: 'latest', sourceType: 'module', onComment: comments });
  const markers = comments.filter((c) => c.type === 'Line' && /^ (dist|node_modules|scripts)\//.test(c.value));
  const ours = (position) => {
    const marker = markers.findLast((c) => c.start < position);
    return marker !== undefined && marker.value.startsWith(' dist/');
  };
  const assigned = new Set();
  const targets = (pattern) => {
    if (!pattern) return;
    if (pattern.type === 'Identifier') assigned.add(pattern.name);
    else if (pattern.type === 'ObjectPattern') for (const p of pattern.properties) targets(p.value ?? p.argument);
    else if (pattern.type === 'ArrayPattern') for (const e of pattern.elements) targets(e);
    else if (pattern.type === 'RestElement') targets(pattern.argument);
    else if (pattern.type === 'AssignmentPattern') targets(pattern.left);
  };
  const walk = (node) => {
    if (node.type === 'AssignmentExpression') targets(node.left);
    else if (node.type === 'UpdateExpression') targets(node.argument);
    else if (
      (node.type === 'ForInStatement' || node.type === 'ForOfStatement') &&
      node.left.type !== 'VariableDeclaration'
    )
      targets(node.left);
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) for (const v of value) v && typeof v.type === 'string' && walk(v);
      else if (value && typeof value.type === 'string') walk(value);
    }
  };
  walk(program);
  let out = '';
  let from = 0;
  let restored = 0;
  for (const statement of program.body) {
    if (statement.type !== 'VariableDeclaration' || statement.kind !== 'var' || !ours(statement.start)) continue;
    const fits = statement.declarations.every((d) => d.init && d.id.type === 'Identifier' && !assigned.has(d.id.name));
    if (!fits || code.slice(statement.start, statement.start + 4) !== 'var ') continue;
    out += `${code.slice(from, statement.start)}const`;
    from = statement.start + 3;
    restored += 1;
  }
  return { code: out + code.slice(from), restored };
}

/** node_modules/a/…, node_modules/@s/b/…, nested ones too: the innermost package folder. */
function packageDir(input) {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const length = parts[at + 1].startsWith('@') ? 3 : 2;
  return parts.slice(0, at + length).join('/');
}

let restored = 0;
for (const name of readdirSync(OUT).filter((n) => n.endsWith('.js'))) {
  const file = join(OUT, name);
  const result = restoreConst(readFileSync(file, 'utf8'));
  writeFileSync(file, result.code);
  restored += result.restored;
}
if (restored < 100) throw new Error(`restoreConst put const back on ${restored} declarations only: check its markers`);

const packages = [...new Set(Object.keys(metafile.inputs).map(packageDir).filter(Boolean))].sort();
const notices = [];
for (const dir of packages) {
  const manifest = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
  const license = typeof manifest.license === 'string' ? manifest.license : manifest.license?.type;
  if (!ALLOWED.has(license))
    throw new Error(`${manifest.name}: licence ${license ?? 'unknown'} is not in the allowed list`);
  const file = readdirSync(join(ROOT, dir)).find((name) => /^licen[cs]e(\.|$)/i.test(name));
  const text = file
    ? readFileSync(join(ROOT, dir, file), 'utf8').trim()
    : `${license} (the package has no licence file)`;
  notices.push(`${manifest.name}@${manifest.version} (${license})\n\n${text}`);
}
writeFileSync(
  join(OUT, 'THIRD-PARTY-LICENSES.txt'),
  `ms-async bundles these libraries (scripts/bundle.mjs); their licences follow.\n\n${notices.join(`\n\n${'-'.repeat(72)}\n\n`)}\n`,
);
