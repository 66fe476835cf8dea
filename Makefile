# Kasse: `make run` serves the demo, `make test` runs every test.
# Both install whatever is missing first (scripts/setup.sh).

SHELL := /bin/bash
# node_modules/.bin holds npm's wasm-opt (see scripts/setup.sh); trunk uses
# the wasm-bindgen and wasm-opt that setup installed, and downloads nothing.
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export TRUNK_OFFLINE := true
export CHROMEDRIVER ?= /usr/bin/chromedriver
# Incremental caches only help a developer's edit-compile loop; in a
# one-off `make test` they double the target directory.
export CARGO_INCREMENTAL ?= 0

ADDR ?= 127.0.0.1:8080
DATABASE ?= data/kasse.db
# The card vault's key for the demo: kept outside the database's folder,
# as Kasse insists, and made on the first run.
VAULT_KEY_FILE ?= $(HOME)/.config/kasse/demo-vault.key
# The demo's mail server: a local SMTP sink (STARTTLS, its own CA) that
# keeps every email Kasse sends as a file in MAIL_DIR.
MAIL_ADDR ?= 127.0.0.1:2525
MAIL_DIR ?= data/demo-mail

.PHONY: run test bench bench-page setup services frontend build lint test-native test-api-fuzz test-wasm test-e2e clean

run: setup frontend
	@echo "==> Building the kasse server and the demo's mail sink (release)"
	cargo build --release -p kasse-server -p kasse-testkit --bin kasse --bin kasse-mail-sink
	@mkdir -p "$(dir $(VAULT_KEY_FILE))"
	@test -s "$(VAULT_KEY_FILE)" || (umask 077 && ./target/release/kasse vault generate-key > "$(VAULT_KEY_FILE)")
	@rm -f "$(MAIL_DIR)/ca.pem"
	@echo "==> Starting Kasse with the demo shop on http://$(ADDR)/ (Ctrl-C stops it); card vault key: $(VAULT_KEY_FILE)"
	@echo "==> Email (payment links, reminders, receipts) goes to a local SMTP sink on $(MAIL_ADDR): read it in $(MAIL_DIR)/*.eml"
	@./target/release/kasse-mail-sink $(MAIL_ADDR) $(MAIL_DIR) & sink=$$!; trap "kill $$sink 2>/dev/null" EXIT; \
	for _ in $$(seq 100); do test -s "$(MAIL_DIR)/ca.pem" && break; sleep 0.1; done; \
	KASSE_VAULT_KEY_FILE="$(VAULT_KEY_FILE)" \
	KASSE_SMTP_URL="smtp://localhost:$(lastword $(subst :, ,$(MAIL_ADDR)))" \
	KASSE_SMTP_CA_FILE="$(MAIL_DIR)/ca.pem" \
	KASSE_MAIL_FROM="Kasse Demo Coffee <billing@demo.test>" \
	./target/release/kasse --database $(DATABASE) serve --addr $(ADDR) --demo --static-dir dist --webhook-allow-private

test: setup services frontend lint test-native test-api-fuzz test-wasm test-e2e
	@echo "==> All tests passed"

# Figures, not pass or fail: not part of `make test`. `bench` prints one
# table: throughput and latency beside a bare baseline on SQLite and
# PostgreSQL, webhooks, and the page's size (BENCHMARKS.md), then the
# page's and the terminal's wasm by crate and largest function (twiggy).
# `bench-page` times the payment page in headless Chromium.
bench: setup services frontend
	@./scripts/setup.sh bench
	@echo "==> Kasse beside a bare baseline, on SQLite and PostgreSQL (wrk; about six minutes)"
	cargo bench -p kasse-server --bench throughput
	@echo "==> Where the payment page's and the terminal's wasm bytes go (twiggy)"
	@./scripts/wasm-profile.sh

bench-page: setup frontend
	@echo "==> The payment page in headless Chromium: time to an interactive form, bytes on the wire"
	KASSE_DIST=$(CURDIR)/dist cargo bench -p kasse-e2e --bench page_load

setup:
	@./scripts/setup.sh

# PostgreSQL (KASSE_TEST_POSTGRES_URL, else 127.0.0.1:5432, started if need
# be) and nginx, for the store suite, multi-instance and deployment tests.
services:
	@./scripts/test-services.sh

frontend:
	@echo "==> Building the payment page (trunk, release)"
	trunk build --release
	@echo "==> Building the card update page, its own bundle (trunk, release)"
	trunk build --release --dist dist/update --public-url /static/update/ update.html
	@echo "==> Building the merchant terminal, its own bundle (trunk, release)"
	cd terminal && trunk build --release

lint:
	@echo "==> cargo fmt --check and cargo clippy"
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p kasse-web --target wasm32-unknown-unknown --all-targets -- -D warnings
	cargo clippy -p kasse-terminal --target wasm32-unknown-unknown --all-targets -- -D warnings

test-native:
	@echo "==> Rust tests of every crate (core, server, page logic; the store suite on SQLite and PostgreSQL)"
	cargo test --workspace --exclude kasse-e2e
	@echo "==> The API tests again, each on its own PostgreSQL database"
	# The same package selection as above, so the build above serves: with
	# `-p kasse-server` alone, features resolve differently and everything
	# is compiled a second time.
	KASSE_TEST_STORE=postgres cargo test --workspace --exclude kasse-e2e --test api

test-api-fuzz:
	@echo "==> schemathesis against /openapi.json of a running Kasse: any 5xx, or any answer the document does not describe, fails"
	./scripts/api-fuzz.sh

test-wasm:
	@echo "==> wasm-bindgen-test in headless Chromium (card form, languages, theme)"
	cargo test -p kasse-web --target wasm32-unknown-unknown

test-e2e:
	@echo "==> Browser end-to-end tests (headless Chromium over WebDriver)"
	# Two browsers at a time: more, on two cores, starve chromedriver.
	KASSE_DIST=$(CURDIR)/dist cargo test -p kasse-e2e -- --test-threads=2

clean:
	cargo clean
	rm -rf dist
