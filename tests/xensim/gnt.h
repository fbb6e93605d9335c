/* SPDX-License-Identifier: MIT */
/*
 * gnt.h: the handle of the stand-in libxengnttab. xengnttab_handle and
 * xengntshr_handle are one type in <xengnttab.h> (as gntdev and gntalloc
 * handles are in the real library), so both halves share this definition,
 * and what they do alike (gnt.c): opening and freeing a handle, and the
 * regions of pages they map here (grant pages mapped by gnttab, our own
 * pages shared by gntshr) with their unmap notifications.
 */
#ifndef XENSIM_GNT_H
#define XENSIM_GNT_H

#include <pthread.h>
#include <stdint.h>
#include <xengnttab.h>

#include "tests/xensim/hv.h"

/* The first member of gnttab's mappings and gntshr's shares. */
struct xsim_gnt_region {
	struct xsim_gnt_region *next;
	uint8_t *addr;
	uint32_t count;
	int32_t notify_offset; /* -1: none */
	uint32_t notify_port;  /* 0: none */
};

struct xengntdev_handle {
	struct xsim_host *host;
	int fd;
	pthread_mutex_t mutex;
	struct xsim_gnt_region *maps;	   /* gnttab: grant pages mapped here */
	struct xsim_gnt_region *shares;	   /* gntshr: pages of ours granted */
	struct xsim_gnt_region *lingering; /* gntshr: unshared, peer maps */
};

/* A handle on this process's host (NULL, errno set, if none). */
xengnttab_handle *xsim_gnt_open(void);
/* Frees the handle itself; its regions are the caller's business. */
void xsim_gnt_free(xengnttab_handle *g);
/* Unlinks the region at addr of count pages from *list (under the
 * handle's mutex); NULL with errno EINVAL if there is none. */
struct xsim_gnt_region *xsim_gnt_take(xengnttab_handle *g,
				      struct xsim_gnt_region **list,
				      const void *addr, uint32_t count);
/* The notify arguments of xengnttab_map_grant_ref_notify() and
 * xengntshr_share_page_notify() as a region keeps them: *off -1 (none) or
 * the byte to clear, *port 0 (none) or the port to signal. -1 with errno
 * EINVAL for an offset outside the page. */
int xsim_gnt_notify_args(uint32_t notify_offset, evtchn_port_t notify_port,
			 int32_t *off, uint32_t *port);
/* The unmap notification (byte cleared, event sent), then munmap. */
void xsim_gnt_unmap_region(struct xsim_host *h, struct xsim_gnt_region *r);

#endif
