# tests/xensim/xensim.mk: the simulated Xen host (see tests/xensim/README.md).
#
#   build/xensim/lib/        stand-in libxengnttab.so.1, libxenevtchn.so.1,
#                            libxenctrl.so.4.17 and the xenstored shim
#   build/xensim/xensim      the command (start/create/destroy/run/env/...)
#   build/xensim/xenstored   Debian's C xenstored, fetched, never installed
#   build/xensim/libxsg.a    the guest library (tests/xensim/guest/xsg.h)

XS_B    := $(B)/xensim
XS_DEBS := $(B)/debs
XS_CFLAGS = $(CFLAGS) -fPIC -pthread
XS_CORE := hv evcore gtcore
XS_CORE_OBJS := $(XS_CORE:%=$(XS_B)/obj/%.o)
XS_LIBS := $(XS_B)/lib/libxengnttab.so.1 $(XS_B)/lib/libxenevtchn.so.1 \
           $(XS_B)/lib/libxenctrl.so.4.17 $(XS_B)/lib/xsim-procxen.so
XS_XENSTORED := $(XS_DEBS)/root/usr/lib/xen-4.17/bin/xenstored

$(XS_B)/obj/%.o: tests/xensim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(XS_CFLAGS) -c -o $@ $<

$(XS_B)/lib/libxengnttab.so.1: $(XS_B)/obj/gnttab.o $(XS_B)/obj/gntshr.o \
		$(XS_B)/obj/gnt.o \
		$(XS_CORE_OBJS) tests/xensim/libxengnttab.map
	@mkdir -p $(dir $@)
	$(CC) $(XS_CFLAGS) -shared -Wl,-soname,libxengnttab.so.1 \
		-Wl,--version-script=tests/xensim/libxengnttab.map \
		-o $@ $(filter %.o,$^)

$(XS_B)/lib/libxenevtchn.so.1: $(XS_B)/obj/evtchn.o $(XS_CORE_OBJS) \
		tests/xensim/libxenevtchn.map
	@mkdir -p $(dir $@)
	$(CC) $(XS_CFLAGS) -shared -Wl,-soname,libxenevtchn.so.1 \
		-Wl,--version-script=tests/xensim/libxenevtchn.map \
		-o $@ $(filter %.o,$^)

$(XS_B)/lib/libxenctrl.so.4.17: $(XS_B)/obj/ctrl.o $(XS_CORE_OBJS) \
		tests/xensim/libxenctrl.map
	@mkdir -p $(dir $@)
	$(CC) $(XS_CFLAGS) -shared -Wl,-soname,libxenctrl.so.4.17 \
		-Wl,--version-script=tests/xensim/libxenctrl.map \
		-o $@ $(filter %.o,$^)

$(XS_B)/lib/xsim-procxen.so: $(XS_B)/obj/procxen.o
	@mkdir -p $(dir $@)
	$(CC) $(XS_CFLAGS) -shared -o $@ $^ -ldl

$(XS_B)/libxsg.a: $(XS_B)/obj/guest/xsg.o $(XS_CORE_OBJS)
	rm -f $@ && ar rcs $@ $^

$(XS_B)/xensim: $(XS_B)/obj/xensim.o $(XS_B)/obj/bridge.o $(XS_CORE_OBJS)
	$(CC) $(XS_CFLAGS) -o $@ $^ -lxenstore

$(XS_XENSTORED):
	scripts/fetch-debs.sh $(XS_DEBS) xen-utils-4.17 >/dev/null

$(XS_B)/xenstored: $(XS_XENSTORED)
	@mkdir -p $(dir $@)
	ln -sf $(abspath $<) $@

xensim: $(XS_LIBS) $(XS_B)/libxsg.a $(XS_B)/xensim $(XS_B)/xenstored
.PHONY: xensim

check-build: xensim

# The simulation's own tests.
XS_T := $(XS_B)/tests
XS_TESTS := $(XS_T)/t_grant $(XS_T)/t_evtchn $(XS_T)/t_xs $(XS_T)/t_ctrl \
            $(XS_T)/b_sim

$(XS_T)/%: $(XS_B)/obj/t/%.o $(XS_B)/obj/t/tcommon.o $(XS_B)/libxsg.a
	@mkdir -p $(dir $@)
	$(CC) $(XS_CFLAGS) -o $@ $^ -lxengnttab -lxenevtchn -lxenctrl -lxenstore

# Keep the test objects (make would delete them as intermediates and
# rebuild every time).
.SECONDARY: $(XS_TESTS:$(XS_T)/%=$(XS_B)/obj/t/%.o) $(XS_B)/obj/t/tcommon.o

# t_check(ok, name, "") is the common case of a check with nothing to add.
$(XS_B)/obj/t/%.o: XS_CFLAGS += -Wno-format-zero-length

check-build: $(XS_TESTS)
CHECK_SUITES += tests/xensim/t_sim.sh

# Hostile guests against the real daemon (the XSA classes,
# docs/security-tests.md), and the daemon under valgrind.
XS_BLKFRONT := tests/xensim/front/blkfront.c ring/blkif.c
$(XS_T)/blkhostile: tests/xensim/front/blkhostile.c $(XS_BLKFRONT) \
		tests/xensim/front/blkfront.h ring/blkif.h $(XS_B)/libxsg.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -pthread -o $@ $(filter %.c,$^) $(XS_B)/libxsg.a \
		-lxenstore -lpthread

check-build: $(XS_T)/blkhostile

# The daemon itself with ASan/UBSan, for the hostile guests.
XS_ASAN_FLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. \
	-fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
$(XS_B)/xenbackd-asan: daemon.c $(CORE_SRCS) \
		$(wildcard backend/*.h blk/*.h net/*.h ring/*.h xenstore/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(XS_ASAN_FLAGS) -o $@ daemon.c $(CORE_SRCS) $(LDLIBS_DAEMON)

check-build: $(XS_B)/xenbackd-asan

# Needs the blk and net fronts (their fragments build them).
CHECK_SUITES += tests/xensim/t_xsa.sh tests/xensim/t_xsa_asan.sh \
		tests/xensim/t_memcheck.sh
