#!/usr/bin/env bash
# trunk's post_build hook, run in trunk's staging directory:
#  1. removes from the wasm and its JS glue the `wasm-streams` classes that
#     Leptos's server functions bring and no Kasse page uses (see
#     strip-streams.mjs): 1.5 KB of wasm and 0.4 KB of JS, gzipped;
#  2. minifies wasm-bindgen's JS glue and the style sheet with esbuild
#     (trunk leaves them as written);
#  3. puts each changed file's SHA-384 in the page's `integrity` attribute,
#     which trunk computed from the file as it wrote it;
#  4. writes a .gz and a .br beside every built asset, so that the server
#     sends them as they are (tower-http's precompressed ServeDir) instead of
#     compressing on each request or not at all.
set -euo pipefail
dir="${TRUNK_STAGING_DIR:?run by trunk, which sets TRUNK_STAGING_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
esbuild="$root/node_modules/.bin/esbuild"
wasm_opt="$root/node_modules/.bin/wasm-opt"

sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | openssl base64 -A)"; }

# Runs "$@" on $file, then gives the page the file's new hash.
rewrite() {
    local file=$1 before after html
    shift
    before=$(sri "$file")
    "$@"
    after=$(sri "$file")
    for html in "$dir"/*.html; do
        grep -qF "$before" "$html" || continue
        sed -i "s|$before|$after|g" "$html"
    done
}

strip_streams() {
    local wasm=$1 glue=$2
    # trunk ran wasm-opt -Oz already; again after the exports are gone (the
    # passes run in the order given), the code only they reached goes.
    "$wasm_opt" "$wasm" --remove-exports='*intounderlying*' -Oz \
        --enable-reference-types --enable-bulk-memory \
        --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
        -o "$wasm.stripped"
    mv "$wasm.stripped" "$wasm"
    node "$root/scripts/strip-streams.mjs" "$glue" "$wasm"
}

find "$dir" -maxdepth 1 -type f -name '*_bg.wasm' -print0 |
    while IFS= read -r -d '' wasm; do
        glue="${wasm%_bg.wasm}.js"
        [ -f "$glue" ] || continue
        # Both files change: the inner rewrite gives the page the wasm's
        # new hash, the outer the glue's.
        rewrite "$glue" rewrite "$wasm" strip_streams "$wasm" "$glue"
    done

find "$dir" -maxdepth 1 -type f -name '*.js' -print0 |
    while IFS= read -r -d '' file; do
        rewrite "$file" "$esbuild" "$file" --minify --format=esm --log-level=warning --allow-overwrite --outfile="$file"
    done

# The style sheet too: its comments are for designers reading style/,
# not for every customer's download (0.4 KB gzipped of the page's 1.9).
find "$dir" -maxdepth 1 -type f -name '*.css' -print0 |
    while IFS= read -r -d '' file; do
        rewrite "$file" "$esbuild" "$file" --minify --log-level=warning --allow-overwrite --outfile="$file"
    done

find "$dir" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.svg' \) -print0 |
    while IFS= read -r -d '' file; do
        gzip -9 -n -k -f "$file"
        brotli -q 11 -k -f "$file"
    done
