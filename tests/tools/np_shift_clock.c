/* np_shift_clock.c - copies a recording's exchanges with every time moved
 * by SHIFT_NS, as if it had been made on a host that booted that much
 * earlier (CLOCK_MONOTONIC differs between hosts by their boot times).
 * For the joined report's integration test (tests/integration/
 * test_join.py), which must recover the shift from the exchanges.
 *
 * The copy holds what the join reads - the metadata, the exchange
 * configuration, the exchange events and the end - not the rest.
 *
 *   np_shift_clock IN.nprof OUT.nprof SHIFT_NS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/recording.h"
#include "profiler/format/timeline.h"

/* Zero is unknown, and stays so.  A macro: the event's fields are __u64,
 * the record's uint64_t. */
#define shift(t, by) \
	do { \
		if (*(t)) \
			*(t) += (uint64_t)(by); \
	} while (0)

static void shift_event(struct np_xch_event *e, int64_t by)
{
	shift(&e->start_ns, by);
	shift(&e->arrival_ns, by);
	shift(&e->read_start_ns, by);
	shift(&e->read_end_ns, by);
	shift(&e->write_start_ns, by);
	shift(&e->write_end_ns, by);
	shift(&e->wire_ns, by);
}

int main(int argc, char **argv)
{
	struct np_recording *rec;
	struct np_writer *w = NULL;
	struct np_xch_event *ev;
	struct np_rec_xch_config cfg;
	struct np_rec_end end = {0};
	const void *p;
	size_t n, n_cfg;
	char err[512];
	int64_t by;
	int rc;

	if (argc != 4) {
		fputs("usage: np_shift_clock IN.nprof OUT.nprof SHIFT_NS\n", stderr);
		return 2;
	}
	by = strtoll(argv[3], NULL, 10);
	if (np_recording_read(argv[1], &rec, err, sizeof(err))) {
		fprintf(stderr, "np_shift_clock: %s: %s\n", argv[1], err);
		return 1;
	}
	p = np_recording_records(rec, NP_BLK_XCH_EVENTS, &n);
	ev = calloc(n ? n : 1, sizeof(*ev));
	if (!ev)
		return 1;
	memcpy(ev, p, n * sizeof(*ev));
	for (size_t i = 0; i < n; i++)
		shift_event(&ev[i], by);
	rc = np_writer_open(argv[2], &w);
	for (size_t i = 0; i < rec->n_meta && !rc; i++)
		rc = np_writer_meta(w, rec->meta[i].key, rec->meta[i].value);
	if (!rc)
		rc = np_writer_meta_flush(w);
	p = np_recording_records(rec, NP_BLK_XCH_CONFIG, &n_cfg);
	if (!rc && n_cfg) {
		memcpy(&cfg, p, sizeof(cfg));
		shift(&cfg.ts_ns, by);
		rc = np_writer_block(w, NP_BLK_XCH_CONFIG, sizeof(cfg), &cfg, 1);
	}
	if (!rc && n)
		rc = np_writer_block(w, NP_BLK_XCH_EVENTS, sizeof(*ev), ev, (uint32_t)n);
	if (rec->have_end)
		end = rec->end;
	shift(&end.ts_ns, by);
	if (!rc)
		rc = np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1);
	if (!rc)
		rc = np_writer_commit(w);
	np_writer_free(w);
	free(ev);
	np_recording_free(rec);
	if (rc)
		fprintf(stderr, "np_shift_clock: cannot write %s\n", argv[2]);
	return rc ? 1 : 0;
}
