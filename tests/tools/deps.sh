#!/bin/sh
# deps.sh DEBIAN-PACKAGE... -- COMMAND:PACKAGE...
# Installs the Debian packages that are missing (and the packages of commands
# not on PATH) when run as root; otherwise prints the apt-get line and fails.
set -eu
missing=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    if ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $1"
    fi
    shift
done
[ $# -gt 0 ] && shift
for pair in "$@"; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "dwell needs these Debian packages; install them with:" >&2
    echo "  sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q $missing >/dev/null
