#!/usr/bin/env bash
# The packed package as a user gets it (README.md, "Install"): npm pack, a global install into a
# temporary prefix with no install-script warning, then the installed binary runs an export.
# A CI step, not part of `npm test`: it packs and installs, which takes a while.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
files=$(tar -tzf "$work/$tarball")
grep -qx 'package/LICENSE' <<<"$files" || { echo "check-pack: no LICENSE in $tarball" >&2; exit 1; }
grep -qx 'package/dist/bundle/main.js' <<<"$files" || { echo "check-pack: no dist/bundle/ in $tarball" >&2; exit 1; }
grep -qx 'package/dist/bundle/THIRD-PARTY-LICENSES.txt' <<<"$files" || { echo "check-pack: no licences of the bundled libraries in $tarball" >&2; exit 1; }
if grep -q '^package/dist/[^/]*\.js$' <<<"$files"; then echo "check-pack: tsc's dist/ is packed beside the bundle" >&2; exit 1; fi
manifest=$(tar -xzf "$work/$tarball" -O package/package.json)
if grep -q '"prepare"' <<<"$manifest"; then
  echo "check-pack: the packed package.json still has a prepare script" >&2; exit 1
fi
# Everything runs from the bundle: the package installs nothing else (README.md, "Install").
if grep -q '"dependencies"' <<<"$manifest"; then
  echo "check-pack: the packed package.json has dependencies; the bundle carries them" >&2; exit 1
fi
npm install -g --prefix "$work/prefix" "$work/$tarball" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; exit 1; }
if grep -qi 'install-scripts\|install script' "$work/install.log"; then
  cat "$work/install.log" >&2; echo 'check-pack: the global install warned about install scripts' >&2; exit 1
fi
"$work/prefix/bin/ms-async" --version
"$work/prefix/bin/ms-async" -q export stock-bystore --sandbox --sandbox-rows 20 --out "$work/stock.csv"
test "$(wc -l <"$work/stock.csv")" -gt 20
test ! -e .package.json.prepack
echo "check-pack: ok ($tarball)"
