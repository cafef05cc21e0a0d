#!/bin/sh
# deps.sh - install the Debian packages ecsched needs to build, test and
# benchmark. Runs apt-get update only when a package is missing, so a second
# run is a quick no-op.
set -eu

# clang-14 and libclang-rt-14-dev (libclang_rt.fuzzer, the sanitizer
# runtimes) build the libFuzzer targets of make fuzz.
PACKAGES="gcc make libc6-dev pkg-config tzdata libjansson-dev libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev libyaml-dev python3 python3-yaml python3-apscheduler python3-croniter wrk util-linux clang-14 libclang-rt-14-dev"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
