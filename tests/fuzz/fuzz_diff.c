/* fuzz_diff.c - libFuzzer target: netprof diff BEFORE AFTER on two
 * recordings from anywhere (report/diff/diff.c).  The diff reads every
 * recorded figure of both (windows, exchange events and their labels,
 * threads and their processes, drops by place, configuration) and runs
 * rank tests and bootstraps over them, so any bytes the reader accepts
 * must give a diff, in bounded time.  The input is two recordings, the
 * first's length in its first four bytes (little-endian), compared both
 * ways.  Block CRCs are fixed up first (tests/fuzz/fixcrc.h); the JSON
 * must always parse strictly as UTF-8. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profiler/format/recording.h"
#include "report/diff/diff.h"
#include "report/render/render.h"
#include "report/report.h"
#include "tests/fuzz/fixcrc.h"

static void diff_and_render(const struct np_report *a, const struct np_report *b)
{
	struct np_diff d;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (np_diff_compute(a, b, &d))
		return;
	f = open_memstream(&out, &len);
	if (f) {
		json_tokener *tok = json_tokener_new();
		json_object *o;

		np_diff_json(&d, f);
		fclose(f);
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
		o = json_tokener_parse_ex(tok, out, (int)len);
		if (!o)
			abort(); /* the diff is not JSON */
		json_object_put(o);
		json_tokener_free(tok);
		free(out);
	}
	f = open_memstream(&out, &len);
	if (f) {
		np_diff_text(&d, f);
		fclose(f);
		free(out);
	}
	f = open_memstream(&out, &len);
	if (f) {
		np_diff_html(&d, a, b, f);
		fclose(f);
		free(out);
	}
	np_diff_fini(&d);
}

static void compare(struct np_recording *a, struct np_recording *b)
{
	struct np_report ra, rb;

	if (np_report_build(a, &ra, NP_REPORT_MAX_SLOW))
		return;
	if (np_report_build(b, &rb, NP_REPORT_MAX_SLOW)) {
		np_report_fini(&ra);
		return;
	}
	diff_and_render(&ra, &rb);
	diff_and_render(&rb, &ra);
	np_report_fini(&ra);
	np_report_fini(&rb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_recording *a = NULL, *b = NULL;
	uint8_t *copy;
	uint32_t n_a;
	char err[256];

	if (size < 4)
		return 0;
	memcpy(&n_a, data, 4);
	data += 4;
	size -= 4;
	if (n_a > size)
		return 0;
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	np_fuzz_fix_crcs(copy, n_a);
	np_fuzz_fix_crcs(copy + n_a, size - n_a);
	if (np_recording_parse(copy, n_a, &a, err, sizeof(err)) == 0 &&
	    np_recording_parse(copy + n_a, size - n_a, &b, err, sizeof(err)) == 0)
		compare(a, b);
	if (a)
		np_recording_free(a);
	if (b)
		np_recording_free(b);
	free(copy);
	return 0;
}
