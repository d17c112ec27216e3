#!/usr/bin/env node
// `npm pack`/`npm publish` helper. The packed package carries dist/ already built, so its
// package.json must not carry `prepare` (npm 11 warns about install scripts on a global install
// of the tarball, and there is nothing to build). A clone keeps `prepare`: `npm install` in it, and
// an install from git, build dist/ through it. prepack strips it (keeping the original beside),
// postpack puts the original back. README.md, "Install".
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const manifest = new URL('../package.json', import.meta.url);
const original = new URL('../.package.json.prepack', import.meta.url);
const mode = process.argv[2];

if (mode === 'strip') {
  if (existsSync(original))
    throw new Error('.package.json.prepack exists: a pack was cut short; run `node scripts/pack-manifest.mjs restore`');
  const text = readFileSync(manifest, 'utf8');
  const json = JSON.parse(text);
  delete json.scripts.prepare;
  writeFileSync(original, text);
  writeFileSync(manifest, `${JSON.stringify(json, null, 2)}\n`);
} else if (mode === 'restore') {
  if (existsSync(original)) renameSync(original, manifest);
} else {
  throw new Error('usage: pack-manifest.mjs strip|restore');
}
