#!/usr/bin/env bash
# Installs what Kasse's build and tests need and is missing. Each step says
# what it does, and is skipped when its tool is already there at the right
# version, so a second run takes a second.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

# Root installs packages directly; anyone else needs sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "Adding the wasm32-unknown-unknown Rust target (the payment page compiles to it)"
    rustup target add wasm32-unknown-unknown
fi

for component in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component"; then
        step "Adding the Rust component $component"
        rustup component add "$component"
    fi
done

missing_packages=()
# `make bench` (scripts/setup.sh bench) drives the server with wrk.
if [ "${1:-}" = bench ]; then
    have wrk || missing_packages+=(wrk)
fi
have chromium || missing_packages+=(chromium)
have chromedriver || missing_packages+=(chromium-driver)
have npm || missing_packages+=(nodejs npm)
have brotli || missing_packages+=(brotli)
# A Bengali typeface, so that Chromium draws the Bangla page (and its
# screenshots) in letters rather than empty boxes.
fc-list :lang=bn 2>/dev/null | grep -q . || missing_packages+=(fonts-lohit-beng-bengali)
if [ "${#missing_packages[@]}" -gt 0 ]; then
    step "Installing ${missing_packages[*]} from Debian (headless browser tests; npm for build tools; brotli for the built assets; wrk for make bench)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_packages[@]}"
fi

# wasm-opt shrinks the page. Debian's (binaryen 108) corrupts the
# reference-types wasm that current rustc emits, so take binaryen from npm.
wasm_opt_wanted=$(sed -n 's/.*"binaryen": "\([0-9]*\)\..*/\1/p' package.json)
# axe-core checks the page's accessibility in the browser tests.
axe_wanted=$(sed -n 's/.*"axe-core": "\([0-9.]*\)".*/\1/p' package.json)
# esbuild minifies the pages' JS glue after trunk (scripts/precompress.sh).
esbuild_wanted=$(sed -n 's/.*"esbuild": "\([0-9.]*\)".*/\1/p' package.json)
# The official SSLCOMMERZ Node SDK: the compatibility tests drive it unmodified.
sdk_wanted=$(sed -n 's/.*"sslcommerz-lts": "\([0-9.]*\)".*/\1/p' package.json)
if ! node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q "version $wasm_opt_wanted\b" ||
    ! grep -q "\"version\": \"$axe_wanted\"" node_modules/axe-core/package.json 2>/dev/null ||
    ! node_modules/.bin/esbuild --version 2>/dev/null | grep -qx "$esbuild_wanted" ||
    ! grep -q "\"version\": \"$sdk_wanted\"" node_modules/sslcommerz-lts/package.json 2>/dev/null; then
    step "Installing binaryen $wasm_opt_wanted (wasm-opt), esbuild $esbuild_wanted, axe-core $axe_wanted and sslcommerz-lts $sdk_wanted from npm into node_modules"
    npm ci --no-audit --no-fund
fi

if ! trunk --version 2>/dev/null | grep -q '^trunk 0\.21\.'; then
    step "Building trunk 0.21 from crates.io (it builds the page; this takes about 10 minutes, once)"
    TRUNK_OFFLINE=true cargo install trunk --version '~0.21' --locked
fi

# wasm-bindgen's CLI must match the library in Cargo.lock exactly.
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wasm_bindgen_version"; then
    step "Building wasm-bindgen-cli $wasm_bindgen_version (must match Cargo.lock; a few minutes, once)"
    cargo install wasm-bindgen-cli --version "$wasm_bindgen_version"
fi

# twiggy shows where the pages' wasm bytes go, for `make bench` only.
if [ "${1:-}" = bench ] && ! twiggy --version 2>/dev/null | grep -q ' 0\.8\.'; then
    step "Building twiggy 0.8 from crates.io (make bench's wasm profile; a few minutes, once)"
    cargo install twiggy --version '~0.8' --locked
fi

# schemathesis attacks the API from its OpenAPI document in `make test`;
# it lives in its own virtual environment, pinned.
schemathesis_wanted=$(sed -n 's/^schemathesis==//p' scripts/schemathesis-requirements.txt)
if ! .venv/bin/st --version 2>/dev/null | grep -q "version $schemathesis_wanted\$"; then
    step "Installing schemathesis $schemathesis_wanted from PyPI into .venv (it attacks the API in make test)"
    if ! python3 -m venv .venv 2>/dev/null; then
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
        python3 -m venv .venv
    fi
    .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/schemathesis-requirements.txt
fi

# The official SSLCOMMERZ Python SDK, which the compatibility tests drive
# unmodified, in the same virtual environment, pinned.
sdk_py_wanted=$(sed -n 's/^sslcommerz-lib==//p' scripts/sdk-requirements.txt)
if ! .venv/bin/pip show sslcommerz-lib 2>/dev/null | grep -qx "Version: $sdk_py_wanted"; then
    step "Installing the SSLCOMMERZ Python SDK (sslcommerz-lib $sdk_py_wanted) from PyPI into .venv"
    .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/sdk-requirements.txt
fi

printf '\n==> Tools ready: %s, %s, %s, %s, %s\n' \
    "$(trunk --version)" "$(wasm-bindgen --version)" \
    "$(chromium --version 2>/dev/null | head -n1)" "$(node_modules/.bin/wasm-opt --version)" \
    "$(.venv/bin/st --version)"
