/*
 * resources.c - counters of what the daemon holds of each frontend domain
 * (see resources.h).
 *
 * One slot of counters per possible domain id, in static storage: no
 * allocation, no lock, no lifetime to manage (a counter outlives the
 * device that leaked it), and a slot's pages are touched only for the
 * domains that ever had a device.
 */
#include "backend/resources.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static long counters[XB_RES_DOMID_MAX + 1][XB_RES_NR];

static const char *const names[XB_RES_NR] = {
	[XB_RES_RING_PAGES] = "ring_pages",
	[XB_RES_GRANTS] = "grants",
	[XB_RES_CHANNELS] = "channels",
	[XB_RES_FDS] = "fds",
};

const char *xb_res_name(enum xb_res r)
{
	return r < XB_RES_NR ? names[r] : "?";
}

void xb_res_add(unsigned int domid, enum xb_res r, int delta)
{
	/* Device domids are validated long before anything is taken. */
	if (domid > XB_RES_DOMID_MAX || r >= XB_RES_NR)
		return;
	__atomic_add_fetch(&counters[domid][r], delta, __ATOMIC_RELAXED);
}

long xb_res_get(unsigned int domid, enum xb_res r)
{
	long sum = 0;

	if (r >= XB_RES_NR)
		return 0;
	if (domid != XB_RES_TOTAL)
		return domid > XB_RES_DOMID_MAX
			       ? 0
			       : __atomic_load_n(&counters[domid][r],
						 __ATOMIC_RELAXED);
	for (unsigned int d = 0; d <= XB_RES_DOMID_MAX; d++)
		sum += __atomic_load_n(&counters[d][r], __ATOMIC_RELAXED);
	return sum;
}

void *xb_grant_map(xengnttab_handle *gt, unsigned int domid, uint32_t count,
		   const uint32_t *refs, int prot)
{
	void *addr = xengnttab_map_domain_grant_refs(gt, count, domid,
						     (uint32_t *)refs, prot);

	if (addr)
		xb_res_add(domid, XB_RES_GRANTS, (int)count);
	return addr;
}

int xb_grant_unmap(xengnttab_handle *gt, unsigned int domid, void *addr,
		   uint32_t count)
{
	if (!addr)
		return 0;
	if (xengnttab_unmap(gt, addr, count) < 0)
		return errno ? -errno : -EIO;
	xb_res_add(domid, XB_RES_GRANTS, -(int)count);
	return 0;
}

int xb_res_open(unsigned int domid, const char *path, int flags)
{
	return xb_res_track_fd(domid, open(path, flags));
}

int xb_res_track_fd(unsigned int domid, int fd)
{
	if (fd >= 0)
		xb_res_add(domid, XB_RES_FDS, 1);
	return fd;
}

void xb_res_close(unsigned int domid, int *fd)
{
	if (*fd < 0)
		return;
	close(*fd);
	*fd = -1;
	xb_res_add(domid, XB_RES_FDS, -1);
}

static bool domain_holds(unsigned int d)
{
	for (unsigned int r = 0; r < XB_RES_NR; r++)
		if (__atomic_load_n(&counters[d][r], __ATOMIC_RELAXED))
			return true;
	return false;
}

static void row(FILE *out, bool json, const char *label, unsigned int domid)
{
	if (json) {
		for (unsigned int r = 0; r < XB_RES_NR; r++)
			fprintf(out, "%s\"%s\": %ld", r ? ", " : "", names[r],
				xb_res_get(domid, r));
		return;
	}
	fprintf(out, "%-8s", label);
	for (unsigned int r = 0; r < XB_RES_NR; r++)
		fprintf(out, " %-10ld", xb_res_get(domid, r));
	fputc('\n', out);
}

void xb_res_report(FILE *out, bool json)
{
	bool first = true;
	char label[16];

	if (json) {
		fputs("{\"total\": {", out);
		row(out, true, NULL, XB_RES_TOTAL);
		fputs("}, \"domains\": [", out);
	} else {
		fprintf(out, "%-8s", "DOMAIN");
		for (unsigned int r = 0; r < XB_RES_NR; r++)
			fprintf(out, " %-10s", names[r]);
		fputc('\n', out);
	}
	for (unsigned int d = 0; d <= XB_RES_DOMID_MAX; d++) {
		if (!domain_holds(d))
			continue;
		if (json) {
			fprintf(out, "%s{\"domain\": %u, ", first ? "" : ", ",
				d);
			row(out, true, NULL, d);
			fputc('}', out);
		} else {
			snprintf(label, sizeof(label), "%u", d);
			row(out, false, label, d);
		}
		first = false;
	}
	if (json)
		fputs("]}\n", out);
	else
		row(out, false, "total", XB_RES_TOTAL);
}
