/*
 * describe.c - what xenbackctl shows of a device: the kind's describe()
 * output collected in a struct xb_desc, rendered as a table row or a JSON
 * object.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/internal.h"

#define DESC_MAX_ITEMS 64
#define DESC_STR_MAX 128

struct desc_item {
	char key[32];
	char value[DESC_STR_MAX];
};

struct xb_desc {
	char backing[DESC_STR_MAX];
	char features[DESC_MAX_ITEMS][32];
	unsigned int nr_features;
	struct desc_item info[DESC_MAX_ITEMS];
	unsigned int nr_info;
	struct {
		char name[32];
		uint64_t value;
	} counters[DESC_MAX_ITEMS];
	unsigned int nr_counters;
};

struct xb_desc *xb_desc_new(void)
{
	return calloc(1, sizeof(struct xb_desc));
}

void xb_desc_free(struct xb_desc *d)
{
	free(d);
}

void xb_desc_backing(struct xb_desc *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->backing, sizeof(d->backing), fmt, ap);
	va_end(ap);
}

void xb_desc_feature(struct xb_desc *d, const char *name)
{
	if (d->nr_features < DESC_MAX_ITEMS)
		snprintf(d->features[d->nr_features++], 32, "%s", name);
}

void xb_desc_info(struct xb_desc *d, const char *key, const char *fmt, ...)
{
	struct desc_item *it;
	va_list ap;

	if (d->nr_info == DESC_MAX_ITEMS)
		return;
	it = &d->info[d->nr_info++];
	snprintf(it->key, sizeof(it->key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(it->value, sizeof(it->value), fmt, ap);
	va_end(ap);
}

void xb_desc_counter(struct xb_desc *d, const char *name, uint64_t value)
{
	if (d->nr_counters == DESC_MAX_ITEMS)
		return;
	snprintf(d->counters[d->nr_counters].name, 32, "%s", name);
	d->counters[d->nr_counters++].value = value;
}

/* ---- rendering ---------------------------------------------------------- */

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void xb_desc_table_header(FILE *out)
{
	fprintf(out, "%-6s %-4s %-8s %-12s %-24s %-24s %s\n", "DOMAIN", "KIND",
		"DEVID", "STATE", "BACKING", "FEATURES", "STATS");
}

static void render_table(struct xb_dev_impl *di, struct xb_desc *d,
			 FILE *out)
{
	const struct xb_device *dev = &di->d;
	char state[32];

	snprintf(state, sizeof(state), "%s%s", xbs_state_name(dev->state),
		 di->failed ? "!" : "");
	fprintf(out, "%-6u %-4s %-8u %-12s %-24s ", dev->domid,
		dev->kind->type, dev->devid, state,
		d->backing[0] ? d->backing : "-");
	if (!d->nr_features)
		fprintf(out, "%-24s", "-");
	else {
		int len = 0;

		for (unsigned int i = 0; i < d->nr_features; i++)
			len += fprintf(out, "%s%s", i ? "," : "",
				       d->features[i]);
		fprintf(out, "%*s", len < 24 ? 24 - len : 0, "");
	}
	fprintf(out, " rings=%u channels=%u ",
		__atomic_load_n(&di->ring_pages, __ATOMIC_RELAXED),
		__atomic_load_n(&di->channels, __ATOMIC_RELAXED));
	for (unsigned int i = 0; i < d->nr_info; i++)
		fprintf(out, "%s=%s ", d->info[i].key, d->info[i].value);
	for (unsigned int i = 0; i < d->nr_counters; i++)
		fprintf(out, "%s=%" PRIu64 " ", d->counters[i].name,
			d->counters[i].value);
	fputc('\n', out);
}

static void render_json(struct xb_dev_impl *di, struct xb_desc *d,
			FILE *out, bool first)
{
	const struct xb_device *dev = &di->d;

	fprintf(out, "%s\n {\"domain\": %u, \"kind\": ", first ? "" : ",",
		dev->domid);
	json_str(out, dev->kind->type);
	fprintf(out, ", \"devid\": %u, \"name\": ", dev->devid);
	json_str(out, dev->name);
	fprintf(out, ", \"state\": ");
	json_str(out, xbs_state_name(dev->state));
	fprintf(out, ", \"state_num\": %d, \"frontend_state\": ", dev->state);
	json_str(out, xbs_state_name(dev->frontend_state));
	fprintf(out, ", \"failed\": %s, \"backend_path\": ",
		di->failed ? "true" : "false");
	json_str(out, dev->backend_path);
	fprintf(out, ", \"frontend_path\": ");
	json_str(out, dev->frontend_path);
	fprintf(out, ", \"backing\": ");
	json_str(out, d->backing);
	fprintf(out, ", \"features\": [");
	for (unsigned int i = 0; i < d->nr_features; i++) {
		fputs(i ? ", " : "", out);
		json_str(out, d->features[i]);
	}
	fprintf(out, "], \"ring_pages_mapped\": %u, \"channels_bound\": %u",
		__atomic_load_n(&di->ring_pages, __ATOMIC_RELAXED),
		__atomic_load_n(&di->channels, __ATOMIC_RELAXED));
	fprintf(out, ", \"info\": {");
	for (unsigned int i = 0; i < d->nr_info; i++) {
		fputs(i ? ", " : "", out);
		json_str(out, d->info[i].key);
		fputs(": ", out);
		json_str(out, d->info[i].value);
	}
	fprintf(out, "}, \"stats\": {");
	for (unsigned int i = 0; i < d->nr_counters; i++) {
		fputs(i ? ", " : "", out);
		json_str(out, d->counters[i].name);
		fprintf(out, ": %" PRIu64, d->counters[i].value);
	}
	fprintf(out, "}}");
}

void xb_desc_render(struct xb_dev_impl *di, struct xb_desc *d, FILE *out,
		    bool json, bool first)
{
	if (json)
		render_json(di, d, out, first);
	else
		render_table(di, d, out);
}
