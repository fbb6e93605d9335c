# Block backend tests: ring unit tests, fuzzer, simulated-host suites.

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=all

$(B)/tests/blk/ring_blkif_test: tests/blk/ring_blkif_test.c ring/blkif.c \
		ring/blkif.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ tests/blk/ring_blkif_test.c \
		ring/blkif.c

$(B)/tests/blk/fuzz_blkif: tests/blk/fuzz_blkif.c ring/blkif.c ring/blkif.h
	@mkdir -p $(dir $@)
	clang -std=gnu11 -O1 -g -D_GNU_SOURCE -I. -Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -o $@ \
		tests/blk/fuzz_blkif.c ring/blkif.c

check-build: $(B)/tests/blk/ring_blkif_test $(B)/tests/blk/fuzz_blkif
CHECK_SUITES += $(B)/tests/blk/ring_blkif_test tests/blk/fuzz-blkif.sh
