#!/bin/bash
# images.sh OUT : fetch Debian's Xen 4.17, Linux 6.1 and the dom0 userland
# (scripts/fetch-debs.sh, unpacked, never installed) into a cache folder,
# and build in OUT:
#   xen            the hypervisor, gunzipped (qemu's multiboot -kernel)
#   vmlinuz        dom0's kernel (Debian's generic bzImage)
#   dom0.cpio      dom0's initramfs: the cached base (Xen tools, libraries,
#                  busybox, modules, guest kernel and initramfs) followed by
#                  an overlay rebuilt every run (init, scenarios, xenbackd)
# The cache (E2E_CACHE, default .cache/e2e) is keyed by the package
# versions, so a new Debian update starts a fresh one; the base images are
# rebuilt only when the cache key or the files of tests/e2e/base change.
set -euo pipefail

out=${1:?usage: images.sh OUT}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache_top=${E2E_CACHE:-$top/.cache/e2e}

log() { echo "e2e images: $*" >&2; }
die() { echo "e2e images: $*" >&2; exit 1; }

# ---- what to fetch ------------------------------------------------------

# The generic kernel (the only Debian flavour with CONFIG_XEN_DOM0): the
# exact package name comes from the linux-image-amd64 metapackage.
kernel_package() {
	local k
	k=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' |
		head -n 1)
	if [ -z "$k" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		k=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' |
			head -n 1)
	fi
	[ -n "$k" ] || die "cannot resolve the generic 6.1 kernel package"
	echo "$k"
}

candidate() {
	apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p'
}

# dom0 userland: the Xen tools and every library they load (from the
# packages' Depends, checked below with the fetched loader), bash and
# util-linux's losetup and flock for the hotplug scripts, jq for
# comparing `xenbackctl --json` with xenstore, the libraries xenbackd
# links, libgcc_s (glibc dlopens it for pthread_cancel; xl aborts without).
XEN_PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common
	xenstore-utils libxenmisc4.17 libxencall1 libxenevtchn1
	libxenforeignmemory1 libxengnttab1 libxenstore4 libxentoollog1
	libxentoolcore1 libxendevicemodel1 libxenhypfs1"
LIB_PKGS="libc6 libgcc-s1 libyajl2 libncurses6 libtinfo6 libext2fs2 liblzma5
	libuuid1 libzstd1 zlib1g libaio1 libsystemd0 libcap2 libgcrypt20
	libgpg-error0 liblz4-1"
TOOL_PKGS="busybox-static bash mount util-linux libblkid1 libmount1
	libsmartcols1 libselinux1 libpcre2-8-0 libcap-ng0 libcrypt1 libpam0g
	libudev1 jq libjq1 libonig5"
# The guest's filesystem tools (mkfs.ext4, e2fsck): glibc binaries, staged
# with the libraries they load (stage_elf); dom0 gets them too.
GUEST_PKGS="e2fsprogs libcom-err2 libss2"

kpkg=$(kernel_package)
kver=${kpkg#linux-image-}
xver=$(candidate xen-utils-4.17)
[ -n "$xver" ] || die "xen-utils-4.17 has no candidate version (apt-get update?)"
key="xen-${xver}_linux-$(candidate "$kpkg")"
cache="$cache_top/${key//[^A-Za-z0-9._+-]/_}"
mkdir -p "$cache"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
since() { local ms=$(($(now_ms) - $1)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

t0=$(now_ms)
# shellcheck disable=SC2086
root=$("$top/scripts/fetch-debs.sh" "$cache/pkgs" $XEN_PKGS $LIB_PKGS \
	$TOOL_PKGS $GUEST_PKGS "$kpkg")
log "packages ready in $(since "$t0") s ($key)"

# ---- the loader check: every ELF dom0 runs finds its libraries ----------

check_libs() {
	local f missing
	for f in "$@"; do
		missing=$("$root/lib64/ld-linux-x86-64.so.2" --library-path \
			"$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu" \
			--list "$f" 2>&1 | grep 'not found' || true)
		[ -z "$missing" ] || die "$f: $missing (add its package to images.sh)"
	done
}

# ---- modules: copied with their dependencies, loaded in order ------------

moddir="$root/lib/modules/$kver"
modfile() {
	local f
	f=$(find "$moddir/kernel" -name "$1.ko" -o -name "$1.ko.xz" | head -n 1)
	[ -n "$f" ] || f=$(find "$moddir/kernel" -name "${1//_/-}.ko" | head -n 1)
	[ -n "$f" ] || die "module $1 not found in $kpkg"
	echo "$f"
}

# Appends to $2 (a load-order list) the module $1 after its dependencies.
add_module() {
	local m=$1 list=$2 f dep deps
	grep -qx "$m" "$list.names" 2>/dev/null && return 0
	f=$(modfile "$m")
	deps=$(/sbin/modinfo -F depends "$f") || die "modinfo $f failed"
	for dep in ${deps//,/ }; do
		add_module "$dep" "$list"
	done
	echo "$m" >>"$list.names"
	echo "$(basename "$f")" >>"$list"
}

# Stage $1: copy modules listed in $3.. into $1/lib/modules/e2e with the
# load order in $1/lib/modules/e2e/$2.
stage_modules() {
	local dest=$1/lib/modules/e2e order=$2 m
	shift 2
	mkdir -p "$dest"
	for m in "$@"; do
		add_module "$m" "$dest/$order"
	done
	rm -f "$dest/$order.names"
	while read -r f; do
		cp "$(modfile "${f%.ko}")" "$dest/"
	done <"$dest/$order"
}

# ---- busybox applets, without shadowing the real tools -----------------

stage_busybox() {
	local dest=$1 a
	mkdir -p "$dest/bin" "$dest/sbin" "$dest/usr/bin" "$dest/usr/sbin"
	cp "$root/bin/busybox" "$dest/bin/busybox"
	for a in $("$dest/bin/busybox" --list-full); do
		[ -e "$dest/$a" ] || [ -L "$dest/$a" ] || ln -s /bin/busybox "$dest/$a"
	done
}

# ---- glibc binaries with the libraries they load -------------------------

# The libraries the fetched loader resolves for ELF $1 (paths in $root).
elf_libs() {
	"$root/lib64/ld-linux-x86-64.so.2" --library-path \
		"$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu" \
		--list "$1" | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p'
}

# stage_elf DEST FILE...: copy $root/FILE (a path such as sbin/mke2fs) to
# DEST/FILE, replacing a busybox applet of that name, with the loader and
# every library it needs into DEST/lib64 and DEST/lib/x86_64-linux-gnu.
stage_elf() {
	local dest=$1 f lib
	shift
	mkdir -p "$dest/lib64" "$dest/lib/x86_64-linux-gnu"
	cp -L "$root/lib64/ld-linux-x86-64.so.2" "$dest/lib64/"
	for f in "$@"; do
		check_libs "$root/$f"
		mkdir -p "$(dirname "$dest/$f")"
		rm -f "$dest/$f"
		cp -L "$root/$f" "$dest/$f"
		for lib in $(elf_libs "$root/$f"); do
			cp -L "$lib" "$dest/lib/x86_64-linux-gnu/$(basename "$lib")"
		done
	done
}

cpio_of() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc --quiet -R 0:0)
}

# ---- guest kernel: a plain ELF vmlinux ---------------------------------
# libxc unpacks a compressed kernel in dom0 for every `xl create`: under
# TCG that is ~5 s for the xz bzImage, ~2 s for a gzipped vmlinux, nothing
# for a plain one (65 MB more in dom0's initramfs, ~0.3 s at boot).

# The bzImage's payload is xz: find the xz stream and decompress it.
extract_vmlinux() {
	local bz=$1 off
	off=$(LC_ALL=C grep -aboP '\xfd7zXZ\x00' "$bz" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || die "no xz payload in $bz"
	tail -c +$((off + 1)) "$bz" | xz -dc 2>/dev/null || true
}

file_is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }

# ---- base images (cached) ----------------------------------------------

base_stamp_src() {
	{ echo "$key"; cat "$here/images.sh"; } | md5sum | cut -d' ' -f1
}

build_guest_base() {
	local g=$cache/guest-base
	rm -rf "$g" && mkdir -p "$g"/{dev,proc,sys,tmp,mnt,etc,root}
	stage_busybox "$g"
	stage_modules "$g" order xen-blkfront xen-netfront
	# ext4 for mkfs/fsck checks, loaded on demand (glib.sh g_ext4): the
	# qemu64 CPU has no SSE4.2, so the generic crc32c.
	stage_modules "$g" fs crc32c_generic ext4
	stage_elf "$g" sbin/mke2fs sbin/e2fsck
	ln -sf mke2fs "$g/sbin/mkfs.ext4"
	cp "$root/etc/mke2fs.conf" "$g/etc/"
	cpio_of "$g" >"$cache/guest-base.cpio"
}

build_dom0_base() {
	local d=$cache/dom0-base p
	rm -rf "$d" && mkdir -p "$d"
	# The fetched userland, less what dom0 never reads.
	(cd "$root" && tar cf - --exclude=./boot --exclude=./lib/modules \
		--exclude=./usr/share --exclude='./usr/lib/python3*' \
		--exclude=./usr/lib/debug --exclude='./.unpacked-*' .) |
		(cd "$d" && tar xf -)
	mkdir -p "$d"/usr/share/xen 2>/dev/null || true
	stage_busybox "$d"
	stage_modules "$d" order xen-evtchn xen-gntdev xen-gntalloc \
		xen-privcmd xenfs loop bridge tun
	stage_modules "$d" kernel-backends xen-blkback xen-netback
	# Slow storage for scenarios that need a disk slower than tmpfs:
	# null_blk (memory-backed, discard, a completion delay), loaded by
	# the scenario (lib.sh e2e_slow_disk).
	stage_modules "$d" slow-disk null_blk
	mkdir -p "$d"/{dev,proc,sys,tmp,run,mnt,root,var/log/xen/console} \
		"$d"/var/lib/xen "$d"/e2e/guest
	ln -sfn /run "$d/var/run"
	check_libs "$d"/usr/lib/xen-4.17/bin/{xl,xenstored,xenconsoled,xen-init-dom0} \
		"$d"/usr/bin/xenstore-ls "$d"/bin/bash "$d"/sbin/losetup "$d"/usr/bin/flock \
		"$d"/usr/bin/jq
	extract_vmlinux "$root/boot/vmlinuz-$kver" >"$d/e2e/guest/vmlinux"
	file_is_elf "$d/e2e/guest/vmlinux" || die "guest vmlinux extraction failed"
	cpio_of "$d" >"$cache/dom0-base.cpio"
}

stamp=$(base_stamp_src)
if [ "$(cat "$cache/base.stamp" 2>/dev/null)" != "$stamp" ]; then
	t0=$(now_ms)
	build_guest_base
	build_dom0_base
	echo "$stamp" >"$cache/base.stamp"
	log "base images built in $(since "$t0") s"
fi

# ---- per-run overlay ----------------------------------------------------
mkdir -p "$out"
gunzip -c "$root/boot/xen-4.17-amd64.gz" >"$out/xen"
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
echo "$root" >"$out/pkgroot"
echo "$kver" >"$out/kver"
echo "$cache" >"$out/cache"
