#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# make deb: the Debian packages of debian/ (socktap, libsocktap0,
# libsocktap-dev, and the source package), built by dpkg-buildpackage in a
# copy of the sources, OUT/debsrc/socktap-VERSION: dpkg-buildpackage writes
# its outputs to the source tree's parent, which is then under OUT, and the
# package builds from the sources alone, never from this tree's build/.
# The outputs go to OUT/deb; the copy is removed.
#
# Usage: mkdeb.sh VERSION OUT
set -eu
version=$1 out=$2

changelog=$(dpkg-parsechangelog -SVersion)
[ "$changelog" = "$version" ] || {
	echo "mkdeb: debian/changelog says $changelog, include/socktap.h $version: add a debian/changelog entry for $version" >&2
	exit 1
}

work=$out/debsrc
src=$work/socktap-$version
rm -rf "$work" "$out/deb"
mkdir -p "$src" "$out/deb"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# the files git tracks, as they are in the work tree (edits included; a new
	# file once git-added): never build/, objects or other strays. Files deleted
	# but still in the index are skipped.
	git ls-files -z --cached |
		xargs -0 sh -c 'for f; do if [ -e "$f" ] || [ -L "$f" ]; then printf "%s\0" "$f"; fi; done' sh |
		tar --null -T - -cf - | tar -xf - -C "$src"
else
	tar --exclude=./build --exclude=./.git --exclude=__pycache__ -cf - . | tar -xf - -C "$src"
fi
[ ! -e "$src/build" ] || { echo "mkdeb: $src/build was copied" >&2; exit 1; }

(cd "$src" && dpkg-buildpackage -us -uc -J"$(nproc)")

for f in "$work"/*; do
	[ "$f" = "$src" ] || mv "$f" "$out/deb/"
done
# the copy's build/ holds programs, which tests/vm/vm.py would take into its VMs
rm -rf "$work"
ls "$out/deb"
