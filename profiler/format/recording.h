/* recording.h - writing and reading .nprof recordings (format: timeline.h).
 *
 * The writer streams blocks to "<path>.partial" and renames it to <path>
 * when the recording is complete, so a finished recording never appears
 * half-written, and a profiler killed mid-way leaves a .partial file that is
 * readable up to its last complete block.
 *
 * The reader treats the file as untrusted: every length is checked before
 * use, and damage is reported in one line in `err`.
 */
#ifndef NP_RECORDING_H
#define NP_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/format/kvtext.h"
#include "profiler/format/timeline.h"

struct np_writer;

/* Creates "<path>.partial" (mode 0600, never through a symlink). */
int np_writer_open(const char *path, struct np_writer **out);
int np_writer_block(struct np_writer *w, uint16_t type, uint32_t record_bytes, const void *records,
		    uint32_t count);
/* Records a source's status; the reader keeps the latest per name. */
__attribute__((format(printf, 4, 5))) int np_writer_source(struct np_writer *w, const char *name,
							   enum np_source_status status,
							   const char *fmt, ...);
/* Adds one "key=value" line to the pending META block. */
int np_writer_meta(struct np_writer *w, const char *key, const char *value);
int np_writer_meta_u64(struct np_writer *w, const char *key, uint64_t value);
/* Writes the pending META block; call once, before any other block. */
int np_writer_meta_flush(struct np_writer *w);
/* Flushes, fsyncs and renames into place. */
int np_writer_commit(struct np_writer *w);
const char *np_writer_partial_path(const struct np_writer *w);
/* Closes; without a commit the .partial file stays as it is. */
void np_writer_free(struct np_writer *w);

/* All records of one block type, in file order, each `record_bytes` long
 * (the size this version reads: newer, longer records are cut to it). */
struct np_rec_array {
	uint8_t *data;
	size_t n, cap;
	uint32_t record_bytes;
};

struct np_recording {
	uint32_t version;
	struct np_meta_kv *meta;
	size_t n_meta;
	struct np_rec_source *sources;
	size_t n_sources;
	struct np_sys_event *events;
	size_t n_events;
	/* latest totals, since the window opened (NP_BLK_SYS_BASELINE) */
	struct np_rec_sys_stats sys_stats[NP_SYS_COUNT];
	bool have_sys_stats;
	struct np_rec_thread *threads; /* latest snapshot per tid, by tid */
	size_t n_threads;
	struct np_rec_drops drops;
	struct np_rec_end end;
	bool have_end;
	/* The file stopped mid-block or before its END block: the writer was
	 * killed or the disk filled.  Everything before `complete_bytes` is
	 * intact and loaded. */
	bool truncated;
	uint64_t complete_bytes;
	/* Records of the types that have no field of their own above, and
	 * every snapshot of NP_BLK_THREADS and NP_BLK_SYS_STATS in file order
	 * (the fields above hold only the latest of each). */
	struct np_rec_array blocks[NP_BLK_TYPE_MAX];
};

/* Returns 0, or a negative errno with a one-line reason in err. */
int np_recording_read(const char *path, struct np_recording **out, char *err, size_t errlen);
int np_recording_parse(const uint8_t *data, size_t len, struct np_recording **out, char *err,
		       size_t errlen);
void np_recording_free(struct np_recording *rec);
/* The records of a generic block type (see record_types[] in recording.c),
 * in file order; NULL and *n = 0 when there are none. */
const void *np_recording_records(const struct np_recording *rec, uint16_t type, size_t *n);
const char *np_recording_meta(const struct np_recording *rec, const char *key);
uint64_t np_recording_meta_u64(const struct np_recording *rec, const char *key, uint64_t dflt);

#endif /* NP_RECORDING_H */
