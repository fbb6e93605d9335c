/*
 * xenbackd-test - the daemon's service with the test kind "xbt" and the
 * kinds linked in from blk/ and net/, for tests of the core on the
 * simulated host. Same service code as build/xenbackd.
 */
#include "backend/service.h"
#include "tests/core/testkind.h"

int main(int argc, char **argv)
{
	const struct xb_kind *kinds[] = { &test_kind, NULL };

	return xb_service_main(argc, argv, kinds);
}
