/*
 * resources.h - what the daemon holds of each frontend domain, counted
 * where it is taken and given back, so that a leak shows in xenbackctl
 * ("xenbackctl resources") long after the device that leaked is gone.
 *
 * Counted per frontend domain and in total:
 *   ring_pages  ring pages mapped (backend/rings.h counts them itself)
 *   grants      guest data pages mapped: per-request and persistent
 *               grant maps, made with xb_grant_map() / xb_grant_unmap()
 *   channels    event channels bound (backend/rings.h)
 *   fds         backing files and TAP queues open, opened with
 *               xb_res_open() or handed to xb_res_track_fd(), closed with
 *               xb_res_close()
 *
 * A leaked grant map keeps a destroyed domain a zombie in the hypervisor
 * (`xl list` shows it dying) until the daemon exits; a leaked channel or
 * fd keeps host resources: all of them must be 0 once a domain's devices
 * are gone. The counters are atomics: any thread.
 */
#ifndef XB_BACKEND_RESOURCES_H
#define XB_BACKEND_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <xengnttab.h>

enum xb_res {
	XB_RES_RING_PAGES,
	XB_RES_GRANTS,
	XB_RES_CHANNELS,
	XB_RES_FDS,
	XB_RES_NR
};

/* Domain ids below DOMID_FIRST_RESERVED. */
#define XB_RES_DOMID_MAX 0x7fefU

/* Adds delta to a domain's counter (a domid out of range counts as 0). */
void xb_res_add(unsigned int domid, enum xb_res r, int delta);
/* A domain's counter; domid XB_RES_TOTAL gives the sum over domains. */
#define XB_RES_TOTAL UINT32_MAX
long xb_res_get(unsigned int domid, enum xb_res r);
/* JSON key of a counter: "ring_pages", "grants", "channels", "fds". */
const char *xb_res_name(enum xb_res r);

/*
 * Maps count grant references of domain domid on handle gt as one
 * contiguous range (xengnttab_map_domain_grant_refs()), counted in
 * "grants". NULL with errno set on failure (nothing counted).
 */
void *xb_grant_map(xengnttab_handle *gt, unsigned int domid, uint32_t count,
		   const uint32_t *refs, int prot);
/* Unmaps what xb_grant_map() gave; NULL-safe. 0 or -errno. */
int xb_grant_unmap(xengnttab_handle *gt, unsigned int domid, void *addr,
		   uint32_t count);

/* open(2) of a backing file for domain domid, counted in "fds". */
int xb_res_open(unsigned int domid, const char *path, int flags);
/* Counts an fd made otherwise (a TAP queue); passes fd < 0 through. */
int xb_res_track_fd(unsigned int domid, int fd);
/* Closes a counted fd and sets *fd to -1; a negative *fd is a no-op. */
void xb_res_close(unsigned int domid, int *fd);

/*
 * For the control socket: every domain with a counter that is not 0, and
 * the totals; a table, or a JSON object
 *   {"total": {"ring_pages": N, ...}, "domains": [{"domain": D, ...}]}
 */
void xb_res_report(FILE *out, bool json);

#endif
