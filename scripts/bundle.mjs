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
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist/bundle');
// Licences we may ship inside the bundle with a notice; anything else stops the build.
const ALLOWED = new Set(['MIT', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', 'Apache-2.0', '0BSD', 'BlueOak-1.0.0']);

rmSync(OUT, { recursive: true, force: true });
const { metafile } = await build({
  absWorkingDir: ROOT,
  entryPoints: ['dist/main.js'],
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
  define: { 'Intl.ListFormat': 'LazyListFormat' },
  // Readable stack traces of internal errors: not minified, and no source maps to load.
  minify: false,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

/** node_modules/a/…, node_modules/@s/b/…, nested ones too: the innermost package folder. */
function packageDir(input) {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const length = parts[at + 1].startsWith('@') ? 3 : 2;
  return parts.slice(0, at + length).join('/');
}

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
