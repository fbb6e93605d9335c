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
