# tests/blk/config.mk: the block backend's xenbackd.conf keys (vbd-data,
# vbd-poll-us) on the simulated host.
CHECK_SUITES += tests/blk/sim-blk-config.sh
