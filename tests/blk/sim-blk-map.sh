#!/bin/sh
# The simulated-host suite again, the daemon mapping grants (persistent
# ones when the frontend asks) instead of copying them.
BLK_SIM_DATA=map exec "$(dirname "$0")/sim-blk.sh"
