# xenbackd: userspace Xen split-driver backend daemon.
#
#   make          build the daemon and xenbackctl
#   make demo     install what is missing, build, run a simulated guest
#   make check    install what is missing, build, run every test suite
#   make bench    benchmarks against native baselines (not tests)
#   make install  DESTDIR=... PREFIX=/usr/local
#
# Sources are found by folder; each test bed adds its own rules in a
# fragment (tests/*/*.mk, bench/*.mk) and registers its suites in
# CHECK_SUITES, so adding a file never means editing this one.

CC       ?= gcc
PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
BINDIR   ?= $(PREFIX)/bin
UNITDIR  ?= /lib/systemd/system
SYSCONFDIR ?= /etc
B        := build

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -MMD -MP
LDLIBS_DAEMON := -lxenstore -lxengnttab -lxenevtchn -lxenctrl -laio \
                 -lsystemd -lpthread

# Everything of the daemon but main() goes into a library, so that unit
# tests, fuzzers and benchmarks link the very same objects.
CORE_SRCS := $(sort $(wildcard ring/*.c xenstore/*.c backend/*.c blk/*.c \
                               net/*.c))
CORE_OBJS := $(CORE_SRCS:%.c=$(B)/%.o)

CHECK_SUITES :=
BENCH_TARGETS :=

.PHONY: all deps deps-test check check-build demo bench install clean format
# A program is built once its main source exists.
PROGRAMS := $(if $(wildcard daemon.c),$(B)/xenbackd) \
            $(if $(wildcard xenbackctl.c),$(B)/xenbackctl)
all: $(PROGRAMS)

deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test e2e

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libxenbackd.a: $(CORE_OBJS)
	@mkdir -p $(B)
	rm -f $@ && ar rcs $@ $^

# The whole library: daemon.c finds the device kinds through weak
# references, which alone would not pull a kind's object out of an archive.
$(B)/xenbackd: $(B)/daemon.o $(B)/libxenbackd.a
	$(CC) $(CFLAGS) -o $@ $(B)/daemon.o \
		-Wl,--whole-archive $(B)/libxenbackd.a -Wl,--no-whole-archive \
		$(LDLIBS_DAEMON)

$(B)/xenbackctl: $(B)/xenbackctl.o
	$(CC) $(CFLAGS) -o $@ $^

# Fragments add their test binaries as prerequisites of check-build.
check-build:

-include $(sort $(wildcard tests/*/*.mk bench/*.mk))

check: deps-test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory check-build
	@tests/run-suites.sh $(CHECK_SUITES)

demo: deps-test
	@$(MAKE) --no-print-directory all check-build
	@tests/demo.sh

bench: deps-test
	@$(MAKE) --no-print-directory all check-build
	@set -e; for b in $(BENCH_TARGETS); do $$b; done

install: all
	install -D -m 0755 $(B)/xenbackd $(DESTDIR)$(SBINDIR)/xenbackd
	install -D -m 0755 $(B)/xenbackctl $(DESTDIR)$(BINDIR)/xenbackctl
	sed 's|@SBINDIR@|$(SBINDIR)|g' units/xenbackd.service \
		>$(B)/xenbackd.service
	install -D -m 0644 $(B)/xenbackd.service \
		$(DESTDIR)$(UNITDIR)/xenbackd.service
	test -e $(DESTDIR)$(SYSCONFDIR)/xenbackd.conf || \
		install -D -m 0644 units/xenbackd.conf \
			$(DESTDIR)$(SYSCONFDIR)/xenbackd.conf

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)
