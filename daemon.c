/*
 * daemon.c - main() of xenbackd: the device kinds built in, and the
 * service (backend/service.h) that serves them.
 *
 * The kinds are weak references: a kind whose folder is not built yet is
 * simply absent (the Makefile links the whole core library, so a kind that
 * exists is always found).
 */
#include "backend/service.h"

extern const struct xb_kind blk_kind __attribute__((weak));
extern const struct xb_kind net_kind __attribute__((weak));

int main(int argc, char **argv)
{
	const struct xb_kind *kinds[3];
	unsigned int n = 0;

	if (&blk_kind)
		kinds[n++] = &blk_kind;
	if (&net_kind)
		kinds[n++] = &net_kind;
	kinds[n] = NULL;
	return xb_service_main(argc, argv, kinds);
}
