/* stager.h - a BPF ring buffer drained into the recording: the one
 * stager of the syscall, scheduler, exchange and kernel-stack sources.
 *
 * Records are copied from the ring buffer into a fixed-size staging array
 * and written as one block of type `block` when it fills or at the end of
 * each drain, so memory stays bounded whatever the event rate.
 *
 * The error contract: a record that cannot be written (the recording write
 * failed, or no writer was given) is counted in writer_drops, never
 * returned; a drain fails only when reading the ring buffer does.  The
 * owner reports writer_drops in its drop counters.
 *
 * Embedded in the owner's state, which must not move after init (the ring
 * buffer keeps its address): np_stager_fini clears it.
 */
#ifndef NP_STAGER_H
#define NP_STAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/format/recording.h"

struct ring_buffer;

struct np_stager {
	struct ring_buffer *rb; /* NULL when init was given no map (tests) */
	struct np_writer *w;    /* borrowed from the session, during a drain only */
	uint16_t block;         /* NP_BLK_* of the records */
	uint32_t rec_bytes;
	uint8_t *staging; /* cap records of rec_bytes */
	uint32_t staged, cap;
	uint64_t written;      /* records written to the recording */
	uint64_t writer_drops; /* records lost: a failed write, or no writer */
	/* Optional: sees every record as it is staged (the scheduler source
	 * learns of new threads this way). */
	void (*on_record)(void *arg, const void *rec);
	/* Optional: takes a record elsewhere instead (true: not staged here;
	 * the exchange source keeps reply parts apart from exchanges). */
	bool (*divert)(void *arg, const void *rec);
	void *arg;
};

/* Reads records of rec_bytes (shorter samples are skipped) from the ring
 * buffer map map_fd, staging up to cap of them.  map_fd < 0 sets up the
 * staging alone (np_stager_add feeds it).  Returns 0 or a negative errno;
 * np_stager_fini is safe either way. */
int np_stager_init(struct np_stager *st, int map_fd, uint16_t block, uint32_t rec_bytes,
		   uint32_t cap);
/* Readable when the ring buffer wants draining; -1 without one. */
int np_stager_fd(const struct np_stager *st);
/* Moves what the ring buffer holds into the recording; never blocks.
 * Returns 0, or the ring buffer's negative errno. */
int np_stager_drain(struct np_stager *st, struct np_writer *w);
/* Stages one record of len bytes (the ring buffer's callback); writes the
 * staging array out when it fills. */
void np_stager_add(struct np_stager *st, const void *data, size_t len);
/* Writes out what is staged (to st->w; counted as dropped without one). */
void np_stager_flush(struct np_stager *st);
void np_stager_fini(struct np_stager *st);

/* The size of a ring buffer map for about `bytes`: the next power of two
 * from a page up (what BPF_MAP_TYPE_RINGBUF takes), at most 1 GiB. */
uint32_t np_ringbuf_bytes(uint32_t bytes);

#endif /* NP_STAGER_H */
