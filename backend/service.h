/*
 * service.h - the daemon process: options and configuration, logging,
 * signals (SIGTERM/SIGINT stop, SIGHUP reloads, SIGUSR2 hands over),
 * systemd notification
 * (READY, STATUS, WATCHDOG, STOPPING, RELOADING), the control socket, and
 * the main loop around the device registry.
 *
 * daemon.c calls it with the kinds built in; a test program may call it
 * with others (tests/core does, with a test kind).
 */
#ifndef XB_BACKEND_SERVICE_H
#define XB_BACKEND_SERVICE_H

#include "backend/device.h"

/*
 * Exit status of a handover stop (SIGUSR2, "xenbackctl restart"): the
 * devices were left Connected for a successor to adopt. The unit lists it
 * in SuccessExitStatus= and RestartForceExitStatus=, so systemd starts
 * the successor at once.
 */
#define XB_EXIT_HANDOVER 75

/* kinds: NULL-terminated. Returns the process's exit status. */
int xb_service_main(int argc, char **argv, const struct xb_kind *const *kinds);

#endif
