/*
 * config.c - parsing of the configuration (see config.h).
 */
#include "backend/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_LINE_MAX 512
#define CONFIG_FILE_MAX (64 * 1024)

void xb_config_defaults(struct xb_config *cfg)
{
	*cfg = (struct xb_config){ 0 };
	cfg->log_level = LOG_INFO;
	cfg->log_target = XB_LOG_AUTO;
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s",
		 XB_CONTROL_SOCKET);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int set_kinds(struct xb_config *cfg, const char *value, char *err,
		     size_t errlen)
{
	struct xb_config tmp = *cfg;
	const char *p = value;

	tmp.nr_kinds = 0;
	while (*p) {
		size_t len;

		while (*p == ',' || is_blank(*p))
			p++;
		if (!*p)
			break;
		len = strcspn(p, ", \t\r");
		if (len >= XB_KIND_NAME_MAX) {
			snprintf(err, errlen, "kinds: name '%.*s...' too long",
				 XB_KIND_NAME_MAX, p);
			return -EINVAL;
		}
		for (size_t i = 0; i < len; i++) {
			if (!((p[i] >= 'a' && p[i] <= 'z') ||
			      (p[i] >= '0' && p[i] <= '9'))) {
				snprintf(err, errlen,
					 "kinds: '%.*s' is not a device type (lower-case letters and digits, e.g. vbd, vif)",
					 (int)len, p);
				return -EINVAL;
			}
		}
		if (tmp.nr_kinds == XB_CONFIG_MAX_KINDS) {
			snprintf(err, errlen, "kinds: more than %d kinds",
				 XB_CONFIG_MAX_KINDS);
			return -EINVAL;
		}
		memcpy(tmp.kinds[tmp.nr_kinds], p, len);
		tmp.kinds[tmp.nr_kinds][len] = '\0';
		tmp.nr_kinds++;
		p += len;
	}
	if (!tmp.nr_kinds) {
		snprintf(err, errlen, "kinds: empty list (e.g. \"vbd vif\")");
		return -EINVAL;
	}
	tmp.kinds_set = true;
	*cfg = tmp;
	return 0;
}

int xb_config_set(struct xb_config *cfg, const char *key, const char *value,
		  char *err, size_t errlen)
{
	if (!strcmp(key, "kinds"))
		return set_kinds(cfg, value, err, errlen);
	if (!strcmp(key, "log-level")) {
		if (xb_log_parse_level(value, &cfg->log_level) == 0)
			return 0;
		snprintf(err, errlen,
			 "log-level: '%.40s' is not one of err, warning, notice, info, debug",
			 value);
		return -EINVAL;
	}
	if (!strcmp(key, "log-target")) {
		if (!strcmp(value, "auto"))
			cfg->log_target = XB_LOG_AUTO;
		else if (!strcmp(value, "journal"))
			cfg->log_target = XB_LOG_JOURNAL;
		else if (!strcmp(value, "stderr"))
			cfg->log_target = XB_LOG_STDERR;
		else {
			snprintf(err, errlen,
				 "log-target: '%.40s' is not one of auto, journal, stderr",
				 value);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "control-socket")) {
		size_t len = strlen(value);

		if (value[0] != '/') {
			snprintf(err, errlen,
				 "control-socket: '%.60s' is not an absolute path",
				 value);
			return -EINVAL;
		}
		if (len > XB_SOCKET_PATH_MAX) {
			snprintf(err, errlen,
				 "control-socket: path longer than %d bytes",
				 XB_SOCKET_PATH_MAX);
			return -EINVAL;
		}
		memcpy(cfg->control_socket, value, len + 1);
		return 0;
	}
	snprintf(err, errlen,
		 "unknown key '%.40s' (kinds, log-level, log-target, control-socket)",
		 key);
	return -EINVAL;
}

static int parse_line(struct xb_config *cfg, char *line, char *err,
		      size_t errlen)
{
	char *key, *value, *eq, *end;

	while (is_blank(*line))
		line++;
	if (!*line || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(err, errlen, "expected 'key = value', got '%.40s'",
			 line);
		return -EINVAL;
	}
	key = line;
	end = eq;
	while (end > key && is_blank(end[-1]))
		end--;
	*end = '\0';
	value = eq + 1;
	while (is_blank(*value))
		value++;
	end = value + strlen(value);
	while (end > value && is_blank(end[-1]))
		end--;
	*end = '\0';
	if (!*key) {
		snprintf(err, errlen, "missing key before '='");
		return -EINVAL;
	}
	if (!*value) {
		snprintf(err, errlen, "%.40s: missing value", key);
		return -EINVAL;
	}
	return xb_config_set(cfg, key, value, err, errlen);
}

int xb_config_parse(struct xb_config *cfg, const char *text, size_t len,
		    const char *origin, char *err, size_t errlen)
{
	struct xb_config tmp = *cfg;
	char line[CONFIG_LINE_MAX], why[XB_CONFIG_ERR_MAX];
	size_t pos = 0;
	unsigned int lineno = 0;

	while (pos < len) {
		size_t n = 0;

		lineno++;
		while (pos < len && text[pos] != '\n') {
			if (text[pos] == '\0') {
				snprintf(err, errlen, "%s:%u: NUL byte",
					 origin, lineno);
				return -EINVAL;
			}
			if (n == sizeof(line) - 1) {
				snprintf(err, errlen,
					 "%s:%u: line longer than %zu bytes",
					 origin, lineno, sizeof(line) - 1);
				return -EINVAL;
			}
			line[n++] = text[pos++];
		}
		pos++; /* the newline */
		line[n] = '\0';
		if (parse_line(&tmp, line, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%u: %s", origin, lineno, why);
			return -EINVAL;
		}
	}
	*cfg = tmp;
	return 0;
}

int xb_config_load(struct xb_config *cfg, const char *path, bool required,
		   char *err, size_t errlen)
{
	char *text;
	size_t len;
	FILE *f;
	int rc;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !required)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	text = malloc(CONFIG_FILE_MAX + 1);
	if (!text) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	len = fread(text, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -EIO;
	} else if (len > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
			 CONFIG_FILE_MAX);
		rc = -EFBIG;
	} else {
		rc = xb_config_parse(cfg, text, len, path, err, errlen);
	}
	free(text);
	fclose(f);
	return rc;
}
