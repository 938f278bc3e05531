#!/usr/bin/env bash
# Install, from Debian packages, the servers the test-suite starts on its own
# (PostgreSQL + pg_trgm, Redis, MariaDB, Chromium + CJK fonts).
#
# Only what is missing is installed; nothing is started system-wide: the test
# fixtures (tests/servers.py) run private instances on loopback in temp dirs.
# Idempotent; prints "services: all present" when there is nothing to do.
set -euo pipefail

missing=()

# PostgreSQL server: Debian keeps it in /usr/lib/postgresql/<ver>/bin.
have_pg=no
for bin in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$bin" ] && [ -x "$(dirname "$bin")/initdb" ] && have_pg=yes
done
[ "$have_pg" = yes ] || missing+=(postgresql)

# pg_trgm ships in the contrib set (part of postgresql-<ver> on Debian 12).
have_trgm=no
for ctl in /usr/share/postgresql/*/extension/pg_trgm.control; do
    [ -f "$ctl" ] && have_trgm=yes
done
[ "$have_trgm" = yes ] || missing+=(postgresql-contrib)

[ -x /usr/bin/redis-server ] || missing+=(redis-server)

if { [ -x /usr/sbin/mariadbd ] || [ -x /usr/sbin/mysqld ]; } \
    && [ -x /usr/bin/mariadb-install-db ]; then
    :
else
    missing+=(mariadb-server)
fi

[ -x /usr/bin/chromium ] || missing+=(chromium)

# Chinese text in screenshots needs a CJK font; Chromium has none by default.
if ! compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK-*.tt[cf]' >/dev/null; then
    missing+=(fonts-noto-cjk)
fi

if [ "${#missing[@]}" -eq 0 ]; then
    echo "services: all present"
    exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"

if [ "$(id -u)" -ne 0 ]; then
    echo "services: missing Debian packages: ${missing[*]}" >&2
    echo "services: run as root:  apt-get update && $cmd" >&2
    exit 1
fi

# Keep Debian's postinst scripts from starting system daemons (exit 101 =
# "action forbidden"). Leave an existing policy-rc.d alone; remove only ours.
policy=/usr/sbin/policy-rc.d
ours=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    ours=yes
fi
cleanup() { if [ "$ours" = yes ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
echo "services: installing ${missing[*]}"
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >/dev/null
echo "services: installed ${missing[*]}"
