/* diff_json.c - netprof diff as JSON (format_version 1, kind "diff";
 * contract: docs/diff.schema.json).  Strings from the recordings go
 * through np_jstr (valid UTF-8). */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/diff/diff.h"
#include "report/diff/stats.h"
#include "report/render/jsonout.h"
#include "report/render/render.h"

#define jstr np_jstr
#define ju64 np_ju64

static void add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static json_object *jnum(double v)
{
	char buf[32];

	if (!isfinite(v))
		return NULL;
	if (v == floor(v) && fabs(v) < 9e15)
		return json_object_new_int64((int64_t)v);
	snprintf(buf, sizeof(buf), "%.6g", v);
	return json_object_new_double_s(v, buf);
}

static json_object *side_json(const struct np_diff_side *s)
{
	json_object *o = json_object_new_object();

	add(o, "comm", jstr(s->comm));
	add(o, "exe", jstr(s->exe));
	add(o, "pid", ju64(s->pid));
	add(o, "hostname", jstr(s->hostname));
	add(o, "kernel", jstr(s->kernel));
	add(o, "start_time", s->start_time[0] ? jstr(s->start_time) : NULL);
	add(o, "duration_ns", ju64(s->duration_ns));
	add(o, "recording_version", ju64(s->version));
	add(o, "requests", ju64(s->requests));
	add(o, "requests_per_s", jnum(s->requests_per_s));
	add(o, "threshold_ns", ju64(s->threshold_ns));
	add(o, "sample_every", ju64(s->sample_every));
	return o;
}

static json_object *verdict_json(const struct np_diff_side *s)
{
	json_object *o;

	if (!s->verdict)
		return NULL;
	o = json_object_new_object();
	add(o, "cause", jstr(s->verdict));
	add(o, "severity", jstr(s->verdict_severity));
	add(o, "score", jnum(s->verdict_score));
	return o;
}

static json_object *value_json(const struct np_diff_change *c, bool after)
{
	if (!(after ? c->have_after : c->have_before))
		return NULL;
	if (c->is_text)
		return jstr(after ? c->safter : c->sbefore);
	return jnum(after ? c->after : c->before);
}

static json_object *change_json(const struct np_diff *d, const struct np_diff_change *c)
{
	json_object *o = json_object_new_object(), *arr;

	add(o, "section", jstr(np_diff_section_name(c->section)));
	add(o, "metric", jstr(c->metric));
	add(o, "where", jstr(c->where));
	add(o, "before", value_json(c, false));
	add(o, "after", value_json(c, true));
	add(o, "unit", jstr(c->unit));
	add(o, "change", jstr(np_diff_status_name(c->status)));
	add(o, "significant", json_object_new_boolean(c->significant));
	add(o, "method", jstr(np_diff_method_name(c->method)));
	if (c->tested) {
		json_object *t = json_object_new_object();

		add(t, "p", jnum(c->p));
		add(t, "holm_limit", jnum(c->p_holm_limit));
		add(t, "large_enough", json_object_new_boolean(c->large_enough));
		add(t, "host_noise", json_object_new_boolean(c->host_noise));
		add(t, "n_before", ju64(c->n_before));
		add(t, "n_after", ju64(c->n_after));
		if (c->method == NP_DM_RANK)
			add(t, "design_effect", jnum(c->deff));
		if (c->method == NP_DM_BOOTSTRAP) {
			add(t, "interval_low", jnum(c->lo));
			add(t, "interval_high", jnum(c->hi));
		}
		add(o, "test", t);
	} else {
		add(o, "test", NULL);
	}
	arr = json_object_new_array();
	for (size_t k = 0; k < c->n_paired; k++)
		json_object_array_add(arr, jstr(d->c[c->paired[k]].metric));
	add(o, "paired_with", arr);
	if (c->section == NP_DS_FINDING) {
		add(o, "unbacked", json_object_new_boolean(c->unbacked));
		add(o, "severity_before", c->have_before ? jstr(c->sbefore) : NULL);
		add(o, "severity_after", c->have_after ? jstr(c->safter) : NULL);
	}
	return o;
}

static json_object *diff_object(const struct np_diff *d)
{
	json_object *root = json_object_new_object(), *arr, *m;

	add(root, "format_version", json_object_new_int(1));
	add(root, "kind", jstr("diff"));
	add(root, "netprof_version", jstr(NETPROF_VERSION));
	add(root, "before", side_json(&d->before));
	add(root, "after", side_json(&d->after));
	add(root, "different_target", json_object_new_boolean(d->different_target));
	add(root, "different_host", json_object_new_boolean(d->different_host));
	arr = json_object_new_array();
	for (size_t i = 0; i < d->n_notes; i++)
		json_object_array_add(arr, jstr(d->notes[i]));
	add(root, "notes", arr);
	if (d->host.known || d->host.load_known) {
		m = json_object_new_object();
		add(m, "ratio", d->host.known ? jnum(d->host.ratio) : NULL);
		add(m, "before_ns_per_run", d->host.known ? jnum(d->host.before_ns) : NULL);
		add(m, "after_ns_per_run", d->host.known ? jnum(d->host.after_ns) : NULL);
		add(m, "programs", ju64(d->host.programs));
		add(m, "rate_change", d->host.known ? jnum(d->host.rate_change) : NULL);
		add(m, "comparable", json_object_new_boolean(d->host.comparable));
		add(m, "noisy", json_object_new_boolean(d->host.noisy));
		add(m, "noise_factor", jnum(NP_DIFF_HOST_NOISE));
		add(m, "other_load_before", d->host.load_known ? jnum(d->host.load_before) : NULL);
		add(m, "other_load_after", d->host.load_known ? jnum(d->host.load_after) : NULL);
		add(m, "load_noisy", json_object_new_boolean(d->host.load_noisy));
		add(m, "load_noise", jnum(NP_DIFF_HOST_LOAD_NOISE));
		add(root, "host_speed", m);
	} else {
		add(root, "host_speed", NULL);
	}
	add(root, "verdict_before", verdict_json(&d->before));
	add(root, "verdict_after", verdict_json(&d->after));
	add(root, "headline", jstr(d->headline));
	m = json_object_new_object();
	add(m, "text", jstr(np_diff_method_text));
	add(m, "alpha", jnum(NP_DIFF_ALPHA));
	add(m, "correction", jstr("holm"));
	add(m, "bootstrap_resamples", json_object_new_int(NP_BOOT_RESAMPLES));
	add(m, "min_relative_change", jnum(NP_DIFF_MIN_REL));
	add(m, "min_share_change", jnum(NP_DIFF_MIN_SHARE));
	add(m, "tests", ju64(d->n_tested));
	add(root, "method", m);
	add(root, "significant", ju64(d->n_significant));
	arr = json_object_new_array();
	for (size_t i = 0; i < d->n; i++)
		json_object_array_add(arr, change_json(d, &d->c[i]));
	add(root, "changes", arr);
	return root;
}

char *np_diff_json_string(const struct np_diff *d, bool pretty)
{
	return np_json_text(diff_object(d), pretty);
}

int np_diff_json(const struct np_diff *d, FILE *f)
{
	return np_json_write(np_diff_json_string(d, true), f);
}
