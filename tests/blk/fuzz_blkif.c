/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target: a hostile frontend controls the whole ring page (and
 * the contents of an indirect page); the backend fetches, checks and
 * answers everything it is given, as a worker's ring pass does. Input:
 *   byte 0: ABI, byte 1: ring order (0..2), byte 2: limit flags,
 *   bytes 3..10: device sectors, then the ring pages, then an indirect page.
 * Sanitizers catch any read outside the ring or the private copies;
 * the asserts state the invariants the data path relies on.
 */
#include "ring/blkif.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static void check_invariants(const struct ring_blkif_req *req,
			     const struct ring_blkif_limits *lim)
{
	unsigned int i;

	if (req->op == BLKIF_OP_DISCARD && !req->indirect) {
		assert(req->sector <= lim->sectors &&
		       req->nr_sectors <= lim->sectors - req->sector);
		return;
	}
	assert(req->nr_segments <= RING_BLKIF_MAX_INDIRECT_SEGS);
	assert(req->indirect ||
	       req->nr_segments <= BLKIF_MAX_SEGMENTS_PER_REQUEST);
	for (i = 0; i < req->nr_segments; i++)
		assert(req->seg[i].first_sect <= req->seg[i].last_sect &&
		       req->seg[i].last_sect < 8);
	/* A flush or barrier without data names no sector. */
	if (req->nr_segments)
		assert(req->sector <= lim->sectors &&
		       req->nr_sectors <= lim->sectors - req->sector);
	assert(ring_blkif_req_bytes(req) <=
	       (size_t)req->nr_segments * RING_BLKIF_PAGE_SIZE);
	assert(!lim->readonly || req->op == BLKIF_OP_READ);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ring_blkif_req req;
	struct ring_blkif_limits lim;
	struct ring_blkif ring;
	unsigned int order;
	enum ring_blkif_abi abi;
	size_t bytes;
	uint8_t *mem, *ind;
	int n, round;

	if (size < 11)
		return 0;
	abi = (enum ring_blkif_abi)(data[0] % 3);
	order = data[1] % 3;
	memset(&lim, 0, sizeof(lim));
	lim.readonly = data[2] & 1;
	lim.flush = data[2] & 2;
	lim.barrier = data[2] & 4;
	lim.discard = data[2] & 8;
	lim.max_indirect_segs = (data[2] & 16) ? 256 : 0;
	lim.sector_size = (data[2] & 32) ? 4096 : 512;
	memcpy(&lim.sectors, data + 3, 8);
	data += 11;
	size -= 11;

	bytes = (size_t)RING_BLKIF_PAGE_SIZE << order;
	mem = aligned_alloc(RING_BLKIF_PAGE_SIZE, bytes);
	ind = calloc(1, RING_BLKIF_PAGE_SIZE);
	memset(mem, 0, bytes);
	memcpy(mem, data, size < bytes ? size : bytes);
	if (size > bytes)
		memcpy(ind, data + bytes,
		       size - bytes < RING_BLKIF_PAGE_SIZE ?
			       size - bytes :
			       RING_BLKIF_PAGE_SIZE);

	ring_blkif_attach(&ring, abi, mem, order);
	for (round = 0; round < 4; round++) {
		n = ring_blkif_pending(&ring);
		if (n < 0)
			break; /* device would be shut down */
		assert((unsigned int)n <= ring_blkif_nr_ents(abi, order));
		while (n-- > 0) {
			int st;

			ring_blkif_fetch(&ring, &req);
			st = ring_blkif_check(&req, &lim);
			if (st == BLKIF_RSP_OKAY && req.indirect) {
				assert(req.nr_indirect_pages == 1);
				st = ring_blkif_load_indirect(&req, ind, &lim);
			}
			if (st == BLKIF_RSP_OKAY)
				check_invariants(&req, &lim);
			ring_blkif_respond(&ring, req.id, req.operation,
					   (int16_t)st);
		}
		ring_blkif_push(&ring);
		ring_blkif_final_check(&ring);
	}
	free(ind);
	free(mem);
	return 0;
}
