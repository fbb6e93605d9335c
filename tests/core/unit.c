/*
 * unit.c - unit tests of the daemon core's pure parts: value parsing,
 * frontend path validation, configuration, the epoll loop, workers and
 * their drain, log rate limiting, resource counters, request journals.
 * One PASS/FAIL line per case.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend/config.h"
#include "backend/device.h"
#include "backend/journal.h"
#include "backend/log.h"
#include "backend/loop.h"
#include "backend/resources.h"
#include "backend/defer.h"
#include "backend/worker.h"
#include "xenstore/xbs.h"

static int failures;

static void result(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS: %s\n", name);
		return;
	}
	failures++;
	printf("FAIL: %s ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* ---- xbs_parse_uint ------------------------------------------------------ */

static void test_parse_uint(void)
{
	static const struct {
		const char *in;
		uint64_t max;
		int rc;
		uint64_t out;
	} cases[] = {
		{ "0", 10, 0, 0 },
		{ "10", 10, 0, 10 },
		{ "11", 10, -ERANGE, 0 },
		{ "007", 10, 0, 7 },
		{ "", 10, -EINVAL, 0 },
		{ "-1", 10, -EINVAL, 0 },
		{ "+1", 10, -EINVAL, 0 },
		{ " 1", 10, -EINVAL, 0 },
		{ "1 ", 10, -EINVAL, 0 },
		{ "1\n", 10, -EINVAL, 0 },
		{ "0x10", 100, -EINVAL, 0 },
		{ "1e3", 10000, -EINVAL, 0 },
		{ "18446744073709551615", UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", UINT64_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", UINT64_MAX, -ERANGE, 0 },
		{ "4294967296", UINT32_MAX, -ERANGE, 0 },
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t out = 12345;
		int rc = xbs_parse_uint(cases[i].in, cases[i].max, &out);

		if (rc != cases[i].rc || (rc == 0 && out != cases[i].out)) {
			printf("  '%s' max %llu: got rc %d out %llu, want rc %d out %llu\n",
			       cases[i].in, (unsigned long long)cases[i].max, rc,
			       (unsigned long long)out, cases[i].rc,
			       (unsigned long long)cases[i].out);
			ok = false;
		}
	}
	result(ok, "parse_uint_table", "see above");
}

static void test_parse_state(void)
{
	enum xenbus_state s;
	bool ok = xbs_parse_state("2", &s) == 0 && s == XenbusStateInitWait &&
		  xbs_parse_state("9", &s) == -ERANGE &&
		  xbs_parse_state("x", &s) == -EINVAL &&
		  !strcmp(xbs_state_name(4), "Connected") &&
		  !strcmp(xbs_state_name(99), "Unknown");

	result(ok, "parse_state", "wrong state parsing");
}

/* ---- toolstack values: a vif's mac, a vbd's physical-device ------------- */

static void test_parse_mac(void)
{
	static const struct {
		const char *in;
		int rc;
		uint8_t mac[6];
	} cases[] = {
		{ "00:16:3e:0a:1b:2c", 0, { 0x00, 0x16, 0x3e, 0x0a, 0x1b, 0x2c } },
		{ "00:16:3E:0A:1B:2C", 0, { 0x00, 0x16, 0x3e, 0x0a, 0x1b, 0x2c } },
		{ "Ff:fF:ff:ff:ff:ff", 0, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ "00:00:00:00:00:00", 0, { 0 } },
		{ "00-16-3e-0a-1b-2c", -EINVAL, { 0 } },
		{ "00.16.3e.0a.1b.2c", -EINVAL, { 0 } },
		{ "0016.3e0a.1b2c", -EINVAL, { 0 } },
		{ "00163e0a1b2c", -EINVAL, { 0 } },
		{ "0:16:3e:a:1b:2c", -EINVAL, { 0 } },
		{ "000:16:3e:0a:1b:2c", -EINVAL, { 0 } },
		{ "00:16:3e:0a:1b", -EINVAL, { 0 } },
		{ "00:16:3e:0a:1b:", -EINVAL, { 0 } },
		{ "00:16:3e:0a:1b:2c:", -EINVAL, { 0 } },
		{ "00:16:3e:0a:1b:2c:3d", -EINVAL, { 0 } },
		{ "00:16:3e:0a:1b:2", -EINVAL, { 0 } },
		{ "00:16:3e:0a:1b:2c ", -EINVAL, { 0 } },
		{ "00:16:3e:0a:1b:2c\n", -EINVAL, { 0 } },
		{ " 0:16:3e:0a:1b:2c", -EINVAL, { 0 } },
		{ "0 :16:3e:0a:1b:2c", -EINVAL, { 0 } },
		{ "+0:16:3e:0a:1b:2c", -EINVAL, { 0 } },
		{ "-1:16:3e:0a:1b:2c", -EINVAL, { 0 } },
		{ "0x:16:3e:0a:1b:2c", -EINVAL, { 0 } },
		{ "00:16:3e:0a:1b:2g", -EINVAL, { 0 } },
		{ "00::16:3e:0a:1b:2", -EINVAL, { 0 } },
		{ "", -EINVAL, { 0 } },
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t mac[6] = { 1, 2, 3, 4, 5, 6 }, was[6];
		int rc;

		memcpy(was, mac, sizeof(mac));
		rc = xbs_parse_mac(cases[i].in, mac);
		/* Refused leaves the output as it was. */
		if (rc != cases[i].rc ||
		    memcmp(mac, rc ? was : cases[i].mac, sizeof(mac))) {
			printf("  '%s': got rc %d %02x:%02x:%02x:%02x:%02x:%02x, "
			       "want rc %d\n",
			       cases[i].in, rc, mac[0], mac[1], mac[2], mac[3],
			       mac[4], mac[5], cases[i].rc);
			ok = false;
		}
	}
	result(ok, "parse_mac_table", "see above");
}

static void test_parse_major_minor(void)
{
	static const struct {
		const char *in;
		int rc;
		unsigned int maj, min;
	} cases[] = {
		{ "fe:0", 0, 0xfe, 0 },
		{ "7:0", 0, 7, 0 },
		{ "8:11", 0, 8, 0x11 },
		{ "FE:1A", 0, 0xfe, 0x1a },
		{ "fff:fffff", 0, 0xfff, 0xfffff },
		{ "007:0000", 0, 7, 0 },
		{ "000000000000000000007:00000000000000000001", 0, 7, 1 },
		{ "0:0", -ERANGE, 0, 0 },
		{ "0:1", -ERANGE, 0, 0 },
		{ "1000:0", -ERANGE, 0, 0 },
		{ "7:100000", -ERANGE, 0, 0 },
		{ "ffffffffffffffffffffffff:0", -ERANGE, 0, 0 },
		{ "7:ffffffffffffffffffffffffffff", -ERANGE, 0, 0 },
		{ "1000:x", -EINVAL, 0, 0 },
		{ "1000x:0", -EINVAL, 0, 0 },
		{ "-1:0", -EINVAL, 0, 0 },
		{ "7:-1", -EINVAL, 0, 0 },
		{ "-0:0", -EINVAL, 0, 0 },
		{ "+7:0", -EINVAL, 0, 0 },
		{ "0x7:0", -EINVAL, 0, 0 },
		{ "7:0x1", -EINVAL, 0, 0 },
		{ " 7:0", -EINVAL, 0, 0 },
		{ "7 :0", -EINVAL, 0, 0 },
		{ "7: 0", -EINVAL, 0, 0 },
		{ "7:0 ", -EINVAL, 0, 0 },
		{ "7:0\n", -EINVAL, 0, 0 },
		{ "7:0:0", -EINVAL, 0, 0 },
		{ "7.0", -EINVAL, 0, 0 },
		{ "7,0", -EINVAL, 0, 0 },
		{ "7", -EINVAL, 0, 0 },
		{ "7:", -EINVAL, 0, 0 },
		{ ":0", -EINVAL, 0, 0 },
		{ ":", -EINVAL, 0, 0 },
		{ "", -EINVAL, 0, 0 },
		{ "g:0", -EINVAL, 0, 0 },
		{ "/dev/loop0", -EINVAL, 0, 0 },
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int maj = 12345, min = 12345;
		int rc = xbs_parse_major_minor(cases[i].in, &maj, &min);

		if (rc != cases[i].rc ||
		    (rc == 0 && (maj != cases[i].maj || min != cases[i].min)) ||
		    (rc != 0 && (maj != 12345 || min != 12345))) {
			printf("  '%s': got rc %d %x:%x, want rc %d %x:%x\n",
			       cases[i].in, rc, maj, min, cases[i].rc,
			       cases[i].maj, cases[i].min);
			ok = false;
		}
	}
	result(ok, "parse_major_minor_table", "see above");
}

/* ---- frontend paths ----------------------------------------------------- */

static void test_frontend_paths(void)
{
	static const struct {
		const char *path;
		unsigned int domid;
		bool valid;
	} cases[] = {
		{ "/local/domain/5/device/vbd/51712", 5, true },
		{ "/local/domain/5/device/vif/0", 5, true },
		{ "/local/domain/5/x", 5, true },
		{ "/local/domain/5", 5, false },
		{ "/local/domain/5/", 5, false },
		{ "/local/domain/6/device/vbd/1", 5, false },
		{ "/local/domain/55/device/vbd/1", 5, false },
		{ "/local/domain/05/device/vbd/1", 5, false },
		{ "/local/domain/0/device/vbd/1", 5, false },
		{ "/local/domain/5/../0/backend", 5, false },
		{ "/local/domain/5/device//vbd", 5, false },
		{ "/local/domain/5/device/vbd/", 5, false },
		{ "/local/domain/5/dev ice", 5, false },
		{ "/local/domain/5/dev.ice", 5, false },
		{ "local/domain/5/device", 5, false },
		{ "/vm/5/device", 5, false },
		{ "", 5, false },
	};
	char longpath[XBS_PATH_MAX];
	bool ok = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (xbs_valid_frontend_path(cases[i].path, cases[i].domid) !=
		    cases[i].valid) {
			printf("  '%s' (domain %u): want %s\n", cases[i].path,
			       cases[i].domid,
			       cases[i].valid ? "valid" : "invalid");
			ok = false;
		}
	}
	snprintf(longpath, sizeof(longpath), "/local/domain/5/");
	while (strlen(longpath) < XBS_FRONTEND_PATH_MAX + 1)
		strcat(longpath, "a");
	if (xbs_valid_frontend_path(longpath, 5)) {
		printf("  an over-long path was accepted\n");
		ok = false;
	}
	result(ok, "frontend_path_table", "see above");
}

static void test_split_device_path(void)
{
	static const struct {
		const char *rel;
		int rc;
		unsigned int domid, devid;
		const char *node;
	} cases[] = {
		{ "/5/51712/state", 0, 5, 51712, "state" },
		{ "/0/0/queue-0/ring-ref", 0, 0, 0, "queue-0/ring-ref" },
		{ "", -EINVAL, 0, 0, NULL },
		{ "/5", -EINVAL, 0, 0, NULL },
		{ "/5/", -EINVAL, 0, 0, NULL },
		{ "/5/7", -EINVAL, 0, 0, NULL },
		{ "/5/7/", -EINVAL, 0, 0, NULL },
		{ "/x/7/state", -EINVAL, 0, 0, NULL },
		{ "/5/-7/state", -EINVAL, 0, 0, NULL },
		{ "//7/state", -EINVAL, 0, 0, NULL },
		{ "/32752/1/state", -EINVAL, 0, 0, NULL },
		{ "/32751/4294967295/x", 0, 32751, 4294967295u, "x" },
		{ "/1/4294967296/x", -EINVAL, 0, 0, NULL },
		{ "/1/99999999999999999999/x", -EINVAL, 0, 0, NULL },
		{ "5/7/state", -EINVAL, 0, 0, NULL },
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int domid = 0, devid = 0;
		const char *node = NULL;
		int rc = xbs_split_device_path(cases[i].rel, &domid, &devid,
					       &node);

		if (rc != cases[i].rc ||
		    (!rc && (domid != cases[i].domid ||
			     devid != cases[i].devid ||
			     strcmp(node, cases[i].node)))) {
			printf("  '%s': rc %d %u/%u '%s'\n", cases[i].rel, rc,
			       domid, devid, node ? node : "");
			ok = false;
		}
	}
	result(ok, "split_device_path_table", "see above");
}

/* ---- configuration ----------------------------------------------------- */

/* A kind with settings, as blk/ declares vbd-data and vbd-poll-us. */
static bool unit_mode_valid(const char *v)
{
	return !strcmp(v, "fast") || !strcmp(v, "safe");
}

static const struct xb_setting unit_settings[] = {
	{ .name = "mode", .def = "safe", .env = "XB_UNIT_MODE",
	  .expect = "fast or safe", .valid = unit_mode_valid },
	{ .name = "quiet", .def = "safe", .expect = "fast or safe",
	  .valid = unit_mode_valid },
	{ .name = NULL },
};
static const struct xb_kind unit_kind = { .type = "ut",
					  .settings = unit_settings };
static const struct xb_kind *const unit_kinds[] = { &unit_kind, NULL };

static void test_config(void)
{
	static const struct {
		const char *text;
		const char *err; /* substring of the error, NULL: accepted */
	} cases[] = {
		{ "", NULL },
		{ "# comment\n\n   \n", NULL },
		{ "kinds = vbd vif\n", NULL },
		{ "kinds=vbd,vif", NULL },
		{ "log-level = debug\nlog-target = stderr\n", NULL },
		{ "control-socket = /run/x.sock\n", NULL },
		{ "kinds =\n", "test.conf:1: kinds: missing value" },
		{ "\nkinds = VBD\n", "test.conf:2: kinds: 'VBD' is not a device type" },
		{ "log-level = verbose\n", "test.conf:1: log-level: 'verbose' is not one of" },
		{ "log-target = syslog", "log-target: 'syslog' is not one of" },
		{ "control-socket = run/x", "not an absolute path" },
		{ "frobnicate = 1", "test.conf:1: unknown key 'frobnicate'" },
		{ "kinds vbd", "test.conf:1: expected 'key = value'" },
		{ "= vbd", "missing key" },
		{ "kinds = a,b,c,d,e,f,g,h,i", "more than 8 kinds" },
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xb_config cfg;
		char err[XB_CONFIG_ERR_MAX] = "";
		int rc;

		xb_config_defaults(&cfg);
		rc = xb_config_parse(&cfg, cases[i].text,
				     strlen(cases[i].text), "test.conf", err,
				     sizeof(err));
		if (!cases[i].err ? rc != 0
				  : (rc == 0 || !strstr(err, cases[i].err))) {
			printf("  '%s': rc %d err '%s', want %s\n",
			       cases[i].text, rc, err,
			       cases[i].err ? cases[i].err : "accepted");
			ok = false;
		}
		if (strchr(err, '\n')) {
			printf("  error is not one line: '%s'\n", err);
			ok = false;
		}
	}
	result(ok, "config_table", "see above");
}

/* A kind's settings: keys, bad values, precedence, what kinds read. */
static void test_config_kind_settings(void)
{
	const char *text = "ut-mode = fast\nut-quiet = loud\n";
	const struct xb_config_value *v;
	struct xb_config cfg;
	char err[XB_CONFIG_ERR_MAX] = "";
	const char *via;
	bool ok;

	xb_config_use(NULL);
	ok = !strcmp(xb_setting_get(&unit_kind, "mode", &via), "safe") &&
	     !via;
	xb_config_defaults(&cfg);
	/* Unknown until the kind is known, as any other key. */
	ok = ok && xb_config_parse(&cfg, text, strlen(text), "u.conf", err,
				   sizeof(err)) != 0 &&
	     strstr(err, "u.conf:1: unknown key 'ut-mode'");
	result(ok, "config_kind_key_unknown_without_kind", "err '%s'", err);

	xb_config_defaults(&cfg);
	cfg.known = unit_kinds;
	ok = xb_config_parse(&cfg, "ut-mod = fast\n", 14, "u.conf", err,
			     sizeof(err)) != 0 &&
	     strstr(err, "u.conf:1: unknown key 'ut-mod' (kinds, log-level, log-target, control-socket, ut-mode, ut-quiet)");
	result(ok, "config_kind_unknown_key_lists_kind_keys", "err '%s'", err);

	/* A bad value: one warning, the line counts as absent. */
	ok = xb_config_parse(&cfg, text, strlen(text), "u.conf", err,
			     sizeof(err)) == 0 &&
	     cfg.nr_warnings == 1 &&
	     !strcmp(cfg.warnings[0],
		     "u.conf:2: ut-quiet = 'loud' is not fast or safe: ignored (the default is safe)") &&
	     !xb_config_value(&cfg, &unit_kind, "quiet");
	v = xb_config_value(&cfg, &unit_kind, "mode");
	ok = ok && v && !strcmp(v->value, "fast") &&
	     !strcmp(v->origin, "u.conf:1") && !strcmp(v->via, "ut-mode");
	xb_config_use(&cfg);
	ok = ok && !strcmp(xb_setting_get(&unit_kind, "mode", &via), "fast") &&
	     !strcmp(via, "ut-mode") &&
	     !strcmp(xb_setting_get(&unit_kind, "quiet", NULL), "safe");
	result(ok, "config_kind_value_and_bad_value", "warning '%s'",
	       cfg.nr_warnings ? cfg.warnings[0] : "");

	/* The environment over the file, the command line over both. */
	setenv("XB_UNIT_MODE", "safe", 1);
	xb_config_apply_env(&cfg);
	ok = !strcmp(xb_setting_get(&unit_kind, "mode", &via), "safe") &&
	     !strcmp(via, "XB_UNIT_MODE");
	ok = ok && xb_config_set(&cfg, "ut-mode", "fast", err,
				 sizeof(err)) == 0 &&
	     !strcmp(xb_setting_get(&unit_kind, "mode", &via), "fast") &&
	     !strcmp(via, "ut-mode") &&
	     !strcmp(xb_config_value(&cfg, &unit_kind, "mode")->origin,
		     "command line");
	setenv("XB_UNIT_MODE", "turbo", 1);
	xb_config_apply_env(&cfg);
	unsetenv("XB_UNIT_MODE");
	ok = ok && cfg.nr_warnings == 2 &&
	     !strcmp(cfg.warnings[1],
		     "environment: XB_UNIT_MODE='turbo' (ut-mode) is not fast or safe: ignored (the default is safe)") &&
	     !strcmp(xb_setting_get(&unit_kind, "mode", NULL), "fast");
	result(ok, "config_kind_precedence_env_and_command_line",
	       "warning '%s'", cfg.nr_warnings > 1 ? cfg.warnings[1] : "");

	/* Warnings are bounded, the rest counted. */
	xb_config_defaults(&cfg);
	cfg.known = unit_kinds;
	for (int i = 0; i < XB_CONFIG_MAX_WARNINGS + 3; i++)
		xb_config_set(&cfg, "ut-mode", "x", err, sizeof(err));
	ok = cfg.nr_warnings == XB_CONFIG_MAX_WARNINGS &&
	     cfg.warnings_lost == 3;
	result(ok, "config_kind_warnings_bounded", "%u %u", cfg.nr_warnings,
	       cfg.warnings_lost);
	xb_config_use(NULL);
}

/*
 * A device's record of its settings (backend/kept.c): written as
 * xb_setting_get() answers, read back into what it keeps, which then
 * answers first; lines of other kinds or versions are skipped.
 */
static void test_config_record(void)
{
	const char *text = "ut-mode = fast\n";
	struct xb_config cfg, kept;
	char rec[256], err[XB_CONFIG_ERR_MAX];
	const char *via;
	bool ok;

	xb_config_defaults(&cfg);
	cfg.known = unit_kinds;
	xb_config_parse(&cfg, text, strlen(text), "u.conf", err, sizeof(err));
	xb_config_use(&cfg);
	ok = xb_config_record(&unit_kind, rec, sizeof(rec)) > 0 &&
	     !strcmp(rec, "ut-mode\tfast\tut-mode\tu.conf:1\n"
			  "ut-quiet\tsafe\t\tdefault\n");
	result(ok, "config_record_written", "'%s'", rec);
	ok = xb_config_record(&unit_kind, rec, 10) == -ENOSPC;
	result(ok, "config_record_too_small", "no -ENOSPC");

	/* Kept: the file now says otherwise, the device keeps its record. */
	ok = xb_config_read_record(&kept, &unit_kind,
				   "ut-mode\tsafe\tXB_UNIT_MODE\tenvironment\n"
				   "ut-quiet\tfast\tut-quiet\tu.conf:9\n") == 2;
	xb_config_keep(&kept);
	ok = ok && !strcmp(xb_setting_get(&unit_kind, "mode", &via), "safe") &&
	     !strcmp(via, "XB_UNIT_MODE") &&
	     !strcmp(xb_setting_get(&unit_kind, "quiet", NULL), "fast");
	ok = ok && xb_config_record(&unit_kind, rec, sizeof(rec)) > 0 &&
	     !strcmp(rec, "ut-mode\tsafe\tXB_UNIT_MODE\tenvironment\n"
			  "ut-quiet\tfast\tut-quiet\tu.conf:9\n");
	xb_config_keep(NULL);
	ok = ok && !strcmp(xb_setting_get(&unit_kind, "mode", NULL), "fast");
	result(ok, "config_record_kept_answers_first", "'%s'", rec);

	/* A kept default is still a default (no via). */
	ok = xb_config_read_record(&kept, &unit_kind,
				   "ut-mode\tsafe\t\tdefault\n") == 1;
	xb_config_keep(&kept);
	ok = ok && !strcmp(xb_setting_get(&unit_kind, "mode", &via), "safe") &&
	     !via;
	xb_config_keep(NULL);
	result(ok, "config_record_kept_default", "via '%s'", via ? via : "");

	/* Another version's lines: unknown keys, bad values, another kind. */
	ok = xb_config_read_record(&kept, &unit_kind,
				   "ut-gone\tx\t\tdefault\n"
				   "ut-mode\tturbo\t\tdefault\n"
				   "vbd-data\tmap\t\tdefault\n"
				   "ut-quiet\tfast\t\tdefault\n") == 1 &&
	     kept.nr_values == 1 &&
	     !strcmp(xb_config_value(&kept, &unit_kind, "quiet")->value,
		     "fast");
	result(ok, "config_record_skips_unknown_and_bad", "%u values",
	       kept.nr_values);
	ok = xb_config_read_record(&kept, &unit_kind, "ut-mode fast\n") ==
		     -EINVAL &&
	     xb_config_read_record(&kept, &unit_kind,
				   "ut-mode\tfast\t\tdefault") == -EINVAL &&
	     xb_config_read_record(&kept, &unit_kind, "") == 0;
	result(ok, "config_record_malformed", "accepted");
	xb_config_use(NULL);
}

static void test_config_values(void)
{
	const char *text = "kinds = vif\nlog-level = warning\n"
			   "control-socket = /tmp/a.sock\n";
	struct xb_config cfg;
	char err[XB_CONFIG_ERR_MAX];
	bool ok;

	xb_config_defaults(&cfg);
	ok = !cfg.kinds_set && cfg.log_level == LOG_INFO &&
	     !strcmp(cfg.control_socket, XB_CONTROL_SOCKET);
	ok = ok && xb_config_parse(&cfg, text, strlen(text), "t", err,
				   sizeof(err)) == 0;
	ok = ok && cfg.kinds_set && cfg.nr_kinds == 1 &&
	     !strcmp(cfg.kinds[0], "vif") && cfg.log_level == LOG_WARNING &&
	     !strcmp(cfg.control_socket, "/tmp/a.sock");
	/* A bad file leaves the configuration as it was. */
	ok = ok && xb_config_parse(&cfg, "log-level = debug\nx = 1\n", 22, "t",
				   err, sizeof(err)) != 0 &&
	     cfg.log_level == LOG_WARNING;
	ok = ok && xb_config_load(&cfg, "/nonexistent/xb.conf", false, err,
				  sizeof(err)) == 0;
	ok = ok && xb_config_load(&cfg, "/nonexistent/xb.conf", true, err,
				  sizeof(err)) != 0 &&
	     strstr(err, "/nonexistent/xb.conf: No such file");
	result(ok, "config_values_and_atomic_reload", "err '%s'", err);
}

static void test_log_levels(void)
{
	int p;
	bool ok = xb_log_parse_level("debug", &p) == 0 && p == LOG_DEBUG &&
		  xb_log_parse_level("ERR", &p) == 0 && p == LOG_ERR &&
		  xb_log_parse_level("6", &p) == 0 && p == LOG_INFO &&
		  xb_log_parse_level("loud", &p) == -EINVAL &&
		  xb_log_parse_level("8", &p) == -EINVAL;

	result(ok, "log_level_names", "wrong level parsing");
}

static void test_ratelimit(void)
{
	struct xb_ratelimit rl;
	unsigned int allowed = 0, suppressed = 0, s;

	xb_ratelimit_init(&rl);
	for (int i = 0; i < 1000; i++)
		if (xb_ratelimit_allow(&rl, &s))
			allowed++;
	/* Force the window to end and check the count of dropped lines. */
	rl.window_start_ms -= XB_RATELIMIT_INTERVAL_MS;
	xb_ratelimit_allow(&rl, &suppressed);
	xb_ratelimit_destroy(&rl);
	result(allowed == XB_RATELIMIT_BURST &&
		       suppressed == 1000 - XB_RATELIMIT_BURST,
	       "ratelimit_burst_then_report", "allowed %u suppressed %u",
	       allowed, suppressed);
}

/* ---- loop ------------------------------------------------------------------ */

struct loop_ctx {
	struct xb_loop *loop;
	int fds[2];
	int calls[2];
};

static void cb_deleting_other(void *arg, uint32_t events)
{
	struct loop_ctx *c = arg;
	uint64_t v;

	(void)events;
	/* Whichever runs first removes both: the other must not run. */
	for (int i = 0; i < 2; i++) {
		if (read(c->fds[i], &v, sizeof(v)) == sizeof(v))
			c->calls[i]++;
		xb_loop_del(c->loop, c->fds[i]);
	}
}

static void test_loop_delete_in_callback(void)
{
	struct xb_loop loop;
	struct loop_ctx c = { .loop = &loop };
	uint64_t one = 1;
	int n;

	xb_loop_init(&loop);
	for (int i = 0; i < 2; i++) {
		c.fds[i] = eventfd(0, EFD_NONBLOCK);
		xb_loop_add(&loop, c.fds[i], EPOLLIN, cb_deleting_other, &c);
		if (write(c.fds[i], &one, sizeof(one)) < 0)
			return;
	}
	n = xb_loop_dispatch(&loop, 1000);
	result(n == 2 && c.calls[0] == 1 && c.calls[1] == 1 &&
		       loop.count == 0 &&
		       xb_loop_add(&loop, c.fds[0], EPOLLIN, cb_deleting_other,
				   &c) == 0 &&
		       xb_loop_add(&loop, c.fds[0], EPOLLIN, cb_deleting_other,
				   &c) == -EEXIST,
	       "loop_delete_inside_callback", "n %d calls %d %d count %u", n,
	       c.calls[0], c.calls[1], loop.count);
	xb_loop_fini(&loop);
	close(c.fds[0]);
	close(c.fds[1]);
}

/* ---- worker ---------------------------------------------------------------- */

/*
 * A fake queue: "requests" arrive on req_fd; each is completed only when
 * done_fd is written, as an AIO completion would. Stopping must wait for
 * every in-flight request to complete.
 */
struct fake_queue {
	struct xb_worker *w;
	int req_fd, done_fd;
	unsigned int in_flight, completed, accepted, refused;
	bool drain_called;
};

static void on_req(void *arg, uint32_t events)
{
	struct fake_queue *q = arg;
	uint64_t n;

	(void)events;
	if (read(q->req_fd, &n, sizeof(n)) != sizeof(n))
		return;
	if (xb_worker_stopping(q->w)) {
		q->refused += n;
		return;
	}
	q->accepted += n;
	q->in_flight += n;
}

static void on_done(void *arg, uint32_t events)
{
	struct fake_queue *q = arg;
	uint64_t n;

	(void)events;
	if (read(q->done_fd, &n, sizeof(n)) != sizeof(n))
		return;
	if (n > q->in_flight)
		n = q->in_flight;
	q->in_flight -= n;
	q->completed += n;
}

static unsigned int fake_drain(void *arg)
{
	struct fake_queue *q = arg;

	q->drain_called = true;
	return q->in_flight;
}

static void *complete_later(void *arg)
{
	struct fake_queue *q = arg;
	uint64_t one = 1;

	for (int i = 0; i < 3; i++) {
		usleep(50000);
		if (write(q->done_fd, &one, sizeof(one)) < 0)
			break;
	}
	return NULL;
}

static struct xb_device fake_dev = { .name = "test/0/0" };

static void test_worker_drain(void)
{
	struct fake_queue q = { 0 };
	uint64_t three = 3;
	pthread_t t;
	bool ok;

	q.req_fd = eventfd(0, EFD_NONBLOCK);
	q.done_fd = eventfd(0, EFD_NONBLOCK | EFD_SEMAPHORE);
	q.w = xb_worker_new(&fake_dev, "test-q0", fake_drain, &q);
	ok = q.w && xb_worker_add_fd(q.w, q.req_fd, EPOLLIN, on_req, &q) == 0 &&
	     xb_worker_add_fd(q.w, q.done_fd, EPOLLIN, on_done, &q) == 0 &&
	     xb_worker_start(q.w) == 0;
	if (!ok) {
		result(false, "worker_drain_waits_for_in_flight", "setup");
		return;
	}
	if (write(q.req_fd, &three, sizeof(three)) < 0)
		return;
	while (__atomic_load_n(&q.accepted, __ATOMIC_SEQ_CST) < 3)
		usleep(1000);
	pthread_create(&t, NULL, complete_later, &q);
	xb_worker_stop(q.w); /* returns only once all three completed */
	ok = q.drain_called && q.in_flight == 0 && q.completed == 3;
	pthread_join(t, NULL);
	xb_worker_stop(q.w); /* idempotent */
	xb_worker_free(q.w);
	close(q.req_fd);
	close(q.done_fd);
	result(ok, "worker_drain_waits_for_in_flight",
	       "drain %d in flight %u completed %u", q.drain_called,
	       q.in_flight, q.completed);
}

static void test_worker_never_started(void)
{
	struct xb_worker *w = xb_worker_new(&fake_dev, "idle", NULL, NULL);

	xb_worker_stop(w);
	xb_worker_free(w);
	xb_worker_free(NULL);
	result(w != NULL, "worker_free_without_start", "new failed");
}

static void test_worker_fd_limit(void)
{
	struct xb_worker *w = xb_worker_new(&fake_dev, "full", NULL, NULL);
	int fds[XB_WORKER_MAX_FDS + 1], rc = 0, i;

	for (i = 0; i <= XB_WORKER_MAX_FDS; i++) {
		fds[i] = eventfd(0, 0);
		rc = xb_worker_add_fd(w, fds[i], EPOLLIN, on_req, NULL);
		if (rc)
			break;
	}
	result(i == XB_WORKER_MAX_FDS && rc == -ENOSPC, "worker_fd_bound",
	       "added %d rc %d", i, rc);
	xb_worker_free(w);
	for (int j = 0; j <= i && j <= XB_WORKER_MAX_FDS; j++)
		close(fds[j]);
}

/*
 * xb_worker_set_init(): the hook runs on the worker thread before any fd
 * is served (a request already waiting is taken only after it); one that
 * fails leaves the ring unserved, and the worker still stops.
 */
struct init_probe {
	struct fake_queue q;
	pthread_t main_thread;
	bool on_worker, done, seen_before_req;
	int rc;
};

static int slow_init(void *arg)
{
	struct init_probe *p = arg;

	p->on_worker = !pthread_equal(pthread_self(), p->main_thread);
	usleep(50000);
	__atomic_store_n(&p->done, true, __ATOMIC_SEQ_CST);
	return p->rc;
}

static void on_req_after_init(void *arg, uint32_t events)
{
	struct init_probe *p = arg;

	p->seen_before_req = __atomic_load_n(&p->done, __ATOMIC_SEQ_CST);
	on_req(&p->q, events);
	p->q.in_flight = 0;	/* done at once: nothing to drain */
}

static bool run_init_probe(struct init_probe *p, int rc)
{
	uint64_t one = 1;

	memset(p, 0, sizeof(*p));
	p->rc = rc;
	p->main_thread = pthread_self();
	p->q.req_fd = eventfd(0, EFD_NONBLOCK);
	p->q.w = xb_worker_new(&fake_dev, "test-init", fake_drain, &p->q);
	if (!p->q.w ||
	    xb_worker_add_fd(p->q.w, p->q.req_fd, EPOLLIN, on_req_after_init,
			     p) < 0 ||
	    write(p->q.req_fd, &one, sizeof(one)) < 0)
		return false;
	xb_worker_set_init(p->q.w, slow_init, p);
	return xb_worker_start(p->q.w) == 0;
}

static void test_worker_init(void)
{
	struct init_probe p;
	bool ok;
	int i;

	ok = run_init_probe(&p, 0);
	for (i = 0; ok && i < 2000 &&
		    !__atomic_load_n(&p.q.accepted, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	xb_worker_free(p.q.w);
	close(p.q.req_fd);
	result(ok && p.on_worker && p.q.accepted == 1 && p.seen_before_req,
	       "worker_init_before_serving",
	       "on worker %d, accepted %u, init done first %d", p.on_worker,
	       p.q.accepted, p.seen_before_req);

	ok = run_init_probe(&p, -ENOMEM);
	for (i = 0; ok && i < 2000 &&
		    !__atomic_load_n(&p.done, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	usleep(50000);
	xb_worker_free(p.q.w);	/* stops: the hook failed, nothing served */
	close(p.q.req_fd);
	result(ok && p.done && p.q.accepted == 0 && p.q.drain_called,
	       "worker_init_failed_serves_nothing_and_stops",
	       "init done %d, accepted %u, drained %d", p.done, p.q.accepted,
	       p.q.drain_called);
}

/*
 * Two queues of one device, one request in flight each: once both are
 * asked to stop, both drain at once (a device's close waits for its
 * slowest queue, not for the sum of them).
 */
static void test_worker_stop_together(void)
{
	struct fake_queue q[2] = { 0 };
	uint64_t one = 1;
	bool ok = true, both = false;
	int i, tries;

	for (i = 0; i < 2 && ok; i++) {
		q[i].req_fd = eventfd(0, EFD_NONBLOCK);
		q[i].done_fd = eventfd(0, EFD_NONBLOCK | EFD_SEMAPHORE);
		q[i].w = xb_worker_new(&fake_dev, "test-qs", fake_drain, &q[i]);
		ok = q[i].w &&
		     xb_worker_add_fd(q[i].w, q[i].req_fd, EPOLLIN, on_req,
				      &q[i]) == 0 &&
		     xb_worker_add_fd(q[i].w, q[i].done_fd, EPOLLIN, on_done,
				      &q[i]) == 0 &&
		     xb_worker_start(q[i].w) == 0 &&
		     write(q[i].req_fd, &one, sizeof(one)) == sizeof(one);
	}
	for (i = 0; i < 2 && ok; i++)
		while (__atomic_load_n(&q[i].accepted, __ATOMIC_SEQ_CST) < 1)
			usleep(1000);
	for (i = 0; i < 2 && ok; i++)
		xb_worker_stop_begin(q[i].w);
	/* Nothing completed yet: both must be draining now. */
	for (tries = 0; ok && tries < 2000 && !both; tries++) {
		both = __atomic_load_n(&q[0].drain_called, __ATOMIC_SEQ_CST) &&
		       __atomic_load_n(&q[1].drain_called, __ATOMIC_SEQ_CST);
		usleep(1000);
	}
	for (i = 0; i < 2; i++) {
		if (q[i].w && write(q[i].done_fd, &one, sizeof(one)) < 0)
			ok = false;
		xb_worker_free(q[i].w);
		close(q[i].req_fd);
		close(q[i].done_fd);
	}
	result(ok && both && q[0].completed == 1 && q[1].completed == 1,
	       "worker_stop_begin_drains_queues_together",
	       "setup %d both draining %d completed %u %u", ok, both,
	       q[0].completed, q[1].completed);
}

/*
 * A worker told to stop with a request in flight has not ended (the main
 * thread must not unmap yet, and need not wait: xb_worker_ended() never
 * blocks); once the request completes it has, and freeing it is then
 * immediate.
 */
static void test_worker_ended(void)
{
	struct fake_queue q = { 0 };
	uint64_t one = 1;
	bool ok, early = true, late = false;
	int tries;

	q.req_fd = eventfd(0, EFD_NONBLOCK);
	q.done_fd = eventfd(0, EFD_NONBLOCK | EFD_SEMAPHORE);
	q.w = xb_worker_new(&fake_dev, "test-end", fake_drain, &q);
	ok = q.w && xb_worker_ended(q.w) && /* never started */
	     xb_worker_add_fd(q.w, q.req_fd, EPOLLIN, on_req, &q) == 0 &&
	     xb_worker_add_fd(q.w, q.done_fd, EPOLLIN, on_done, &q) == 0 &&
	     xb_worker_start(q.w) == 0 && !xb_worker_ended(q.w) &&
	     write(q.req_fd, &one, sizeof(one)) == sizeof(one);
	for (tries = 0; ok && tries < 2000 &&
			__atomic_load_n(&q.accepted, __ATOMIC_SEQ_CST) < 1;
	     tries++)
		usleep(1000);
	if (ok) {
		xb_worker_stop_begin(q.w);
		usleep(50000); /* draining, its request still in flight */
		early = xb_worker_ended(q.w);
		ok = write(q.done_fd, &one, sizeof(one)) == sizeof(one);
		for (tries = 0; ok && tries < 2000 && !late; tries++) {
			late = xb_worker_ended(q.w);
			usleep(1000);
		}
	}
	xb_worker_free(q.w);
	close(q.req_fd);
	close(q.done_fd);
	result(ok && !early && late && q.completed == 1,
	       "worker_ended_only_once_drained",
	       "setup %d ended while in flight %d, after %d, completed %u",
	       ok, early, late, q.completed);
}

/* ---- deferred teardown ------------------------------------------------ */

static pthread_t defer_main_thread;
static unsigned int defer_ran, defer_on_main;

static void count_deferred(void *arg)
{
	(void)arg;
	usleep(1000);
	if (pthread_equal(pthread_self(), defer_main_thread))
		__atomic_add_fetch(&defer_on_main, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&defer_ran, 1, __ATOMIC_SEQ_CST);
}

/* Every deferred call runs, off the calling thread; flush waits for all. */
static void test_defer(void)
{
	defer_main_thread = pthread_self();
	for (int i = 0; i < 64; i++)
		xb_defer(count_deferred, NULL);
	xb_defer_flush();
	result(__atomic_load_n(&defer_ran, __ATOMIC_SEQ_CST) == 64 &&
		       defer_on_main == 0,
	       "defer_runs_every_call_off_the_main_thread",
	       "ran %u, on the caller's thread %u", defer_ran, defer_on_main);
}

/* ---- resource counters ------------------------------------------------ */

static void test_resources(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int fd;
	bool ok;

	xb_res_add(7, XB_RES_RING_PAGES, 4);
	xb_res_add(7, XB_RES_CHANNELS, 1);
	xb_res_add(9, XB_RES_GRANTS, 3);
	fd = xb_res_open(9, "/dev/null", O_RDONLY);
	ok = fd >= 0 && xb_res_get(9, XB_RES_FDS) == 1 &&
	     xb_res_get(XB_RES_TOTAL, XB_RES_RING_PAGES) == 4 &&
	     xb_res_get(XB_RES_TOTAL, XB_RES_GRANTS) == 3;
	f = open_memstream(&out, &len);
	xb_res_report(f, true);
	fclose(f);
	ok = ok && strstr(out, "{\"domain\": 7, \"ring_pages\": 4, \"grants\": 0, "
				"\"channels\": 1, \"fds\": 0}") &&
	     strstr(out, "{\"domain\": 9, \"ring_pages\": 0, \"grants\": 3, "
			 "\"channels\": 0, \"fds\": 1}");
	result(ok, "resources_counted_per_domain", "%s", out ? out : "");
	free(out);
	/* Given back: the domains drop out of the report. */
	xb_res_close(9, &fd);
	xb_res_add(7, XB_RES_RING_PAGES, -4);
	xb_res_add(7, XB_RES_CHANNELS, -1);
	xb_res_add(9, XB_RES_GRANTS, -3);
	out = NULL;
	f = open_memstream(&out, &len);
	xb_res_report(f, true);
	fclose(f);
	result(fd == -1 && !strcmp(out, "{\"total\": {\"ring_pages\": 0, "
					"\"grants\": 0, \"channels\": 0, "
					"\"fds\": 0}, \"domains\": []}\n"),
	       "resources_back_to_zero", "%s", out);
	free(out);
	xb_res_close(9, &fd); /* a closed fd again: no-op */
	result(xb_res_get(9, XB_RES_FDS) == 0, "resources_close_idempotent",
	       "fds %ld", xb_res_get(9, XB_RES_FDS));
}

/* ---- request journals ---------------------------------------------------- */

static const struct xb_kind journal_kind = { .type = "tst" };

/*
 * A predecessor took requests 0..3, answered 1 (published) and 0 (not
 * published), and died; its successor, seeing rsp_prod 1, serves 0 and 2
 * and 3 again, in that order, and takes from the ring at 4.
 */
static void test_journal_replay(void)
{
	struct xb_device dev = { .kind = &journal_kind, .domid = 3,
				 .devid = 7 };
	char dir[] = "/tmp/xb-core-jXXXXXX", req[16];
	uint32_t cons = 99, e[4], out[16];
	struct xb_journal *a, *b;
	unsigned int n;
	bool found = true, ok;

	if (!mkdtemp(dir)) {
		result(false, "journal_replay_after_crash", "mkdtemp");
		return;
	}
	xb_journal_set_dir(dir);
	a = xb_journal_open(&dev, "q0", 8, sizeof(req), 0, &cons, &found);
	ok = a && !found && cons == 0;
	for (int i = 0; a && i < 4; i++) {
		snprintf(req, sizeof(req), "request %d", i);
		e[i] = xb_journal_take(a, (uint32_t)i, req);
	}
	if (a) {
		xb_journal_answered(a, e[1], 0);
		xb_journal_published(a, 1);
		xb_journal_answered(a, e[0], 1);
	}
	/* The crash: a is never closed; its file stays. */
	dev.resume = true;
	b = xb_journal_open(&dev, "q0", 8, sizeof(req), 1, &cons, &found);
	n = b ? xb_journal_replay(b, out) : 0;
	ok = ok && b && found && cons == 4 && n == 3 &&
	     !strcmp(xb_journal_req(b, out[0]), "request 0") &&
	     !strcmp(xb_journal_req(b, out[1]), "request 2") &&
	     !strcmp(xb_journal_req(b, out[2]), "request 3");
	result(ok, "journal_replay_after_crash",
	       "found %d cons %u replay %u", found, cons, n);
	/* Served again and published: a clean journal, removed at close. */
	for (unsigned int i = 0; b && i < n; i++)
		xb_journal_answered(b, out[i], 1 + i);
	if (b) {
		xb_journal_published(b, 4);
		n = xb_journal_replay(b, out);
		xb_journal_close(b);
	}
	b = xb_journal_open(&dev, "q0", 8, sizeof(req), 4, &cons, &found);
	result(b && n == 0 && !found && cons == 4,
	       "journal_removed_by_a_clean_stop", "left %u found %d", n,
	       found);
	xb_journal_close(b);
	/* a's mapping only: its file is gone. */
	rmdir(dir);
}

int main(void)
{
	xb_log_init(XB_LOG_STDERR);
	test_parse_uint();
	test_parse_state();
	test_parse_mac();
	test_parse_major_minor();
	test_frontend_paths();
	test_split_device_path();
	test_config();
	test_config_values();
	test_config_kind_settings();
	test_config_record();
	test_log_levels();
	test_ratelimit();
	test_loop_delete_in_callback();
	test_worker_drain();
	test_worker_never_started();
	test_worker_fd_limit();
	test_worker_init();
	test_worker_stop_together();
	test_worker_ended();
	test_defer();
	test_resources();
	test_journal_replay();
	return failures ? 1 : 0;
}
