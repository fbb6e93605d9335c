#!/bin/sh
# sim-blk-sweep.sh: crash journals (backend/journal.h) that an earlier
# daemon left for devices gone while no daemon ran are removed when the
# next daemon starts; a journal of a device that still exists is kept for
# its adoption, and nothing not proven to be a journal is touched.
# On the simulated host, the runtime directory being the folder of the
# control socket. PASS:/FAIL: lines.
set -u
tmp=$(mktemp -d /tmp/xb-blksw.XXXX)
H=$tmp/h
R=$tmp/run
BLK_CASE="sweep: "
. tests/blk/lib.sh
trap blk_cleanup EXIT INT TERM

# mkjournal NAME: a journal as backend/journal.c writes it: header
# (magic "XBJ1", 64 entries, requests of 112 bytes, req_cons 0), then the
# 64 entries of 16 + 112 bytes, all free.
mkjournal() {
	printf 'XBJ1\100\0\0\0\160\0\0\0\0\0\0\0' >"$R/$1"
	truncate -s $((16 + 64 * (16 + 112))) "$R/$1"
}

host_start 1
# Device 1/51712 still exists (its guest runs); 1/51728 and every device
# of domain 7 went while no daemon ran.
truncate -s 4M "$tmp/d.img"
be=/local/domain/0/backend/vbd/1/51712
as0 xenstore-write "$be/frontend" /local/domain/1/device/vbd/51712 \
	"$be/frontend-id" 1 "$be/online" 1 "$be/params" "$tmp/d.img" \
	"$be/mode" w "$be/state" 1 || fail "the toolstack's nodes"

# Domain 8 died too, but no toolstack cleaned up after it: its xenstore
# directories stay; the hypervisor alone knows it is gone.
timeout 30 $X create "$H" 8 --mem 64 >/dev/null 2>&1 &&
	timeout 30 $X destroy "$H" 8 >/dev/null 2>&1 ||
	{ fail "create and destroy domain 8"; exit 1; }
be=/local/domain/0/backend/vbd/8/51712
as0 xenstore-write /local/domain/8/name leftover \
	"$be/frontend" /local/domain/8/device/vbd/51712 "$be/frontend-id" 8 \
	"$be/online" 1 "$be/params" "$tmp/d.img" "$be/mode" w "$be/state" 4 ||
	fail "the dead domain's leftover nodes"

mkdir "$R"
mkjournal vbd-1-51712-q0.journal   # its device exists: kept
mkjournal vbd-1-51712-q1.journal
mkjournal vbd-1-51728-q0.journal   # device gone: removed
mkjournal vbd-7-51712-q0.journal   # domain gone: removed
mkjournal vbd-7-51712-q3.journal
mkjournal vbd-8-51712-q0.journal   # domain dead, nodes left: removed
mkjournal vif-7-0-q0.journal       # not a vbd journal: not ours to judge
mkjournal vbd-7-051712-q0.journal  # not a name we give: kept
mkjournal vbd-7-51712-q0.journal.bak
head -c 8208 /dev/zero >"$R/vbd-7-51744-q0.journal" # no magic: kept
mkjournal short.tmp && head -c 100 "$R/short.tmp" >"$R/vbd-7-51760-q0.journal"
rm "$R/short.tmp"                                    # wrong size: kept
ln -s "$R/vbd-7-51712-q3.journal" "$R/vbd-7-51776-q0.journal" # a link: kept

daemon_start "$R/ctl.sock"
i=0
while [ ! -S "$R/ctl.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
timeout 10 "$CTL" -s "$R/ctl.sock" list >/dev/null 2>&1 ||
	{ fail "daemon runs"; exit 1; }

for f in vbd-1-51728-q0 vbd-7-51712-q0 vbd-7-51712-q3 vbd-8-51712-q0; do
	if [ -e "$R/$f.journal" ]; then fail "$f.journal (device gone) removed"
	else pass "$f.journal (device gone) removed"; fi
	d=$(echo "$f" | sed 's/^vbd-\([0-9]*\)-\([0-9]*\)-.*/\1\/\2/')
	if grep -q "journal $R/$f.journal removed: its device vbd/$d went while no daemon ran" \
		"$tmp/daemon.log"; then
		pass "$f.journal: its removal is logged"
	else fail "$f.journal: its removal is logged"; fi
done
for f in vbd-1-51712-q0.journal vbd-1-51712-q1.journal vif-7-0-q0.journal \
	vbd-7-051712-q0.journal vbd-7-51712-q0.journal.bak \
	vbd-7-51744-q0.journal vbd-7-51760-q0.journal vbd-7-51776-q0.journal; do
	if [ -e "$R/$f" ] || [ -L "$R/$f" ]; then pass "$f kept"
	else fail "$f kept"; fi
done

daemon_stops_cleanly
exit 0
