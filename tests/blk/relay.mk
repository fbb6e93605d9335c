# tests/blk/relay.mk: blk_relay, the floor of a two-process block backend
# on this machine (bench/blk-floor.sh; a measuring tool, not a test).
$(B)/tests/blk/blk_relay: tests/blk/blk_relay.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -laio

check-build: $(B)/tests/blk/blk_relay
