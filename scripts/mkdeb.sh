#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# make deb's second half: WORK/debian/socktap holds `make install PREFIX=/usr`;
# make it a Debian package with dpkg-deb: OUT/socktap_VERSION_ARCH.deb.
# Debian's conventions, as debhelper would apply them: binaries stripped, man
# pages and the changelog gzipped, a copyright file, the shared libraries'
# dependencies from dpkg-shlibdeps, an shlibs file and the ldconfig trigger.
#
# Usage: mkdeb.sh WORK VERSION OUT
set -eu
work=$1 version=$2 out=$3
pkg=socktap
root=$work/debian/$pkg
arch=$(dpkg --print-architecture)
maintainer=${DEB_MAINTAINER:-socktap maintainers <socktap@localhost>}
# the same bytes from the same tree: every date is the last commit's
: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH

[ -x "$root/usr/bin/socktap" ] || { echo "mkdeb: no $root/usr/bin/socktap" >&2; exit 1; }

# debug information stays out of the package (the build tree keeps it)
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
	"$root/usr/bin/socktap" "$root/usr/bin/socktop" "$root/usr/lib/libsocktap.so.$version"
strip --strip-debug "$root/usr/lib/libsocktap.a"

doc=$root/usr/share/doc/$pkg
gzip -9n "$root"/usr/share/man/man*/*
install -m 0644 dist/debian/copyright "$doc/copyright"
date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
printf '%s (%s) unstable; urgency=medium\n\n  * Built from the socktap source tree with make deb.\n\n -- %s  %s\n' \
	"$pkg" "$version" "$maintainer" "$date" | gzip -9n > "$doc/changelog.Debian.gz"
chmod 0644 "$doc/changelog.Debian.gz"

# dpkg-shlibdeps reads debian/control and finds a package's root by its DEBIAN
mkdir -p "$root/DEBIAN"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" > "$work/debian/control"
deps=$(cd "$work" && dpkg-shlibdeps -O -e"debian/$pkg/usr/bin/socktap" \
	-e"debian/$pkg/usr/bin/socktop" -e"debian/$pkg/usr/lib/libsocktap.so.$version")
deps=${deps#shlibs:Depends=}

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: $pkg
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $deps
Section: admin
Priority: optional
Description: SystemTap's socket tapset on eBPF
 socktap traces the probe points of SystemTap's socket tapset (socket.send,
 socket.receive, socket.sendmsg.return, ...) with one CO-RE BPF object: no
 kernel module, no debuginfo, no compiler at run time. socktap trace prints
 every event (text, JSON Lines, CSV), socktap top and socktop count traffic
 per process in the kernel, socktap serve is a Prometheus exporter.
 .
 Also libsocktap, the C library behind them (shared and static, header,
 pkg-config file, socktap(3)), the systemd unit for socktap serve, and bash
 completion.
EOF
# programs linking libsocktap.so.0 get a dependency on this package
echo "libsocktap 0 $pkg (>= $version)" > "$root/DEBIAN/shlibs"
echo "activate-noawait ldconfig" > "$root/DEBIAN/triggers"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
	xargs md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root"/DEBIAN/*

dpkg-deb --root-owner-group -Zxz --build "$root" "$out/${pkg}_${version}_$arch.deb"
