/* fuzz_join.c - libFuzzer target: recordings from several hosts joined
 * (netprof report A B C, report/join/join.c).  The join reads every
 * exchange event's endpoints, times and labels from files made elsewhere,
 * so any bytes the reader accepts must give a report: times that run
 * backwards, a connection whose ends are in one recording, a label that is
 * not a request line.  The input is two recordings, the first's length in
 * its first four bytes (little-endian), joined as (A, B, A) so that one
 * recording also meets itself.  Block CRCs are fixed up first (see
 * fuzz_recording.c); the JSON must always parse strictly as UTF-8. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profiler/format/recording.h"
#include "report/report.h"
#include "tests/fuzz/fixcrc.h"

static void join_and_render(struct np_recording *a, struct np_recording *b)
{
	const struct np_recording *recs[3] = {a, b, a};
	const char *paths[3] = {"a", "b", "a"};
	struct np_join j;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (np_join_compute(recs, paths, 3, &j))
		return;
	f = open_memstream(&out, &len);
	if (f) {
		json_tokener *tok = json_tokener_new();
		json_object *o;

		np_join_json(&j, f);
		fclose(f);
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
		o = json_tokener_parse_ex(tok, out, (int)len);
		if (!o)
			abort(); /* the joined report is not JSON */
		json_object_put(o);
		json_tokener_free(tok);
		free(out);
	}
	f = open_memstream(&out, &len);
	if (f) {
		np_join_text(&j, f);
		fclose(f);
		free(out);
	}
	np_join_fini(&j);
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
		join_and_render(a, b);
	if (a)
		np_recording_free(a);
	if (b)
		np_recording_free(b);
	free(copy);
	return 0;
}
