# blk-conf-copy: the operator's settings on real Xen. dom0's
# /etc/xenbackd.conf gets `vbd-data = copy` and `vbd-poll-us = 0` and the
# daemon is reloaded as `systemctl reload` does (the unit's ExecReload):
# its log names both as coming from the file. A guest made afterwards
# with an unmodified `xl create` gets its disk in grant copy, without
# polling: `xenbackctl --json` shows data grant-copy, data-why
# vbd-data=copy, poll-us 0 (with E2E_BLK_DATA set, XENBACKD_BLK_DATA wins
# over the file, as documented). The guest's own xen-blkfront on it: a
# pattern written, caches dropped, read back identical; mkfs.ext4, files,
# sync, unmount, e2fsck clean; blkdiscard of a written range reads back
# zeros. After `xl destroy` nothing of the guest is left, and dom0 finds
# in the image exactly what the guest last read of its whole disk, with a
# clean filesystem. The harness then puts the installed xenbackd.conf
# back and reloads (e2e_conf_restore).
E2E_MODES="xenbackd"

guest() {
	g_disk xvda 30
	echo "step xvda at $(g_uptime) s"
	g_pattern /dev/xvda 40 8
	echo "step pattern at $(g_uptime) s"
	g_fs_files /dev/xvda 32 /mnt/fs
	echo "step ext4 at $(g_uptime) s"
	g_discard /dev/xvda 48 8
	echo "step discard at $(g_uptime) s"
	echo "disk-md5 $(g_md5 /dev/xvda)"
	echo "step md5 at $(g_uptime) s"
}

# bcc_want_data: "DATA DATA-WHY" xenbackd must serve the disk with: the
# file's copy, unless the harness's XENBACKD_BLK_DATA overrides it.
bcc_want_data() {
	case "${XENBACKD_BLK_DATA:-}" in
	"") echo "grant-copy vbd-data=copy" ;;
	*) echo "grant-$XENBACKD_BLK_DATA XENBACKD_BLK_DATA=$XENBACKD_BLK_DATA" ;;
	esac
}

dom0() {
	local s img d want got
	s=$(e2e_conf_set "vbd-data = copy" "vbd-poll-us = 0") ||
		fail "reload with the new xenbackd.conf: $s"
	echo "settings after the reload: $s"
	case "$s" in
	*"vbd-poll-us = 0 ($E2E_CONF:"*) ;;
	*) fail "vbd-poll-us = 0 from $E2E_CONF not in force: $s" ;;
	esac
	[ -n "${XENBACKD_BLK_DATA:-}" ] || case "$s" in
	*"vbd-data = copy ($E2E_CONF:"*) ;;
	*) fail "vbd-data = copy from $E2E_CONF not in force: $s" ;;
	esac

	e2e_disk_guest bcc 64
	img=/var/lib/e2e/bcc.img
	d=$(e2e_domid bcc)
	got=$(e2e_blk_data "$d" 51712)
	echo "xenbackctl: data, data-why, poll-us: $got"
	want="$(bcc_want_data) 0"
	[ "$got" = "$want" ] || fail "xenbackctl shows '$got', want '$want'"
	e2e_guest_done bcc 300
	grep -a 'step\|pattern-md5\|e2fsck\|discarded' "$(e2e_guest_log bcc)" |
		sed 's/^/guest: /'

	e2e_destroy bcc
	e2e_released "$d" "$img"
	want=$(e2e_guest_value bcc disk-md5)
	got=$(e2e_md5 "$img")
	[ -n "$want" ] && [ "$want" = "$got" ] ||
		fail "dom0 reads $got from the whole image, the guest read $want"
	echo "image md5 $got: what the guest read"
	e2e_fsck_image "$img"
}
