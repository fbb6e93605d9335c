/* SPDX-License-Identifier: MIT */
/*
 * gnt.h: the handle of the stand-in libxengnttab. xengnttab_handle and
 * xengntshr_handle are one type in <xengnttab.h> (as gntdev and gntalloc
 * handles are in the real library), so both halves share this definition.
 */
#ifndef XENSIM_GNT_H
#define XENSIM_GNT_H

#include <pthread.h>
#include <xengnttab.h>

#include "tests/xensim/hv.h"

struct mapping;
struct share;

struct xengntdev_handle {
	struct xsim_host *host;
	int fd;
	pthread_mutex_t mutex;
	struct mapping *maps;    /* gnttab: grant pages mapped here */
	struct share *shares;    /* gntshr: pages of ours granted away */
	struct share *lingering; /* gntshr: unshared, a peer still maps */
};

#endif
