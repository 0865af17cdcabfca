#!/usr/bin/env bash
# scripts/install-deps.sh - installs the Debian packages portcullis needs
# that are missing.
#
#   install-deps.sh build   compiler and the -dev libraries; passwdqc's
#                           pwqfilter and python3-zxcvbn, whose list of
#                           common passwords becomes the shipped deny list
#   install-deps.sh run     build + PostgreSQL 15, Redis, lighttpd (with
#                           mod_magnet), Apache with mod_fcgid and apxs
#                           (apache2-dev: the connection-cap module), spawn-fcgi,
#                           openssl, curl
#   install-deps.sh bench   run + wrk and jq (make bench)
#   install-deps.sh test    run + what the tests use (jq, iproute2, prometheus, python3-yaml,
#                           chromium, docker-compose and shellcheck for `make check`,
#                           binutils, pgbouncer, clang with libFuzzer for tests/fuzz/; nodejs and npm only where there is no npm at all:
#                           the machines' Node.js 20 ships its own, and conflicts with Debian's npm)
#
# Each package is checked with one dpkg-query call; only when something is
# missing does it run apt-get update and apt-get install --no-install-recommends
# (through sudo when not root; without sudo it fails, naming the packages).
# Services are not started by the install: a temporary policy-rc.d refuses
# them, so no system PostgreSQL, Redis, lighttpd or Apache is left running.
# Exit status: 0 when everything is present, 1 on failure, 2 on usage error.

set -euo pipefail

BUILD=(gcc make pkg-config libc6-dev libfcgi-dev libhiredis-dev libpq-dev
	libjwt-dev libcjson-dev libcrypt-dev libssl-dev
	libpasswdqc-dev passwdqc python3-zxcvbn)
RUN=("${BUILD[@]}" postgresql-15 postgresql-client-15 redis-server redis-tools
	lighttpd lighttpd-mod-openssl lighttpd-modules-lua apache2
	libapache2-mod-fcgid apache2-dev spawn-fcgi openssl curl ca-certificates procps
	util-linux)
TEST=("${RUN[@]}" jq iproute2 prometheus python3-yaml chromium docker-compose shellcheck binutils pgbouncer
	clang libclang-rt-14-dev)
command -v npm >/dev/null || TEST+=(nodejs npm)
BENCH=("${RUN[@]}" wrk jq)

case "${1-}" in
build) want=("${BUILD[@]}") ;;
run) want=("${RUN[@]}") ;;
test) want=("${TEST[@]}") ;;
bench) want=("${BENCH[@]}") ;;
*)
	echo "usage: install-deps.sh build|run|bench|test" >&2
	exit 2
	;;
esac

declare -A have=()
while read -r pkg status; do
	[ "$status" = "install ok installed" ] && have[${pkg%%:*}]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${want[@]}" 2>/dev/null || true)

missing=()
for pkg in "${want[@]}"; do
	[ -n "${have[$pkg]-}" ] || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null; then
		echo "install-deps.sh: missing packages: ${missing[*]}" >&2
		echo "install-deps.sh: not root and no sudo; install them as root" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "install-deps.sh: installing ${missing[*]}"
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# temporary, from portcullis scripts/install-deps.sh\nexit 101\n' |
		"${sudo[@]}" tee "$policy" >/dev/null
	"${sudo[@]}" chmod 0755 "$policy"
	trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"
