/* SPDX-License-Identifier: MIT */
/*
 * hv.h: the simulated hypervisor's state, shared by every process of one
 * simulated host.
 *
 * One file (<host>/shm/hv, on tmpfs) holds what Xen keeps for all domains:
 * the domain table, each domain's v1 grant table (written by the guest as
 * on Xen), the hypervisor-private pin counts of each grant, each domain's
 * event-channel port table, the open event-channel handles and the grant
 * mappings made by backends. Every process of the host maps it MAP_SHARED.
 * Each domain's memory is a file of its own (<host>/shm/mem.<domid>.<gen>).
 *
 * Locking: control operations (domain create/destroy, binding, mapping,
 * allocation of pages) run under the host lock, a flock() on
 * <host>/shm/lock plus a process-local mutex (flock does not exclude
 * threads sharing one open file). Two hot paths avoid it: an event-channel
 * notification is a few atomics and a write() to the peer handle's FIFO,
 * and a grant copy pins its entries under a per-domain spinlock held for a
 * few instructions only (never across the memcpy), as Xen's active-entry
 * lock is.
 */
#ifndef XENSIM_HV_H
#define XENSIM_HV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <xen/grant_table.h>

#define XSIM_MAGIC 0x5853494d48563031ull /* "XSIMHV01" */
#define XSIM_PAGE_SIZE 4096u
#define XSIM_MAX_DOMS 64          /* domain slots of one host */
#define XSIM_NR_GRANTS 32768u      /* v1 entries: Xen's 64 grant frames */
#define XSIM_NR_RESERVED_GRANTS 8u /* GNTTAB_NR_RESERVED_ENTRIES */
#define XSIM_NR_PORTS 4096u        /* 2-level ABI on 64-bit guests */
#define XSIM_MAX_PAGES (1u << 18)  /* 1 GiB of memory per domain at most */
#define XSIM_MAX_HANDLES 2048u     /* open event-channel handles */
#define XSIM_MAX_MAPS 65536u       /* grant pages mapped by backends */
#define XSIM_NR_VIRQS 24u
#define XSIM_DOMID_SELF 0x7FF0u

/* Domain slot states. */
enum { XSIM_DOM_FREE, XSIM_DOM_ALIVE, XSIM_DOM_DYING };

/* Port states, as Xen's ECS_*. */
enum {
	XSIM_PORT_FREE,
	XSIM_PORT_UNBOUND,
	XSIM_PORT_INTERDOMAIN,
	XSIM_PORT_VIRQ,
};

/* Delivery bits of a port (Xen's pending bit and Linux's masked irq). */
#define XSIM_EV_PENDING 1u
#define XSIM_EV_MASKED 2u

/* Pin counts of an active grant: readers low 16 bits, writers high. */
#define XSIM_PIN_R 1u
#define XSIM_PIN_W (1u << 16)
/* Concurrent read or write pins of one grant Xen allows (8-bit counters,
 * refused from bit 7 on). */
#define XSIM_PIN_MAX 128u

struct xsim_port {
	_Atomic uint32_t state;
	_Atomic uint32_t ev;          /* XSIM_EV_* */
	_Atomic uint32_t remote_dom;  /* unbound: who may bind; interdomain */
	_Atomic uint32_t remote_slot; /* interdomain: peer's domain slot */
	_Atomic uint32_t remote_port; /* interdomain: peer's port */
	_Atomic uint32_t virq;
	_Atomic uint32_t handle;      /* id of the handle it is delivered to */
};

struct xsim_dom {
	_Atomic uint32_t state; /* XSIM_DOM_* */
	uint32_t domid;
	uint64_t generation; /* creation number, names the memory file */
	uint32_t nr_pages;
	uint32_t shutdown;
	uint32_t shutdown_reason;
	uint32_t nr_maps; /* backend mappings of its pages still alive */
	char name[64];
	_Atomic uint32_t gt_lock; /* per-domain pin spinlock */
	uint32_t virq_port[XSIM_NR_VIRQS];
	grant_entry_v1_t gnttab[XSIM_NR_GRANTS]; /* the guest's, shared */
	_Atomic uint32_t pin[XSIM_NR_GRANTS];    /* hypervisor-private */
	_Atomic uint64_t gref_used[XSIM_NR_GRANTS / 64]; /* guest allocator */
	uint64_t page_used[XSIM_MAX_PAGES / 64];  /* under the host lock */
	struct xsim_port ports[XSIM_NR_PORTS];
};

/* An open event-channel handle; its FIFO is <host>/ev/<id>. */
struct xsim_handle_rec {
	uint32_t id; /* 0: free */
	uint32_t domid;
	pid_t pid;
	uint64_t start; /* process start time, against pid reuse */
};

/* One grant page mapped by a backend process. */
struct xsim_map_rec {
	uint32_t used;
	uint32_t slot; /* granting domain */
	uint32_t gref;
	uint32_t pin;  /* XSIM_PIN_R or XSIM_PIN_R|XSIM_PIN_W */
	pid_t pid;
	uint32_t next_free;
	uint64_t start;
};

struct xsim_hv {
	uint64_t magic;
	_Atomic uint64_t next_generation;
	_Atomic uint32_t next_handle_id;
	uint32_t map_free_head; /* 1-based index, 0: none */
	uint32_t maps_inited;
	struct xsim_handle_rec handles[XSIM_MAX_HANDLES];
	struct xsim_map_rec maps[XSIM_MAX_MAPS];
	struct xsim_dom doms[XSIM_MAX_DOMS];
};

/* A process's view of its host (one per process, shared by all handles). */
struct xsim_host {
	char dir[256];    /* $XENSIM_HOST */
	char shm[300];    /* <dir>/shm (resolved) */
	uint32_t domid;   /* $XENSIM_DOMID, the domain this process plays */
	struct xsim_hv *hv;
	int lock_fd;
};

struct xsim_host *xsim_host_get(void);
void xsim_host_put(struct xsim_host *h);
/* Create a fresh hypervisor state under dir (xensim start). */
int xsim_host_create(const char *dir, const char *shm_dir);

void xsim_lock(struct xsim_host *h);
void xsim_unlock(struct xsim_host *h);

/* Domain lookup: slot index or -1. The _any variant finds dying ones. */
int xsim_dom_slot(struct xsim_hv *hv, uint32_t domid);
int xsim_dom_slot_any(struct xsim_hv *hv, uint32_t domid);
static inline struct xsim_dom *xsim_dom(struct xsim_host *h, int slot)
{
	return &h->hv->doms[slot];
}

uint64_t xsim_proc_start(pid_t pid); /* 0 if the process is gone */
/* getpid(), cached (reset in a fork()ed child). */
pid_t xsim_self_pid(void);
uint64_t xsim_self_start(void);
bool xsim_proc_alive(pid_t pid, uint64_t start);

/* Release what dead processes held: handles' ports, mappings' pins.
 * Called under the host lock. */
void xsim_reap_locked(struct xsim_host *h);
/* Free a dying domain once nothing maps its pages. Under the lock. */
void xsim_dom_maybe_free_locked(struct xsim_host *h, int slot);

/* Memory of a domain, mapped whole in this process (cached). */
void *xsim_dom_mem(struct xsim_host *h, int slot, int *fd);
void xsim_mem_path(struct xsim_host *h, uint32_t domid, uint64_t gen,
		   char *buf, size_t len);

/* Grant pins (hypervisor side), shared by map and copy. */
int xsim_grant_pin(struct xsim_host *h, int slot, uint32_t gref,
		   uint32_t mapper, bool write, bool map, uint32_t *frame);
void xsim_grant_unpin(struct xsim_host *h, int slot, uint32_t gref,
		      bool write);

/* Guest side of grants and memory (gtcore.c). */
int xsim_page_alloc(struct xsim_host *h, int slot, unsigned int n);
void xsim_page_free(struct xsim_host *h, int slot, uint32_t frame,
		    unsigned int n);
int xsim_gref_alloc(struct xsim_host *h, int slot);
void xsim_gref_free(struct xsim_host *h, int slot, uint32_t gref);
/* Fill an entry as a guest does: domid and frame, barrier, then flags. */
void xsim_grant_write(struct xsim_host *h, int slot, uint32_t gref,
		      uint32_t domid, uint32_t frame, uint16_t flags);
/* End foreign access as a guest does: 0, or -EBUSY while mapped. */
int xsim_grant_end(struct xsim_host *h, int slot, uint32_t gref);

/* Event channels (core, shared by libxenevtchn and the guest library). */
struct xsim_evh {
	struct xsim_host *host;
	uint32_t id;
	int rec;     /* index in hv->handles */
	int fd;      /* read end of its FIFO */
	char path[320];
	uint32_t restrict_dom; /* ~0u: unrestricted */
	uint8_t owned[XSIM_NR_PORTS / 8];
	pthread_mutex_t cache_mutex;
	struct {
		uint32_t id;
		int fd;
	} cache[16]; /* FIFOs of peer handles this one notifies */
};
struct xsim_evh *xsim_evh_open(int cloexec);
struct xsim_evh *xsim_evh_adopt(int fd);
void xsim_evh_close(struct xsim_evh *e);
int xsim_ev_bind_unbound(struct xsim_evh *e, uint32_t remote_dom);
int xsim_ev_bind_interdomain(struct xsim_evh *e, uint32_t remote_dom,
			     uint32_t remote_port);
int xsim_ev_bind_virq(struct xsim_evh *e, uint32_t virq);
int xsim_ev_unbind(struct xsim_evh *e, uint32_t port);
int xsim_ev_notify(struct xsim_evh *e, uint32_t port);
int xsim_ev_pending(struct xsim_evh *e);
int xsim_ev_unmask(struct xsim_evh *e, uint32_t port);
/* Close a port of a domain (unbind, domain death). Under the lock. */
void xsim_port_close_locked(struct xsim_host *h, int slot, uint32_t port);
/* Raise a virtual IRQ of a domain (VIRQ_DOM_EXC to dom0). */
void xsim_virq_raise(struct xsim_host *h, int slot, uint32_t virq);
/* Mark a port of domain slot pending and wake its handle if it went from
 * idle to pending; via (may be NULL) caches the FIFOs it writes to. */
void xsim_ev_deliver(struct xsim_evh *via, struct xsim_host *h, int slot,
		     uint32_t port);

#endif
