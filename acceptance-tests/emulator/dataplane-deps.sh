#!/usr/bin/env bash
# What the emulator's data plane (--data-plane) needs on the machine: MariaDB (server, client,
# mariadb-dump, mariadb-install-db) and PostgreSQL 15, run as root (servers run as the mysql and
# postgres users). Installs only what is missing, as root via apt-get; otherwise says what to
# install and exits 1. Idempotent: a second run with everything present does nothing.
set -euo pipefail

missing_pkgs=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
for tool in mariadbd mariadb-install-db mariadb-dump mariadb; do
  if ! have "$tool"; then missing_pkgs+=(mariadb-server mariadb-client); break; fi
done
[ -x /usr/lib/postgresql/15/bin/postgres ] || missing_pkgs+=(postgresql-15)

if [ ${#missing_pkgs[@]} -eq 0 ]; then
  echo "== data plane: MariaDB and PostgreSQL 15 present"
elif [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== data plane: installing ${missing_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}"
else
  echo "== data plane: missing ${missing_pkgs[*]}: install them as root" \
    "(apt-get install -y ${missing_pkgs[*]}); the --data-plane tests fail without them" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "== data plane: the --data-plane tests must run as root (servers run as the mysql and postgres users)" >&2
  exit 1
fi
