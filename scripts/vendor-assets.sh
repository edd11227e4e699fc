#!/usr/bin/env bash
# Refreshes the console's vendored front-end assets from npm. Run it by hand
# when upgrading a version below; building and running Seintje never needs
# Node or npm (the files are committed and embedded with go:embed).
#
#   bash scripts/vendor-assets.sh
#
# Needs npm and tar. Each package's licence file is copied next to it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

UTRECHT_CSS=@utrecht/component-library-css@9.0.4            # EUPL-1.2: NL Design System components (CSS)
TOKENS=@nl-design-system-unstable/voorbeeld-design-tokens@7.4.1 # EUPL-1.2: the NL Design System example theme
HTMX=htmx.org@2.0.7                                          # 0BSD
AXE=axe-core@4.14.1                                          # MPL-2.0: accessibility checks, browser tests only
MERMAID=@mermaid-js/tiny@12.0.0                              # MIT: the flow graph; mermaid's own build without mindmap,
                                                             # architecture and KaTeX (the full mermaid.min.js, 1.6 MB
                                                             # gzipped, would break the binary's size budget)

STATIC=bot/console/static/vendor
AXEDIR=bot/console/browsertest/axe
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() { # fetch <spec> <dir>: unpack an npm package into <dir>/package
	mkdir -p "$2"
	(cd "$2" && npm pack --silent "$1" >/dev/null && tar xzf ./*.tgz)
}

fetch "$UTRECHT_CSS" "$tmp/utrecht"
fetch "$TOKENS" "$tmp/tokens"
fetch "$HTMX" "$tmp/htmx"
fetch "$AXE" "$tmp/axe"
fetch "$MERMAID" "$tmp/mermaid"

rm -rf "$STATIC" "$AXEDIR"
mkdir -p "$STATIC/utrecht" "$STATIC/tokens" "$STATIC/htmx" "$STATIC/mermaid" "$AXEDIR"
# The large assets are stored gzip -9 as <name>.gz (go:embed keeps files as
# they are); the console serves them as <name> with Content-Encoding: gzip
# (bot/console/static.go). That keeps the binary and the image small.
gzip -9 -n -c "$tmp/utrecht/package/dist/index.css" >"$STATIC/utrecht/component-library.css.gz"
cp "$tmp/utrecht/package/LICENSE.md" "$STATIC/utrecht/LICENSE.md"
gzip -9 -n -c "$tmp/tokens/package/dist/theme.css" >"$STATIC/tokens/theme.css.gz"
cp "$tmp/tokens/package/LICENSE.md" "$STATIC/tokens/LICENSE.md"
gzip -9 -n -c "$tmp/htmx/package/dist/htmx.min.js" >"$STATIC/htmx/htmx.min.js.gz"
cp "$tmp/htmx/package/LICENSE" "$STATIC/htmx/LICENSE"
gzip -9 -n -c "$tmp/mermaid/package/dist/mermaid.tiny.js" >"$STATIC/mermaid/mermaid.min.js.gz"
cp "$tmp/mermaid/package/LICENSE" "$STATIC/mermaid/LICENSE"
cp "$tmp/axe/package/axe.min.js" "$AXEDIR/axe.min.js"
cp "$tmp/axe/package/LICENSE" "$AXEDIR/LICENSE"

cat >"$STATIC/VERSIONS" <<VERSIONS
$UTRECHT_CSS (dist/index.css, stored gzip -9 as utrecht/component-library.css.gz)
$TOKENS (dist/theme.css, stored gzip -9 as tokens/theme.css.gz)
$HTMX (dist/htmx.min.js, stored gzip -9 as htmx/htmx.min.js.gz)
$MERMAID (dist/mermaid.tiny.js, stored gzip -9 as mermaid/mermaid.min.js.gz; served as mermaid.min.js)
VERSIONS
echo "$AXE" >"$AXEDIR/VERSION"
echo "vendored: $UTRECHT_CSS $TOKENS $HTMX $MERMAID $AXE"
