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
 *   <type>-<name>   a setting a device kind declares (struct xb_setting,
 *                   backend/device.h), e.g. vbd-data, vbd-poll-us: known
 *                   once cfg->known lists the kinds
 * Any error names the file, the line and what is wrong, in one line, and
 * refuses the whole file. A kind setting's bad value is not an error: it
 * is kept as a warning (one line, with file and line) and that line counts
 * as absent.
 */
#ifndef XB_BACKEND_CONFIG_H
#define XB_BACKEND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/device.h"
#include "backend/log.h"

#define XB_CONFIG_FILE "/etc/xenbackd.conf"
#define XB_CONTROL_SOCKET "/run/xenbackd/control.sock"
#define XB_CONFIG_MAX_KINDS 8
#define XB_KIND_NAME_MAX 16
/* sun_path is 108 bytes with its NUL. */
#define XB_SOCKET_PATH_MAX 107
#define XB_CONFIG_ERR_MAX 256
#define XB_CONFIG_MAX_SETTINGS 16
#define XB_SETTING_VALUE_MAX 64
#define XB_SETTING_ORIGIN_MAX 160
#define XB_CONFIG_MAX_WARNINGS 8

/* A kind setting given by the file, the environment or the command line. */
struct xb_config_value {
	const struct xb_kind *kind;
	const struct xb_setting *setting;
	char value[XB_SETTING_VALUE_MAX];
	/* "/etc/xenbackd.conf:12", "environment", "command line" */
	char origin[XB_SETTING_ORIGIN_MAX];
	char via[XB_SETTING_VALUE_MAX];	/* the key or the variable */
};

struct xb_config {
	char kinds[XB_CONFIG_MAX_KINDS][XB_KIND_NAME_MAX];
	unsigned int nr_kinds;
	bool kinds_set;			/* else: every kind built in */
	int log_level;
	enum xb_log_target log_target;
	char control_socket[XB_SOCKET_PATH_MAX + 1];
	/* The kinds whose settings are keys (NULL-terminated; NULL: none). */
	const struct xb_kind *const *known;
	struct xb_config_value values[XB_CONFIG_MAX_SETTINGS];
	unsigned int nr_values;
	/* Bad values of kind settings, one line each, for the log. */
	char warnings[XB_CONFIG_MAX_WARNINGS][XB_CONFIG_ERR_MAX];
	unsigned int nr_warnings;
	unsigned int warnings_lost;	/* beyond XB_CONFIG_MAX_WARNINGS */
};

/* The defaults; cfg->known is NULL (set it before parsing for kind keys). */
void xb_config_defaults(struct xb_config *cfg);
/*
 * Sets one key; origin says where it was given ("FILE:LINE", "command
 * line") for a kind setting's warning. On error returns -EINVAL and writes
 * the reason (without file or line) to err.
 */
int xb_config_set_from(struct xb_config *cfg, const char *key,
		       const char *value, const char *origin, char *err,
		       size_t errlen);
/* The same, given on the command line. */
int xb_config_set(struct xb_config *cfg, const char *key, const char *value,
		  char *err, size_t errlen);
/*
 * The kind settings that name an environment variable, from the process's
 * environment (over what the file said).
 */
void xb_config_apply_env(struct xb_config *cfg);
/*
 * The configuration xb_setting_get() answers from (the daemon's, after
 * each start and reload); NULL: every setting its default. The caller
 * keeps cfg alive.
 */
void xb_config_use(const struct xb_config *cfg);
/*
 * The settings a device keeps while it stays connected (backend/kept.c):
 * while kept is not NULL, xb_setting_get() answers from it first, then
 * from the configuration in force. Main thread only.
 */
void xb_config_keep(const struct xb_config *kept);
/*
 * A record of every setting of kind as xb_setting_get() answers now, one
 * line each, "<type>-<name>\t<value>\t<via>\t<origin>\n" (via empty for a
 * default). Returns its length, or -ENOSPC when len is too small.
 */
int xb_config_record(const struct xb_kind *kind, char *buf, size_t len);
/*
 * Reads a record (NUL-terminated) into kept, cleared first: the lines
 * naming one of kind's settings with a value its check accepts (others are
 * skipped: a record may come from another version of the daemon). Returns
 * how many settings it keeps, or -EINVAL if a line is not a record's line.
 */
int xb_config_read_record(struct xb_config *kept, const struct xb_kind *kind,
			  const char *text);
/* The kind setting key's entry, or NULL when nothing set it. */
const struct xb_config_value *xb_config_value(const struct xb_config *cfg,
					      const struct xb_kind *kind,
					      const char *name);
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
