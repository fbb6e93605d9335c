/*
 * fuzz_parse.c - libFuzzer target for everything the daemon core parses
 * from outside: xenstore values (numbers, states, a vif's mac, a vbd's
 * physical-device), frontend paths, watch event paths, and the
 * configuration file. The first byte picks the parser; invariants are
 * checked on every accepted input.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/config.h"
#include "xenstore/xbs.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void fuzz_uint(const char *s)
{
	uint64_t v, max = strlen(s) & 1 ? 1000 : UINT64_MAX;
	char back[32];

	if (xbs_parse_uint(s, max, &v))
		return;
	/* Accepted means canonical digits whose value is within max. */
	check(v <= max);
	snprintf(back, sizeof(back), "%llu", (unsigned long long)v);
	check(strlen(s) >= strlen(back));
	check(strspn(s, "0123456789") == strlen(s));
}

static void fuzz_frontend_path(const char *s)
{
	if (!xbs_valid_frontend_path(s, 5))
		return;
	check(!strncmp(s, "/local/domain/5/", 16));
	check(!strstr(s, "//") && !strstr(s, "..") && !strstr(s, "/./"));
	check(s[strlen(s) - 1] != '/');
	check(strlen(s) <= XBS_FRONTEND_PATH_MAX);
}

static void fuzz_device_path(const char *s)
{
	unsigned int domid, devid;
	const char *node;

	if (xbs_split_device_path(s, &domid, &devid, &node))
		return;
	check(domid <= XBS_DOMID_MAX);
	check(node > s && node < s + strlen(s) + 1 && *node);
	check(node[-1] == '/');
}

/* Accepted means exactly the toolstack's form, read back unchanged. */
static void fuzz_mac(const char *s)
{
	uint8_t mac[6];
	char back[18];

	if (xbs_parse_mac(s, mac))
		return;
	snprintf(back, sizeof(back), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5]);
	check(strlen(s) == 17);
	for (unsigned int i = 0; i < 17; i++)
		check(tolower((unsigned char)s[i]) == back[i]);
}

/* The hex digits of s[0..n) without leading zeros, lower case, in out. */
static void strip_hex(const char *s, size_t n, char *out)
{
	while (n > 1 && *s == '0') {
		s++;
		n--;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
}

static void fuzz_major_minor(const char *s)
{
	unsigned int maj, min;
	char want[64], got[64], a[32], b[32];
	const char *colon = strchr(s, ':');
	int rc = xbs_parse_major_minor(s, &maj, &min);

	check(rc == 0 || rc == -EINVAL || rc == -ERANGE);
	if (rc == -EINVAL)
		return;
	/* Well formed: hex digits, one ':', a digit on either side. */
	check(colon && colon > s && colon[1]);
	check(strspn(s, "0123456789abcdefABCDEF") == (size_t)(colon - s));
	check(strspn(colon + 1, "0123456789abcdefABCDEF") == strlen(colon + 1));
	if (rc)
		return;
	check(maj >= 1 && maj <= 0xfff && min <= 0xfffff);
	if (colon - s >= 32 || strlen(colon + 1) >= 32)
		return;
	strip_hex(s, (size_t)(colon - s), a);
	strip_hex(colon + 1, strlen(colon + 1), b);
	snprintf(want, sizeof(want), "%s:%s", a, b);
	snprintf(got, sizeof(got), "%x:%x", maj, min);
	check(!strcmp(want, got));
}

static bool fuzz_setting_valid(const char *v)
{
	return !strcmp(v, "on") || !strcmp(v, "off");
}

/* A kind with a setting, so that kind keys are parsed too ("fz-opt"). */
static const struct xb_setting fuzz_settings[] = {
	{ .name = "opt", .def = "off", .expect = "on or off",
	  .valid = fuzz_setting_valid },
	{ .name = NULL },
};
static const struct xb_kind fuzz_kind = { .type = "fz",
					  .settings = fuzz_settings };
static const struct xb_kind *const fuzz_kinds[] = { &fuzz_kind, NULL };

static void fuzz_config(const char *data, size_t len)
{
	const struct xb_config_value *v;
	struct xb_config cfg;
	char err[XB_CONFIG_ERR_MAX];

	xb_config_defaults(&cfg);
	cfg.known = fuzz_kinds;
	if (xb_config_parse(&cfg, data, len, "fuzz.conf", err, sizeof(err))) {
		check(strlen(err) > 0 && !strchr(err, '\n'));
		return;
	}
	check(cfg.nr_kinds <= XB_CONFIG_MAX_KINDS);
	for (unsigned int i = 0; i < cfg.nr_kinds; i++)
		check(strlen(cfg.kinds[i]) > 0 &&
		      strlen(cfg.kinds[i]) < XB_KIND_NAME_MAX);
	check(cfg.control_socket[0] == '/');
	check(cfg.log_level >= LOG_ERR && cfg.log_level <= LOG_DEBUG);
	/* A kind setting holds only what its check accepts. */
	v = xb_config_value(&cfg, &fuzz_kind, "opt");
	check(!v || fuzz_setting_valid(v->value));
	check(cfg.nr_values <= 1 && cfg.nr_warnings <= XB_CONFIG_MAX_WARNINGS);
	for (unsigned int i = 0; i < cfg.nr_warnings; i++)
		check(!strchr(cfg.warnings[i], '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	if (data[0] % 6 == 3) {
		fuzz_config((const char *)data + 1, size - 1);
		return 0;
	}
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		fuzz_uint(s);
		break;
	case 1:
		fuzz_frontend_path(s);
		break;
	case 2:
		fuzz_device_path(s);
		break;
	case 4:
		fuzz_mac(s);
		break;
	case 5:
		fuzz_major_minor(s);
		break;
	}
	free(s);
	return 0;
}
