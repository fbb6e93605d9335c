/*
 * config.h - the daemon's settings: /etc/xenbackd.conf, then the command
 * line on top. The parser is a pure function (fuzzed).
 *
 * File format: one "key = value" per line; blank lines and lines starting
 * with '#' are ignored; surrounding blanks are trimmed. Keys:
 *   kinds           device types to serve, e.g. "vbd vif" or "vbd,vif"
 *                   (default: every kind built in)
 *   log-level       err, warning, notice, info (default), debug
 *   log-target      auto (default: the journal under systemd, else
 *                   stderr), journal, stderr
 *   control-socket  path of xenbackctl's socket
 *                   (default /run/xenbackd/control.sock)
 * Any error names the file, the line and what is wrong, in one line.
 */
#ifndef XB_BACKEND_CONFIG_H
#define XB_BACKEND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/log.h"

#define XB_CONFIG_FILE "/etc/xenbackd.conf"
#define XB_CONTROL_SOCKET "/run/xenbackd/control.sock"
#define XB_CONFIG_MAX_KINDS 8
#define XB_KIND_NAME_MAX 16
/* sun_path is 108 bytes with its NUL. */
#define XB_SOCKET_PATH_MAX 107
#define XB_CONFIG_ERR_MAX 256

struct xb_config {
	char kinds[XB_CONFIG_MAX_KINDS][XB_KIND_NAME_MAX];
	unsigned int nr_kinds;
	bool kinds_set;			/* else: every kind built in */
	int log_level;
	enum xb_log_target log_target;
	char control_socket[XB_SOCKET_PATH_MAX + 1];
};

void xb_config_defaults(struct xb_config *cfg);
/*
 * Sets one key. On error returns -EINVAL and writes the reason (without
 * file or line) to err.
 */
int xb_config_set(struct xb_config *cfg, const char *key, const char *value,
		  char *err, size_t errlen);
/*
 * Parses a whole file's text (len bytes, need not be NUL-terminated).
 * origin (the file name) prefixes errors: "origin:LINE: what".
 */
int xb_config_parse(struct xb_config *cfg, const char *text, size_t len,
		    const char *origin, char *err, size_t errlen);
/*
 * Reads and parses a file. A missing file is an error only if required.
 */
int xb_config_load(struct xb_config *cfg, const char *path, bool required,
		   char *err, size_t errlen);

#endif
