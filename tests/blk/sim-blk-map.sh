#!/bin/sh
# The simulated-host suite again, the daemon mapping grants (persistent
# ones when the frontend asks) instead of copying them, and its workers
# polling an idle ring for 20 us after answering (XENBACKD_BLK_POLL_US).
BLK_SIM_DATA=map BLK_SIM_POLL_US=20 exec "$(dirname "$0")/sim-blk.sh"
