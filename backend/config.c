/*
 * config.c - parsing of the configuration (see config.h).
 */
#include "backend/config.h"

#include <errno.h>
#include <stdarg.h>
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

/* The kind setting a key names ("vbd-data"), among the known kinds. */
static const struct xb_setting *find_setting(const struct xb_config *cfg,
					     const char *key,
					     const struct xb_kind **kind)
{
	for (unsigned int i = 0; cfg->known && cfg->known[i]; i++) {
		const struct xb_kind *k = cfg->known[i];
		size_t tl = strlen(k->type);

		if (!k->settings || strncmp(key, k->type, tl) || key[tl] != '-')
			continue;
		for (const struct xb_setting *st = k->settings; st->name;
		     st++) {
			if (!strcmp(key + tl + 1, st->name)) {
				*kind = k;
				return st;
			}
		}
	}
	return NULL;
}

static struct xb_config_value *value_slot(struct xb_config *cfg,
					  const struct xb_kind *kind,
					  const struct xb_setting *st)
{
	for (unsigned int i = 0; i < cfg->nr_values; i++)
		if (cfg->values[i].kind == kind && cfg->values[i].setting == st)
			return &cfg->values[i];
	if (cfg->nr_values == XB_CONFIG_MAX_SETTINGS)
		return NULL;
	cfg->values[cfg->nr_values] = (struct xb_config_value){
		.kind = kind,
		.setting = st,
	};
	return &cfg->values[cfg->nr_values++];
}

static void add_warning(struct xb_config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add_warning(struct xb_config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (cfg->nr_warnings == XB_CONFIG_MAX_WARNINGS) {
		cfg->warnings_lost++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(cfg->warnings[cfg->nr_warnings++], XB_CONFIG_ERR_MAX, fmt,
		  ap);
	va_end(ap);
}

/*
 * A kind setting from origin, given as via (its key, or its environment
 * variable). A bad value is a warning and leaves the setting as it was.
 */
static void set_kind_value(struct xb_config *cfg, const struct xb_kind *kind,
			   const struct xb_setting *st, const char *value,
			   const char *origin, const char *via)
{
	struct xb_config_value *v;

	if (strlen(value) >= XB_SETTING_VALUE_MAX || !st->valid(value)) {
		if (st->env && !strcmp(via, st->env))
			add_warning(cfg,
				    "%s: %s='%.40s' (%s-%s) is not %s: ignored (the default is %s)",
				    origin, via, value, kind->type, st->name,
				    st->expect, st->def);
		else
			add_warning(cfg,
				    "%s: %s = '%.40s' is not %s: ignored (the default is %s)",
				    origin, via, value, st->expect, st->def);
		return;
	}
	v = value_slot(cfg, kind, st);
	if (!v) {
		add_warning(cfg, "%s: %s: more than %d settings: ignored",
			    origin, via, XB_CONFIG_MAX_SETTINGS);
		return;
	}
	snprintf(v->value, sizeof(v->value), "%s", value);
	snprintf(v->origin, sizeof(v->origin), "%s", origin);
	snprintf(v->via, sizeof(v->via), "%s", via);
}

static void unknown_key(const struct xb_config *cfg, const char *key,
			char *err, size_t errlen)
{
	char known[160] = "kinds, log-level, log-target, control-socket";
	size_t n = strlen(known);

	for (unsigned int i = 0; cfg->known && cfg->known[i]; i++) {
		const struct xb_kind *k = cfg->known[i];

		for (const struct xb_setting *st = k->settings; st && st->name;
		     st++) {
			int w = snprintf(known + n, sizeof(known) - n,
					 ", %s-%s", k->type, st->name);

			if (w < 0 || (size_t)w >= sizeof(known) - n) {
				known[n] = '\0';
				break;
			}
			n += w;
		}
	}
	snprintf(err, errlen, "unknown key '%.40s' (%s)", key, known);
}

int xb_config_set(struct xb_config *cfg, const char *key, const char *value,
		  char *err, size_t errlen)
{
	return xb_config_set_from(cfg, key, value, "command line", err, errlen);
}

int xb_config_set_from(struct xb_config *cfg, const char *key,
		       const char *value, const char *origin, char *err,
		       size_t errlen)
{
	const struct xb_setting *st;
	const struct xb_kind *kind;

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
	st = find_setting(cfg, key, &kind);
	if (st) {
		char via[XB_SETTING_VALUE_MAX];

		snprintf(via, sizeof(via), "%s-%s", kind->type, st->name);
		set_kind_value(cfg, kind, st, value, origin, via);
		return 0;
	}
	unknown_key(cfg, key, err, errlen);
	return -EINVAL;
}

void xb_config_apply_env(struct xb_config *cfg)
{
	for (unsigned int i = 0; cfg->known && cfg->known[i]; i++) {
		const struct xb_kind *k = cfg->known[i];

		for (const struct xb_setting *st = k->settings; st && st->name;
		     st++) {
			const char *v = st->env ? getenv(st->env) : NULL;

			if (v && *v)
				set_kind_value(cfg, k, st, v, "environment",
					       st->env);
		}
	}
}

static const struct xb_config *config_in_use;

void xb_config_use(const struct xb_config *cfg)
{
	config_in_use = cfg;
}

const struct xb_config_value *xb_config_value(const struct xb_config *cfg,
					      const struct xb_kind *kind,
					      const char *name)
{
	for (unsigned int i = 0; cfg && i < cfg->nr_values; i++)
		if (cfg->values[i].kind == kind &&
		    !strcmp(cfg->values[i].setting->name, name))
			return &cfg->values[i];
	return NULL;
}

static const struct xb_config *config_kept;

void xb_config_keep(const struct xb_config *kept)
{
	config_kept = kept;
}

const char *xb_setting_get(const struct xb_kind *kind, const char *name,
			   const char **via)
{
	const struct xb_config_value *v;

	v = xb_config_value(config_kept, kind, name);
	if (!v)
		v = xb_config_value(config_in_use, kind, name);
	if (v) {
		/* A kept default has no via: it is still the default. */
		if (via)
			*via = v->via[0] ? v->via : NULL;
		return v->value;
	}
	if (via)
		*via = NULL;
	for (const struct xb_setting *st = kind->settings; st && st->name; st++)
		if (!strcmp(st->name, name))
			return st->def;
	return NULL;
}

/* ---- a device's record of its settings ------------------------------- */

/* Where a setting in force comes from, as the start-up line says it. */
static const char *origin_of(const struct xb_kind *kind, const char *name)
{
	const struct xb_config_value *v;

	v = xb_config_value(config_kept, kind, name);
	if (!v)
		v = xb_config_value(config_in_use, kind, name);
	return v ? v->origin : "default";
}

int xb_config_record(const struct xb_kind *kind, char *buf, size_t len)
{
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	for (const struct xb_setting *st = kind->settings; st && st->name;
	     st++) {
		const char *via, *value = xb_setting_get(kind, st->name, &via);
		char line[CONFIG_LINE_MAX];
		int w;

		w = snprintf(line, sizeof(line), "%s-%s\t%s\t%s\t%s",
			     kind->type, st->name, value, via ? via : "",
			     origin_of(kind, st->name));
		if (w < 0 || (size_t)w >= sizeof(line))
			return -ENOSPC;
		/* A file name is the operator's: one line per setting. */
		for (char *c = line; *c; c++)
			if (*c == '\n')
				*c = '?';
		w = snprintf(buf + n, len - n, "%s\n", line);
		if (w < 0 || (size_t)w >= len - n)
			return -ENOSPC;
		n += (size_t)w;
	}
	return (int)n;
}

/* One "<key>\t<value>\t<via>\t<origin>" line (cut in place) into kept. */
static int read_record_line(struct xb_config *kept, const struct xb_kind *kind,
			    char *line)
{
	char *f[4];
	size_t tl = strlen(kind->type);

	f[0] = line;
	for (int i = 1; i < 4; i++) {
		f[i] = strchr(f[i - 1], '\t');
		if (!f[i])
			return -EINVAL;
		*f[i]++ = '\0';
	}
	if (strncmp(f[0], kind->type, tl) || f[0][tl] != '-')
		return 0;
	for (const struct xb_setting *st = kind->settings; st && st->name;
	     st++) {
		struct xb_config_value *v;

		if (strcmp(f[0] + tl + 1, st->name) ||
		    strlen(f[1]) >= XB_SETTING_VALUE_MAX ||
		    strlen(f[2]) >= XB_SETTING_VALUE_MAX || !st->valid(f[1]))
			continue;
		v = value_slot(kept, kind, st);
		if (!v)
			return 0;
		snprintf(v->value, sizeof(v->value), "%s", f[1]);
		snprintf(v->via, sizeof(v->via), "%s", f[2]);
		snprintf(v->origin, sizeof(v->origin), "%s", f[3]);
		return 1;
	}
	return 0;
}

int xb_config_read_record(struct xb_config *kept, const struct xb_kind *kind,
			  const char *text)
{
	char line[CONFIG_LINE_MAX];
	int rc;

	xb_config_defaults(kept);
	while (*text) {
		size_t n = strcspn(text, "\n");

		if (n >= sizeof(line) || text[n] != '\n')
			return -EINVAL;
		memcpy(line, text, n);
		line[n] = '\0';
		text += n + 1;
		rc = read_record_line(kept, kind, line);
		if (rc < 0)
			return rc;
	}
	/* A key given twice is one setting (the last line's value). */
	return (int)kept->nr_values;
}

static int parse_line(struct xb_config *cfg, char *line, const char *origin,
		      char *err, size_t errlen)
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
	return xb_config_set_from(cfg, key, value, origin, err, errlen);
}

int xb_config_parse(struct xb_config *cfg, const char *text, size_t len,
		    const char *origin, char *err, size_t errlen)
{
	struct xb_config tmp = *cfg;
	char line[CONFIG_LINE_MAX], why[XB_CONFIG_ERR_MAX];
	char where[XB_SETTING_ORIGIN_MAX];
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
		snprintf(where, sizeof(where), "%s:%u", origin, lineno);
		if (parse_line(&tmp, line, where, why, sizeof(why))) {
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
