#!/bin/sh
# Debian's Prometheus 2.42 (prometheus, promtool) for the serve tests, unpacked
# under build/prometheus: downloaded with apt from the host's own sources,
# never installed (installing would start the system service).
set -eu
dest=${1:-build/prometheus}
[ -x "$dest/prometheus" ] && [ -x "$dest/promtool" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
# apt drops privileges to _apt for downloads: give it a directory it may write
chown _apt "$tmp" 2>/dev/null || true
if ! apt-get download -qq prometheus >/dev/null 2>&1; then
	apt-get update -qq
	apt-get download -qq prometheus >/dev/null
fi
dpkg -x prometheus_*.deb root
cd - >/dev/null
mkdir -p "$dest"
cp "$tmp/root/usr/bin/prometheus" "$tmp/root/usr/bin/promtool" "$dest/"
