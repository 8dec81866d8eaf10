/* fuzz_report.c - libFuzzer target: a recording from anywhere, all the way
 * to the reports.  `netprof report` runs on files from other hosts, so
 * everything the analysis and the renderers do with a loaded recording
 * (quantiles, endpoints, error names, sanitising) must hold for any bytes
 * the reader accepts.  Block CRCs are fixed up first (see fuzz_recording.c)
 * so that mutated records reach the report.  The JSON must always parse
 * (strict, valid UTF-8), whatever strings the recording holds; so must
 * the Perfetto trace and the OTLP export, the HTML page must hold exactly
 * its own two script elements, and the pprof export must gunzip and
 * unpack with protobuf-c's own decoder. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <zlib.h>

#include "profiler/format/recording.h"
#include "report/render/profile.pb-c.h"
#include "report/report.h"
#include "tests/fuzz/fixcrc.h"

/* The JSON in out[0..len) parses strictly as valid UTF-8. */
static bool json_ok(const char *out, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, out, (int)len);
	json_object_put(o);
	json_tokener_free(tok);
	return o != NULL;
}

/* The gzipped profile in gz[0..len) inflates and unpacks. */
static bool pprof_ok(const uint8_t *gz, size_t len)
{
	z_stream zs = {0};
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap);
	Perftools__Profiles__Profile *p;
	int zrc = Z_OK;

	if (!buf || inflateInit2(&zs, 15 + 16) != Z_OK) {
		free(buf);
		return true; /* no memory: nothing to judge */
	}
	zs.next_in = (Bytef *)gz;
	zs.avail_in = (uInt)len;
	while (zrc == Z_OK) {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		zs.next_out = buf + n;
		zs.avail_out = (uInt)(cap - n);
		zrc = inflate(&zs, Z_NO_FLUSH);
		n = cap - zs.avail_out;
	}
	inflateEnd(&zs);
	p = zrc == Z_STREAM_END ? perftools__profiles__profile__unpack(NULL, n, buf) : NULL;
	if (p)
		perftools__profiles__profile__free_unpacked(p, NULL);
	free(buf);
	return p != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct np_recording *rec = NULL;
	struct np_report r;
	char err[256];
	char *out = NULL;
	size_t out_len = 0;
	FILE *f;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	np_fuzz_fix_crcs(copy, size);
	if (np_recording_parse(copy, size, &rec, err, sizeof(err)) == 0) {
		if (np_report_build(rec, &r, NP_REPORT_MAX_SLOW) == 0) {
			f = open_memstream(&out, &out_len);
			if (f) {
				json_tokener *tok;
				json_object *o;

				np_report_json(&r, f);
				fclose(f);
				tok = json_tokener_new();
				json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
								    JSON_TOKENER_VALIDATE_UTF8);
				o = json_tokener_parse_ex(tok, out, (int)out_len);
				if (!o)
					abort(); /* the JSON report is not JSON */
				json_object_put(o);
				json_tokener_free(tok);
				free(out);
			}
			f = open_memstream(&out, &out_len);
			if (f) {
				np_report_text(&r, f, false);
				fclose(f);
				free(out);
			}
			f = open_memstream(&out, &out_len);
			if (f) {
				json_tokener *tok;
				json_object *o;

				np_report_perfetto(&r, f);
				fclose(f);
				tok = json_tokener_new();
				json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
								    JSON_TOKENER_VALIDATE_UTF8);
				o = json_tokener_parse_ex(tok, out, (int)out_len);
				if (!o)
					abort(); /* the trace is not JSON */
				json_object_put(o);
				json_tokener_free(tok);
				free(out);
			}
			f = open_memstream(&out, &out_len);
			if (f) {
				size_t scripts = 0;

				np_report_html(&r, f);
				fclose(f);
				for (char *p = strstr(out, "<script"); p;
				     p = strstr(p + 1, "<script"))
					scripts++;
				if (scripts != 2)
					abort(); /* a recorded string became markup */
				free(out);
			}
			f = open_memstream(&out, &out_len);
			if (f) {
				np_report_otlp(&r, f);
				fclose(f);
				if (!json_ok(out, out_len))
					abort(); /* the OTLP export is not JSON */
				free(out);
			}
			f = open_memstream(&out, &out_len);
			if (f) {
				int rc = np_report_pprof(&r, f);

				fclose(f);
				if (!rc && !pprof_ok((const uint8_t *)out, out_len))
					abort(); /* the profile does not decode */
				free(out);
			}
			np_report_fini(&r);
		}
		np_recording_free(rec);
	}
	free(copy);
	return 0;
}
