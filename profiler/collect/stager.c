/* stager.c - a BPF ring buffer drained into the recording (see stager.h). */
#include "profiler/collect/stager.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void np_stager_flush(struct np_stager *st)
{
	if (!st->staged)
		return;
	if (st->w && !np_writer_block(st->w, st->block, st->rec_bytes, st->staging, st->staged))
		st->written += st->staged;
	else
		st->writer_drops += st->staged;
	st->staged = 0;
}

void np_stager_add(struct np_stager *st, const void *data, size_t len)
{
	uint8_t *rec;

	if (len < st->rec_bytes || (st->divert && st->divert(st->arg, data)))
		return;
	rec = st->staging + (size_t)st->staged++ * st->rec_bytes;
	memcpy(rec, data, st->rec_bytes);
	if (st->on_record)
		st->on_record(st->arg, rec);
	if (st->staged == st->cap)
		np_stager_flush(st);
}

static int on_sample(void *ctx, void *data, size_t len)
{
	np_stager_add(ctx, data, len);
	return 0;
}

int np_stager_init(struct np_stager *st, int map_fd, uint16_t block, uint32_t rec_bytes,
		   uint32_t cap)
{
	memset(st, 0, sizeof(*st));
	if (!rec_bytes || !cap)
		return -EINVAL;
	st->block = block;
	st->rec_bytes = rec_bytes;
	st->cap = cap;
	st->staging = calloc(cap, rec_bytes);
	if (!st->staging)
		return -ENOMEM;
	if (map_fd < 0)
		return 0;
	st->rb = ring_buffer__new(map_fd, on_sample, st, NULL);
	return st->rb ? 0 : -errno;
}

int np_stager_fd(const struct np_stager *st)
{
	return st->rb ? ring_buffer__epoll_fd(st->rb) : -1;
}

int np_stager_drain(struct np_stager *st, struct np_writer *w)
{
	int rc = 0;

	st->w = w;
	if (st->rb)
		rc = ring_buffer__consume(st->rb);
	np_stager_flush(st);
	st->w = NULL;
	return rc < 0 ? rc : 0;
}

void np_stager_fini(struct np_stager *st)
{
	ring_buffer__free(st->rb);
	free(st->staging);
	memset(st, 0, sizeof(*st));
}

uint32_t np_ringbuf_bytes(uint32_t bytes)
{
	uint32_t n = (uint32_t)sysconf(_SC_PAGESIZE);

	while (n < bytes && n < (1u << 30))
		n <<= 1;
	return n;
}
