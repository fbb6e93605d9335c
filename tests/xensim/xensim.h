/* SPDX-License-Identifier: MIT */
/* xensim.h: the pieces of the xensim command shared between its files. */
#ifndef XENSIM_XENSIM_H
#define XENSIM_XENSIM_H

#include <stdint.h>

/* `xensim bridge HOST DOMID FD` (started by `xensim create`): serve the
 * domain's xenstore ring; report "frame port\n" on FD once ready. */
int xsim_bridge_main(const char *host, uint32_t domid, int ready_fd);

#endif
