/* test_stager.c - collect/stager.c, the one ring-buffer-to-recording
 * stager, fed by hand (no BPF map): blocks of staged records, the error
 * contract (a record that cannot be written is counted, never returned),
 * and the per-record hook. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/collect/stager.h"
#include "profiler/format/recording.h"
#include "testutil.h"

struct rec {
	uint64_t ts_ns;
	uint32_t tid;
	uint32_t pad;
};

Test(stager, init_without_a_map_has_no_fd)
{
	struct np_stager st;

	cr_assert_eq(np_stager_init(&st, -1, NP_BLK_SYS_EVENTS, sizeof(struct rec), 4), 0);
	cr_assert_eq(np_stager_fd(&st), -1);
	cr_assert_eq(np_stager_drain(&st, NULL), 0);
	np_stager_fini(&st);
	np_stager_fini(&st); /* fini twice is harmless */
	cr_assert_eq(np_stager_init(&st, -1, NP_BLK_SYS_EVENTS, 0, 4), -EINVAL);
	np_stager_fini(&st);
}

Test(stager, records_without_a_writer_are_counted_as_dropped)
{
	struct np_stager st;
	struct rec r = {.ts_ns = 1, .tid = 2};

	cr_assert_eq(np_stager_init(&st, -1, NP_BLK_SYS_EVENTS, sizeof(r), 4), 0);
	for (int i = 0; i < 6; i++)
		np_stager_add(&st, &r, sizeof(r)); /* the 4th fills the array: flushed */
	cr_assert_eq(st.writer_drops, 4);
	cr_assert_eq(st.staged, 2);
	np_stager_flush(&st);
	cr_assert_eq(st.writer_drops, 6);
	cr_assert_eq(st.written, 0);
	np_stager_fini(&st);
}

Test(stager, short_samples_are_skipped)
{
	struct np_stager st;
	struct rec r = {0};

	cr_assert_eq(np_stager_init(&st, -1, NP_BLK_SYS_EVENTS, sizeof(r), 4), 0);
	np_stager_add(&st, &r, sizeof(r) - 1);
	cr_assert_eq(st.staged, 0);
	np_stager_add(&st, &r, sizeof(r) + 8); /* longer: the known prefix is kept */
	cr_assert_eq(st.staged, 1);
	np_stager_fini(&st);
}

static void count_tid(void *arg, const void *rec)
{
	*(uint64_t *)arg += ((const struct rec *)rec)->tid;
}

Test(stager, the_hook_sees_every_staged_record)
{
	struct np_stager st;
	uint64_t sum = 0;

	cr_assert_eq(np_stager_init(&st, -1, NP_BLK_SYS_EVENTS, sizeof(struct rec), 2), 0);
	st.on_record = count_tid;
	st.arg = &sum;
	for (uint32_t i = 1; i <= 5; i++) {
		struct rec r = {.tid = i};

		np_stager_add(&st, &r, sizeof(r));
	}
	cr_assert_eq(sum, 15);
	np_stager_fini(&st);
}

/* Odd tids go elsewhere: the exchange source keeps reply parts apart. */
static bool take_odd(void *arg, const void *rec)
{
	const struct rec *r = rec;

	if (!(r->tid & 1))
		return false;
	*(uint64_t *)arg += r->tid;
	return true;
}

Test(stager, diverted_records_are_not_staged)
{
	struct np_stager st;
	uint64_t taken = 0;

	cr_assert_eq(np_stager_init(&st, -1, NP_BLK_SYS_EVENTS, sizeof(struct rec), 8), 0);
	st.divert = take_odd;
	st.arg = &taken;
	for (uint32_t i = 1; i <= 5; i++) {
		struct rec r = {.tid = i};

		np_stager_add(&st, &r, sizeof(r));
	}
	cr_assert_eq(taken, 1 + 3 + 5);
	cr_assert_eq(st.staged, 2);
	cr_assert_eq(((const struct rec *)st.staging)[0].tid, 2);
	cr_assert_eq(((const struct rec *)st.staging)[1].tid, 4);
	np_stager_fini(&st);
}

Test(stager, staged_records_reach_the_recording_in_blocks)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct np_writer *w;
	struct np_stager st;

	t_mkdtemp(dir);
	t_pathf(path, "%s/s.nprof", dir);
	cr_assert_eq(np_writer_open(path, &w), 0);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_stager_init(&st, -1, NP_BLK_SYS_EVENTS, sizeof(struct np_sys_event), 3), 0);
	st.w = w; /* as during a drain */
	for (uint32_t i = 0; i < 7; i++) {
		struct np_sys_event e = {.tid = i};

		np_stager_add(&st, &e, sizeof(e));
	}
	cr_assert_eq(st.written, 6);              /* two full blocks */
	cr_assert_eq(np_stager_drain(&st, w), 0); /* the last one */
	cr_assert_eq(st.written, 7);
	cr_assert_eq(st.writer_drops, 0);
	cr_assert_null(st.w); /* the writer is held during a drain only */
	np_stager_fini(&st);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	t_rmtree(dir);
}

Test(stager, ring_buffer_sizes_are_powers_of_two_from_a_page)
{
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);

	cr_assert_eq(np_ringbuf_bytes(0), page);
	cr_assert_eq(np_ringbuf_bytes(1), page);
	cr_assert_eq(np_ringbuf_bytes(page), page);
	cr_assert_eq(np_ringbuf_bytes(page + 1), page * 2);
	cr_assert_eq(np_ringbuf_bytes(3u << 20), 4u << 20);
	cr_assert_eq(np_ringbuf_bytes(UINT32_MAX), 1u << 30);
}
