#!/usr/bin/env bash
# trunk's post_build hook: writes a .gz and a .br beside every built asset,
# so that the server sends them as they are (tower-http's precompressed
# ServeDir) instead of compressing on each request or not at all.
set -euo pipefail
dir="${TRUNK_STAGING_DIR:?run by trunk, which sets TRUNK_STAGING_DIR}"
find "$dir" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.svg' \) -print0 |
    while IFS= read -r -d '' file; do
        gzip -9 -n -k -f "$file"
        brotli -q 11 -k -f "$file"
    done
