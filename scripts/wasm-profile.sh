#!/usr/bin/env bash
# Where the payment page's and the terminal's wasm bytes go (`make bench`).
#
# Builds each bundle's wasm as trunk does (the `page` profile, wasm-bindgen,
# wasm-opt -Oz) but keeps the function names (`wasm-opt -g`), then prints,
# from twiggy's table of every item:
#   - the bytes by crate (the first path segment of each function's name;
#     drop glue counts as `core`, generic code as its self type's crate);
#   - the largest functions and data segments;
#   - the bundle's size as shipped (without the name section), raw and
#     gzipped at level 9, beside the same of what trunk put in dist/.
# A change that adds bytes shows here where they went.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

rows=${KASSE_PROFILE_ROWS:-15}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

profile() {
    local name=$1 manifest=$2 dist=$3
    printf '\n### %s wasm (%s)\n\n' "$name" "$manifest"
    cargo build --quiet --manifest-path "$manifest" --target wasm32-unknown-unknown \
        --profile page --bin "$name"
    wasm-bindgen --target web --out-dir "$out/$name" \
        "target/wasm32-unknown-unknown/page/$name.wasm"
    # trunk runs wasm-opt -Oz on the same file, and scripts/precompress.sh
    # removes the wasm-streams exports; -g keeps the names.
    wasm-opt --remove-exports='*intounderlying*' -Oz -g --enable-reference-types --enable-bulk-memory \
        --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
        "$out/$name/${name}_bg.wasm" -o "$out/$name/named.wasm"
    wasm-opt --strip-debug --enable-reference-types --enable-bulk-memory \
        "$out/$name/named.wasm" -o "$out/$name/stripped.wasm"
    twiggy top -n 1000000 --format csv "$out/$name/named.wasm" >"$out/$name/top.csv"
    local shipped
    shipped=$(find "$dist" -maxdepth 1 -name '*_bg.wasm' 2>/dev/null | head -n1 || true)
    python3 - "$out/$name/top.csv" "$rows" "$out/$name/stripped.wasm" "$shipped" <<'PY'
import collections, csv, gzip, os, re, sys

rows = list(csv.DictReader(open(sys.argv[1])))
limit = int(sys.argv[2])

def crate(name):
    if name.startswith('"function names'):
        return None  # the name section: not shipped
    if name.startswith('data segment'):
        return '(data: strings and tables)'
    if re.match(r'(custom section|elem|type|import|export|table|global|code section|wasm magic|section headers|")', name):
        return '(wasm structure: imports, types, tables)'
    s = name
    while s[:1] in '<&( ':
        s = re.sub(r'^(mut|dyn|const)\s+', '', s.lstrip('<&( '))
    m = re.match(r'[A-Za-z_][A-Za-z0-9_]*', s)
    c = m.group(0) if m else name[:24]
    if c == 'impl':
        m = re.search(r'impl\s+([A-Za-z_][A-Za-z0-9_]*)', s)
        c = m.group(1) if m else c
    if c in ('T', 'F', 'A', 'I', 'E', 'S', 'V', 'R'):
        return '(generic code, self type unnamed)'
    if c in ('f32', 'f64', 'u8', 'u16', 'u32', 'u64', 'usize', 'i8', 'i16', 'i32',
             'i64', 'isize', 'char', 'str', 'bool'):
        return 'core'
    return c

by_crate = collections.Counter()
items = collections.Counter()
shipped_items = []
for r in rows:
    c = crate(r['Name'])
    if c is None:
        continue
    size = int(r['ShallowSize'])
    by_crate[c] += size
    items[c] += 1
    shipped_items.append((size, r['Name']))
total = sum(by_crate.values())

print('| crate | bytes | share | items |')
print('|---|---:|---:|---:|')
for c, size in by_crate.most_common(limit):
    print(f'| {c} | {size:,} | {100 * size / total:.1f} % | {items[c]} |')
rest = total - sum(s for _, s in by_crate.most_common(limit))
print(f'| the other {len(by_crate) - limit} | {rest:,} | {100 * rest / total:.1f} % | |')
print(f'| **all, names stripped** | **{total:,}** | | |')
print()
print('| largest items | bytes |')
print('|---|---:|')
for size, name in sorted(shipped_items, reverse=True)[:limit]:
    name = re.sub(r'::h[0-9a-f]{16}$', '', name)
    name = re.sub(r'\[[0-9a-f]{16}\]', '', name)
    if len(name) > 110:
        name = name[:107] + '…'
    print(f'| `{name}` | {size:,} |')
print()

def sizes(path):
    data = open(path, 'rb').read()
    return len(data), len(gzip.compress(data, 9, mtime=0))

raw, gz = sizes(sys.argv[3])
print(f'As built here: {raw:,} bytes, {gz:,} gzipped (level 9).', end='')
if sys.argv[4] and os.path.exists(sys.argv[4]):
    raw, gz = sizes(sys.argv[4])
    print(f' As trunk built it into dist/: {raw:,} bytes, {gz:,} gzipped.')
else:
    print(' (No trunk build in dist/ to compare.)')
PY
}

case "${1:-both}" in
page) profile kasse-web Cargo.toml dist ;;
terminal) profile kasse-terminal terminal/Cargo.toml dist/terminal ;;
*)
    profile kasse-web Cargo.toml dist
    profile kasse-terminal terminal/Cargo.toml dist/terminal
    ;;
esac
