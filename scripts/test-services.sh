#!/usr/bin/env bash
# What `make test` needs besides the build tools: a PostgreSQL server for
# the store suite and the multi-instance tests, and nginx for the deployment
# test. Uses KASSE_TEST_POSTGRES_URL when set; otherwise the server on
# 127.0.0.1:5432, installing and starting one from Debian when none answers.
set -euo pipefail

step() { printf '\n==> %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

apt_install() {
    step "Installing $* from Debian"
    as_root apt-get update -qq
    # Services are started here when needed, not by the package scripts.
    as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq "$@"
}

if ! have nginx && [ ! -x /usr/sbin/nginx ]; then
    apt_install nginx
fi

if [ -n "${KASSE_TEST_POSTGRES_URL:-}" ]; then
    printf '\n==> PostgreSQL for tests: %s (KASSE_TEST_POSTGRES_URL)\n' "$KASSE_TEST_POSTGRES_URL"
    exit 0
fi
if answers 127.0.0.1 5432; then
    printf '\n==> PostgreSQL for tests: postgres://postgres@127.0.0.1:5432\n'
    exit 0
fi

have pg_lsclusters || apt_install postgresql
cluster=$(pg_lsclusters --no-header | awk '{ print $1 " " $2; exit }')
if [ -z "$cluster" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
    step "Creating PostgreSQL $version cluster main"
    as_root pg_createcluster "$version" main
    cluster="$version main"
fi
read -r version name <<<"$cluster"
hba="/etc/postgresql/$version/$name/pg_hba.conf"
if ! as_root grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
    step "Letting local test connections in as postgres without a password ($hba)"
    as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
fi
step "Starting PostgreSQL $version ($name) on 127.0.0.1:5432"
as_root pg_ctlcluster "$version" "$name" restart
for _ in $(seq 1 50); do
    answers 127.0.0.1 5432 && exit 0
    sleep 0.2
done
echo "PostgreSQL did not start; see /var/log/postgresql/postgresql-$version-$name.log" >&2
exit 1
