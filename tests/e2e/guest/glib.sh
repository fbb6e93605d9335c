# glib.sh: helpers for a scenario's guest() function (busybox sh).

# g_fail WHY: report why the guest's checks failed and end guest().
g_fail() {
	echo "@@G WHY: $*"
	exit 1
}

# g_wait SECONDS CMD...: retry CMD every 0.2 s until it succeeds.
g_wait() {
	local limit=$(($1 * 5)) n=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -ge $limit ] && return 1
		sleep 0.2
	done
}

g_uptime() { cut -d' ' -f1 /proc/uptime; }

# g_xenbus_state vbd-51712|vif-0: the frontend's xenbus state (sysfs).
g_xenbus_state() { cat "/sys/bus/xen/devices/$1/state" 2>/dev/null; }

# g_disk NAME SECONDS: wait for the block device /dev/NAME.
g_disk() {
	g_wait "$2" test -b "/dev/$1" || g_fail "/dev/$1 did not appear within $2 s"
}

# g_net IFACE ADDR SECONDS: wait for IFACE, give it ADDR/24 and bring it up.
g_net() {
	g_wait "$3" test -d "/sys/class/net/$1" ||
		g_fail "$1 did not appear within $3 s"
	ip addr add "$2/24" dev "$1" || g_fail "cannot address $1"
	ip link set "$1" up || g_fail "cannot bring $1 up"
}

# g_ext4: load ext4 and what it needs (in order; the image's fs list).
g_ext4() {
	local m
	grep -qw ext4 /proc/filesystems && return 0
	for m in $(cat /lib/modules/e2e/fs); do
		grep -q "^${m%.ko} \|^$(echo "${m%.ko}" | tr - _) " /proc/modules ||
			insmod "/lib/modules/e2e/$m" || g_fail "insmod $m failed"
	done
	grep -qw ext4 /proc/filesystems || g_fail "no ext4 after loading it"
}

# g_mkfs_mount DEV MB DIR: a new ext4 on the first MB MiB of DEV, every
# table written at mkfs time (no lazy init writing behind a check's back),
# mounted on DIR.
g_mkfs_mount() {
	g_ext4
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 \
		"$1" "$2M" || g_fail "mkfs.ext4 on $1 failed"
	mkdir -p "$3"
	mount -t ext4 -o noinit_itable "$1" "$3" ||
		g_fail "cannot mount the new ext4 of $1"
}

# ---- disk checks shared by the blk scenarios ------------------------------

# g_md5 DEV [AT MB]: md5 of DEV (or of MB MiB at AT MiB), read with
# O_DIRECT (past the guest's cache).
g_md5() {
	if [ $# -ge 3 ]; then
		dd if="$1" bs=1M skip="$2" count="$3" iflag=direct 2>/dev/null
	else
		dd if="$1" bs=1M iflag=direct 2>/dev/null
	fi | md5sum | cut -d' ' -f1
}

# g_pattern DEV AT MB [direct]: MB MiB of random data written at AT MiB of
# DEV and read back identical: through the page cache (fsync'd, then the
# caches dropped), or with O_DIRECT both ways. Sets G_PATTERN_MD5 and
# prints "pattern-md5 MD5" for dom0 (e2e_guest_value).
g_pattern() {
	local got
	dd if=/dev/urandom of=/tmp/pat bs=1M count="$3" 2>/dev/null
	G_PATTERN_MD5=$(md5sum </tmp/pat | cut -d' ' -f1)
	if [ "${4:-}" = direct ]; then
		dd if=/tmp/pat of="$1" bs=1M seek="$2" oflag=direct 2>/dev/null
	else
		dd if=/tmp/pat of="$1" bs=1M seek="$2" conv=fsync 2>/dev/null
	fi || g_fail "write of $3 MiB at $2 MiB of $1 failed"
	rm -f /tmp/pat
	if [ "${4:-}" = direct ]; then
		got=$(g_md5 "$1" "$2" "$3")
	else
		echo 3 >/proc/sys/vm/drop_caches
		got=$(dd if="$1" bs=1M skip="$2" count="$3" 2>/dev/null |
			md5sum | cut -d' ' -f1)
	fi
	[ "$got" = "$G_PATTERN_MD5" ] ||
		g_fail "read back ${4:-after drop_caches}: $got, wrote $G_PATTERN_MD5"
	echo "pattern-md5 $G_PATTERN_MD5"
}

# g_fsck DEV WHEN: e2fsck (forced, read-only) finds DEV's filesystem clean.
g_fsck() {
	e2fsck -f -n "$1" >/tmp/fsck.log 2>&1 || {
		cat /tmp/fsck.log
		g_fail "e2fsck $2: not clean"
	}
	echo "e2fsck $2: clean"
}

# g_fs_files DEV MB DIR: a new ext4 on the first MB MiB of DEV, mounted on
# DIR, a 3 MiB file and 40 small ones written (their md5s kept in
# /tmp/sums), sync, unmount; e2fsck finds it clean.
g_fs_files() {
	local i
	g_mkfs_mount "$1" "$2" "$3"
	dd if=/dev/urandom of="$3/big" bs=1M count=3 2>/dev/null ||
		g_fail "cannot write a file"
	mkdir "$3/d"
	for i in $(seq 1 40); do
		echo "file $i $(g_uptime)" >"$3/d/f$i" ||
			g_fail "cannot write file $i"
	done
	(cd "$3" && md5sum big d/*) >/tmp/sums
	sync
	umount "$3" || g_fail "umount failed"
	g_fsck "$1" "after mkfs"
}

# g_fs_intact DEV DIR: the files of g_fs_files read back identical.
g_fs_intact() {
	mount -t ext4 -o ro "$1" "$2" ||
		g_fail "cannot mount the filesystem of $1 again"
	(cd "$2" && md5sum -c /tmp/sums >/dev/null 2>&1) ||
		g_fail "the files of $1 differ"
	umount "$2" || g_fail "umount failed"
	echo "files intact"
}

# g_discard DEV AT MB: MB MiB at AT MiB of DEV written (fsync'd), then
# blkdiscard of that range: it reads as zeros once the caches are dropped.
g_discard() {
	local got want
	dd if=/dev/zero bs=1M count="$3" 2>/dev/null | tr '\000' x |
		dd of="$1" bs=1M seek="$2" conv=fsync 2>/dev/null ||
		g_fail "write of $3 MiB at $2 MiB of $1 failed"
	blkdiscard -o $(($2 * 1048576)) -l $(($3 * 1048576)) "$1" ||
		g_fail "blkdiscard of $3 MiB at $2 MiB of $1 failed"
	echo 3 >/proc/sys/vm/drop_caches
	got=$(dd if="$1" bs=1M skip="$2" count="$3" 2>/dev/null | md5sum |
		cut -d' ' -f1)
	want=$(dd if=/dev/zero bs=1M count="$3" 2>/dev/null | md5sum |
		cut -d' ' -f1)
	[ "$want" = "$got" ] || g_fail "discarded range does not read as zeros"
	echo "discarded $3 MiB at $2 MiB: zeros"
}
