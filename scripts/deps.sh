#!/bin/sh
# Install what socktap needs to build and test on Debian 12, skipping what is
# already there. Run as root (CI is root); needs only Debian's repositories.
set -eu
# debhelper and lintian: make deb's dpkg-buildpackage and make check-deb's lintian (no
# fakeroot: debian/control says Rules-Requires-Root: no)
PKGS="make gcc g++ clang llvm libbpf-dev libelf-dev zlib1g-dev libncurses-dev pkg-config bpftool
      liburing-dev python3 strace curl util-linux iproute2 valgrind tmux
      qemu-system-x86 busybox-static libmicrohttpd-dev man-db groff-base bash dpkg-dev
      libgnutls28-dev libyaml-dev libcrypt-dev openssl debhelper lintian libclang-rt-14-dev"
# libclang-rt-14-dev: libFuzzer (make fuzz, check-fuzz); clang only recommends it
# `deps.sh bench`: also the tools `make bench` compares socktap with
[ "${1:-}" = bench ] && PKGS="$PKGS bpftrace linux-perf libjson-c-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
