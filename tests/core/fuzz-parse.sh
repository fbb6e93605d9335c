#!/bin/sh
# fuzz-parse.sh: the core's parser fuzzer (tests/core/fuzz_parse.c),
# CORE_FUZZ_SECONDS (default 10), from one seed per selector (the first
# byte chooses the parser: see fuzz_parse.c); tests/fuzz.sh runs it.
exec tests/fuzz.sh \
	-s '\00018446744073709551615' \
	-s '\001/local/domain/5/device/vbd/51712' \
	-s '\002/5/51712/queue-0/ring-ref' \
	-s '\00400:16:3e:0A:1b:2c' \
	-s '\005fe:0' \
	-s '\006fz-opt\ton\tfz-opt\t/etc/x.conf:2\n' \
	-s '\003# c\nkinds = vbd,vif\nlog-level = debug\ncontrol-socket = /run/x\nfz-opt = on\n' \
	build/tests/core/fuzz_parse "${CORE_FUZZ_SECONDS:-10}" \
	"fuzz xenstore values (mac, physical-device), paths, configuration and settings records"
