#!/bin/sh
# fetch-debs.sh CACHE PKG... : download Debian packages with apt-get download
# into CACHE/debs (once) and unpack each into CACHE/root. Nothing is
# installed into the host. Prints CACHE/root.
set -eu
[ $# -ge 2 ] || { echo "usage: fetch-debs.sh CACHE PKG..." >&2; exit 2; }
cache=$1; shift
mkdir -p "$cache/debs" "$cache/root"
cache=$(cd "$cache" && pwd)
cd "$cache/debs"
for p in "$@"; do
	if ! ls "${p}"_*.deb >/dev/null 2>&1; then
		apt-get download -q "$p" >/dev/null 2>&1 || {
			apt-get update -qq >/dev/null 2>&1 || true
			apt-get download -q "$p" >/dev/null || {
				echo "fetch-debs.sh: cannot download $p" >&2; exit 1; }
		}
	fi
	deb=$(ls "${p}"_*.deb | head -n 1)
	stamp="$cache/root/.unpacked-$(basename "$deb")"
	if [ ! -e "$stamp" ]; then
		dpkg-deb -x "$deb" "$cache/root"
		touch "$stamp"
	fi
done
echo "$cache/root"
