#!/bin/sh
# Install the Debian packages xenbackd needs to build and test, and only
# those that are missing. Run by every make target that needs them.
set -eu

# Build: compiler, Xen libraries, libaio, libsystemd.
BUILD="gcc make pkg-config libxen-dev libaio-dev libsystemd-dev"
# Tests on the simulated host: the xenstore-* tools, sanitizers, fuzzers,
# valgrind, network namespaces, benchmark baselines, FUSE filesystems
# (fuse2fs: a backing the block data path must not trust; libfuse3 for
# tests/blk/refusefs, a backing that refuses flushes), btrfs-progs (the
# block data path finds a btrfs's devices).
TEST="xenstore-utils clang llvm libclang-rt-14-dev valgrind iproute2 fio iputils-ping \
      dpkg-dev procps psmisc util-linux e2fsprogs fuse2fs fuse3 libfuse3-dev btrfs-progs"
# Real Xen under qemu (tests/e2e): the emulator and the tools to pack an
# initramfs; the Xen and Linux packages themselves are fetched, not installed.
E2E="qemu-system-x86 cpio gzip xz-utils kmod"

want="$BUILD"
for group in "$@"; do
	case "$group" in
	build) ;;
	test) want="$want $TEST" ;;
	e2e) want="$want $TEST $E2E" ;;
	*) echo "deps.sh: unknown group '$group' (build, test, e2e)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
