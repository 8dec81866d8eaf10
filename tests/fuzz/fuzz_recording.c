/* fuzz_recording.c - libFuzzer target: np_recording_parse on arbitrary
 * bytes.  Whatever the input, the parser must return an error with a
 * one-line message, or a recording whose counts and strings are sane.
 *
 * Each input is parsed twice: as it is, and with every block's CRC fixed
 * up, because a mutated block almost never has a matching CRC and the
 * fuzzer would otherwise never get past the checksum into the record
 * handling. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profiler/format/recording.h"
#include "tests/fuzz/fixcrc.h"

static int check_one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	check_one(data, size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	np_fuzz_fix_crcs(copy, size);
	check_one(copy, size);
	free(copy);
	return 0;
}

static int check_one(const uint8_t *data, size_t size)
{
	struct np_recording *rec = NULL;
	char err[256] = "";
	int rc = np_recording_parse(data, size, &rec, err, sizeof(err));

	if (rc < 0) {
		if (rec || !err[0] || strchr(err, '\n'))
			abort(); /* errors come with exactly one line */
		return 0;
	}
	if (!rec || rec->complete_bytes > size)
		abort();
	/* touch everything the report will read */
	for (size_t i = 0; i < rec->n_meta; i++)
		if (strlen(rec->meta[i].key) > size || strlen(rec->meta[i].value) > size)
			abort();
	for (size_t i = 0; i < rec->n_sources; i++)
		if (strlen(rec->sources[i].name) >= sizeof(rec->sources[i].name) ||
		    strlen(rec->sources[i].detail) >= sizeof(rec->sources[i].detail))
			abort();
	for (size_t i = 0; i < rec->n_threads; i++) {
		if (strlen(rec->threads[i].comm) >= sizeof(rec->threads[i].comm))
			abort();
		if (i && rec->threads[i - 1].tid >= rec->threads[i].tid)
			abort(); /* one snapshot per tid, sorted */
	}
	for (size_t i = 0; i < rec->n_events; i++)
		(void)rec->events[i].dur_ns;
	np_recording_meta(rec, "start_ns");
	np_recording_meta_u64(rec, "start_ns", 0);
	np_recording_free(rec);
	return 0;
}
