#!/usr/bin/env bash
# Sets up everything the tests need on a fresh Debian machine, then runs them.
# System packages: the AVR toolchain and Arduino core (to build the generated firmware), simavr
# (to run it), clang (libFuzzer). Python packages: this project with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
APT_PACKAGES="gcc-avr binutils-avr avr-libc arduino-core-avr simavr libsimavr-dev libelf-dev
pkg-config clang libclang-rt-14-dev gcc make"
missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

python3 -m pip install -q -e ".[test]"
python3 -m pytest -q "$@"
