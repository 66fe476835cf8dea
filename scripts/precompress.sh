#!/usr/bin/env bash
# trunk's post_build hook, run in trunk's staging directory:
#  1. minifies wasm-bindgen's JS glue with esbuild (trunk leaves it as
#     written) and puts the new file's SHA-384 in the page's `integrity`
#     attribute, which trunk computed from the unminified file;
#  2. writes a .gz and a .br beside every built asset, so that the server
#     sends them as they are (tower-http's precompressed ServeDir) instead of
#     compressing on each request or not at all.
set -euo pipefail
dir="${TRUNK_STAGING_DIR:?run by trunk, which sets TRUNK_STAGING_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
esbuild="$root/node_modules/.bin/esbuild"

sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | openssl base64 -A)"; }

find "$dir" -maxdepth 1 -type f -name '*.js' -print0 |
    while IFS= read -r -d '' file; do
        before=$(sri "$file")
        "$esbuild" "$file" --minify --format=esm --log-level=warning --outfile="$file.min"
        mv "$file.min" "$file"
        after=$(sri "$file")
        for html in "$dir"/*.html; do
            grep -qF "$before" "$html" || continue
            sed -i "s|$before|$after|g" "$html"
        done
    done

find "$dir" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.svg' \) -print0 |
    while IFS= read -r -d '' file; do
        gzip -9 -n -k -f "$file"
        brotli -q 11 -k -f "$file"
    done
