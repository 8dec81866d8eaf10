/* test_recording.c - the .nprof writer and the defensive reader.
 *
 * The round trip writes a recording with every block type through the real
 * writer; damage tests start from its bytes and cut, flip or patch them.
 * Crafted blocks (wrong sizes, unknown types) are built by hand with a
 * correct CRC so the reader's checks behind the checksum are reached.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "profiler/format/recording.h"
#include "testutil.h"

static char tmp[PATH_MAX];
static char path[PATH_MAX];

static void setup(void)
{
	t_mkdtemp(tmp);
	t_pathf(path, "%s/rec.nprof", tmp);
}

static void teardown(void)
{
	t_rmtree(tmp);
}

TestSuite(recording, .init = setup, .fini = teardown);

/* ---- an allocation counter ----
 *
 * malloc, calloc, realloc and free of this executable, forwarded to the
 * next definition (glibc's, or ASan's in the sanitizer build), so a test
 * can see what the reader asks for between alloc_watch(true) and
 * alloc_watch(false).  While dlsym itself allocates, a small static arena
 * answers. */
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static _Alignas(16) unsigned char boot_arena[8192];
static size_t boot_used;
static int resolving;
static struct {
	bool on;
	size_t calls, bytes, largest;
} alloc_seen;

static void resolve(void)
{
	if (real_free || resolving)
		return;
	resolving = 1;
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	resolving = 0;
}

static void *boot_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > sizeof(boot_arena) - boot_used)
		return NULL;
	p = boot_arena + boot_used;
	boot_used += n;
	return p; /* static storage: already zero */
}

static bool in_boot_arena(const void *p)
{
	return (const unsigned char *)p >= boot_arena &&
	       (const unsigned char *)p < boot_arena + sizeof(boot_arena);
}

static void note_alloc(size_t n)
{
	if (!alloc_seen.on)
		return;
	alloc_seen.calls++;
	alloc_seen.bytes += n;
	if (n > alloc_seen.largest)
		alloc_seen.largest = n;
}

void *malloc(size_t n)
{
	resolve();
	if (!real_malloc)
		return boot_alloc(n);
	note_alloc(n);
	return real_malloc(n);
}

void *calloc(size_t nmemb, size_t size)
{
	resolve();
	if (!real_calloc)
		return nmemb && size > SIZE_MAX / nmemb ? NULL : boot_alloc(nmemb * size);
	note_alloc(nmemb * size);
	return real_calloc(nmemb, size);
}

void *realloc(void *p, size_t n)
{
	resolve();
	if (!real_realloc || in_boot_arena(p)) {
		void *q = real_malloc ? real_malloc(n) : boot_alloc(n);

		if (q && p) /* the old size is unknown: at most the arena's rest */
			memcpy(q, p,
			       n < (size_t)(boot_arena + sizeof(boot_arena) - (unsigned char *)p)
				       ? n
				       : (size_t)(boot_arena + sizeof(boot_arena) -
						  (unsigned char *)p));
		return q;
	}
	note_alloc(n);
	return real_realloc(p, n);
}

void free(void *p)
{
	if (!p || in_boot_arena(p))
		return;
	resolve();
	real_free(p);
}

static void alloc_watch(bool on)
{
	if (on)
		memset(&alloc_seen, 0, sizeof(alloc_seen));
	alloc_seen.on = on;
}

/* ---- the sample recording ---- */

static const struct {
	const char *key, *value;
} sample_meta[] = {
	{"netprof_version", "0.1.0"},
	{"comm", "python3"},
	{"multi", "line one\nline two\n"},
	{"backslash", "C:\\dir\\n\\x41\\\\"},
	{"utf8", "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80"},
	{"ctrl", "\x01\x1b[31m\x7f\t\r\x1f"},
	{"high", "\xff\xfe\x80\xc0"},
	{"empty", ""},
	{"eq", "a=b=c"},
	{"trailing", "end\\"},
	{"dup", "first"},
	{"dup", "second"},
};

enum { SAMPLE_EVENTS_1 = 3, SAMPLE_EVENTS_2 = 2 };

/* The blocks of the sample, in file order, for checking prefixes. */
static const struct {
	uint16_t type;
	uint32_t count;
	uint32_t tids[2]; /* THREADS */
} sample_blocks[] = {
	{NP_BLK_META, 0, {0}},
	{NP_BLK_SOURCE, 2, {0}},
	{NP_BLK_SYS_EVENTS, SAMPLE_EVENTS_1, {0}},
	{NP_BLK_SYS_STATS, 2, {0}},
	{NP_BLK_THREADS, 2, {200, 100}},
	{NP_BLK_SYS_EVENTS, SAMPLE_EVENTS_2, {0}},
	{NP_BLK_SYS_STATS, 1, {0}},
	{NP_BLK_THREADS, 2, {100, 150}},
	{NP_BLK_SOURCE, 1, {0}},
	{NP_BLK_DROPS, 2, {0}},
	{NP_BLK_END, 1, {0}},
};
#define N_SAMPLE_BLOCKS (sizeof(sample_blocks) / sizeof(sample_blocks[0]))

static struct np_rec_source source(const char *name, uint32_t status, const char *detail)
{
	struct np_rec_source s;

	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "%s", name);
	s.status = status;
	snprintf(s.detail, sizeof(s.detail), "%s", detail);
	return s;
}

static struct np_sys_event event(uint64_t start, uint16_t sys, uint32_t tid)
{
	struct np_sys_event e;

	memset(&e, 0, sizeof(e));
	e.start_ns = start;
	e.dur_ns = 1000 + start % 7;
	e.ret = (int64_t)start % 100 - 50;
	e.tid = tid;
	e.fd = 3;
	e.sys = sys;
	e.flags = NP_EV_SLOW;
	return e;
}

static struct np_rec_sys_stats sys_stats(uint64_t ts, uint16_t sys, uint64_t count)
{
	struct np_rec_sys_stats s;

	memset(&s, 0, sizeof(s));
	s.ts_ns = ts;
	s.sys = sys;
	s.stats.count = count;
	s.stats.total_ns = count * 1000;
	s.stats.max_ns = 1500;
	s.stats.hist[10] = count;
	return s;
}

static struct np_rec_thread thread(uint64_t ts, uint32_t tid, const char *comm, uint64_t on)
{
	struct np_rec_thread t;

	memset(&t, 0, sizeof(t));
	t.ts_ns = ts;
	t.tid = tid;
	snprintf(t.comm, sizeof(t.comm), "%s", comm);
	t.first_ns = 10;
	t.last_ns = ts;
	t.on_cpu_ns = on;
	t.runq_ns = on / 10;
	t.calls = on / 1000;
	return t;
}

static void write_sample(const char *p)
{
	struct np_writer *w;
	struct np_rec_source src[2] = {source("syscalls", NP_SOURCE_OK, "all 28 syscalls"),
				       source("sched", NP_SOURCE_UNAVAILABLE, "no BTF")};
	struct np_rec_source src2 = source("sched", NP_SOURCE_OK, "attached late");
	struct np_sys_event ev1[SAMPLE_EVENTS_1] = {event(100, NP_SYS_read, 100),
						    event(200, NP_SYS_write, 200),
						    event(300, NP_SYS_epoll_wait, 100)};
	struct np_sys_event ev2[SAMPLE_EVENTS_2] = {event(400, NP_SYS_accept4, 150),
						    event(500, NP_SYS_close, 150)};
	struct np_rec_sys_stats st1[2] = {sys_stats(1000, NP_SYS_read, 10),
					  sys_stats(1000, NP_SYS_write, 5)};
	struct np_rec_sys_stats st2 = sys_stats(2000, NP_SYS_read, 20);
	struct np_rec_thread th1[2] = {thread(1000, 200, "two hundred", 5000),
				       thread(1000, 100, "main", 1000)};
	struct np_rec_thread th2[2] = {thread(2000, 100, "main-renamed", 9000),
				       thread(2000, 150, "worker", 3000)};
	struct np_rec_drops drops[2] = {{.ts_ns = 1000, .count = {1, 0, 0, 0, 0, 0, 0, 0}},
					{.ts_ns = 2000, .count = {5, 1, 0, 0, 0, 0, 0, 2}}};
	struct np_rec_end end = {.ts_ns = 3000, .reason = NP_END_SIGNAL, .error = 0};

	cr_assert_eq(np_writer_open(p, &w), 0);
	for (size_t i = 0; i < sizeof(sample_meta) / sizeof(sample_meta[0]); i++)
		cr_assert_eq(np_writer_meta(w, sample_meta[i].key, sample_meta[i].value), 0);
	cr_assert_eq(np_writer_meta_u64(w, "big", UINT64_MAX), 0);
	cr_assert_eq(np_writer_meta_u64(w, "start_ns", 50), 0);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SOURCE, sizeof(src[0]), src, 2), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_EVENTS, sizeof(ev1[0]), ev1, SAMPLE_EVENTS_1),
		     0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_STATS, sizeof(st1[0]), st1, 2), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, sizeof(th1[0]), th1, 2), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_EVENTS, sizeof(ev2[0]), ev2, SAMPLE_EVENTS_2),
		     0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_STATS, sizeof(st2), &st2, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, sizeof(th2[0]), th2, 2), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SOURCE, sizeof(src2), &src2, 1), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_DROPS, sizeof(drops[0]), drops, 2), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
}

static uint8_t *sample_bytes(size_t *len)
{
	write_sample(path);
	return t_read_file(path, len);
}

static int parse(const uint8_t *data, size_t len, struct np_recording **rec, char *err,
		 size_t errlen)
{
	/* an exact-size heap copy, so ASan sees any read past the end */
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, data, len);
	err[0] = '\0';
	*rec = NULL;
	rc = np_recording_parse(copy, len, rec, err, errlen);
	free(copy);
	return rc;
}

static void assert_one_line_error(int rc, const char *err)
{
	cr_assert_lt(rc, 0);
	cr_assert_gt(strlen(err), 0, "rc %d without a message", rc);
	cr_assert_null(strchr(err, '\n'), "multi-line error: %s", err);
}

/* ---- round trip ---- */

Test(recording, round_trip_meta)
{
	struct np_recording *rec;
	char err[256];

	write_sample(path);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	for (size_t i = 0; i < sizeof(sample_meta) / sizeof(sample_meta[0]); i++) {
		const char *v = np_recording_meta(rec, sample_meta[i].key);

		if (!strcmp(sample_meta[i].key, "dup"))
			continue;
		cr_assert_not_null(v, "key %s lost", sample_meta[i].key);
		cr_assert_str_eq(v, sample_meta[i].value, "key %s", sample_meta[i].key);
	}
	cr_assert_str_eq(np_recording_meta(rec, "dup"), "second", "the later value wins");
	cr_assert_null(np_recording_meta(rec, "absent"));
	cr_assert_eq(np_recording_meta_u64(rec, "big", 7), UINT64_MAX);
	cr_assert_eq(np_recording_meta_u64(rec, "start_ns", 7), 50);
	cr_assert_eq(np_recording_meta_u64(rec, "comm", 7), 7, "not a number: default");
	cr_assert_eq(np_recording_meta_u64(rec, "empty", 7), 7);
	cr_assert_eq(np_recording_meta_u64(rec, "absent", 7), 7);
	cr_assert_eq(rec->n_meta, sizeof(sample_meta) / sizeof(sample_meta[0]) + 2);
	np_recording_free(rec);
}

Test(recording, meta_block_is_one_line_per_value)
{
	uint8_t *data;
	size_t len, ends[32];
	struct np_block_header bh;
	size_t lines = 0;

	data = sample_bytes(&len);
	t_block_ends(data, len, ends, 32);
	memcpy(&bh, data + ends[0], sizeof(bh));
	cr_assert_eq(bh.type, NP_BLK_META);
	for (uint32_t i = 0; i < bh.payload_bytes; i++) {
		uint8_t c = data[ends[0] + sizeof(bh) + i];

		if (c == '\n')
			lines++;
		else
			cr_assert(c >= 0x20 && c <= 0x7e, "raw byte 0x%02x in META", c);
	}
	cr_assert_eq(lines, sizeof(sample_meta) / sizeof(sample_meta[0]) + 2);
	free(data);
}

Test(recording, round_trip_records)
{
	struct np_recording *rec;
	char err[256];
	struct stat st;

	write_sample(path);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(rec->version, NP_RECORDING_VERSION);
	cr_assert_not(rec->truncated);
	cr_assert_eq(rec->complete_bytes, (uint64_t)st.st_size);

	/* sources: latest status per name, first-seen order */
	cr_assert_eq(rec->n_sources, 2);
	cr_assert_str_eq(rec->sources[0].name, "syscalls");
	cr_assert_eq(rec->sources[0].status, NP_SOURCE_OK);
	cr_assert_str_eq(rec->sources[0].detail, "all 28 syscalls");
	cr_assert_str_eq(rec->sources[1].name, "sched");
	cr_assert_eq(rec->sources[1].status, NP_SOURCE_OK);
	cr_assert_str_eq(rec->sources[1].detail, "attached late");

	/* events: all of them, in file order */
	cr_assert_eq(rec->n_events, SAMPLE_EVENTS_1 + SAMPLE_EVENTS_2);
	for (size_t i = 0; i < rec->n_events; i++)
		cr_assert_eq(rec->events[i].start_ns, 100 * (i + 1));
	cr_assert_eq(rec->events[3].sys, NP_SYS_accept4);
	cr_assert_eq(rec->events[3].tid, 150);
	cr_assert_eq(rec->events[0].ret, -50);

	/* syscall totals: the latest block wins */
	cr_assert(rec->have_sys_stats);
	cr_assert_eq(rec->sys_stats[NP_SYS_read].stats.count, 20);
	cr_assert_eq(rec->sys_stats[NP_SYS_read].ts_ns, 2000);
	cr_assert_eq(rec->sys_stats[NP_SYS_read].stats.hist[10], 20);
	cr_assert_eq(rec->sys_stats[NP_SYS_write].stats.count, 5);
	cr_assert_eq(rec->sys_stats[NP_SYS_accept4].stats.count, 0);

	/* threads: latest snapshot per tid, sorted by tid */
	cr_assert_eq(rec->n_threads, 3);
	cr_assert_eq(rec->threads[0].tid, 100);
	cr_assert_eq(rec->threads[1].tid, 150);
	cr_assert_eq(rec->threads[2].tid, 200);
	cr_assert_eq(rec->threads[0].ts_ns, 2000);
	cr_assert_str_eq(rec->threads[0].comm, "main-renamed");
	cr_assert_eq(rec->threads[0].on_cpu_ns, 9000);
	cr_assert_str_eq(rec->threads[2].comm, "two hundred");
	cr_assert_eq(rec->threads[2].ts_ns, 1000);

	/* drops: the last record; END */
	cr_assert_eq(rec->drops.ts_ns, 2000);
	cr_assert_eq(rec->drops.count[0], 5);
	cr_assert_eq(rec->drops.count[NP_DROP_WRITER], 2);
	cr_assert(rec->have_end);
	cr_assert_eq(rec->end.ts_ns, 3000);
	cr_assert_eq(rec->end.reason, NP_END_SIGNAL);
	np_recording_free(rec);
}

Test(recording, source_status_from_writer_latest_wins)
{
	struct np_recording *rec;
	struct np_writer *w;
	char err[256];

	cr_assert_eq(np_writer_open(path, &w), 0);
	cr_assert_eq(np_writer_meta(w, "k", "v"), 0);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_source(w, "sockets", NP_SOURCE_UNAVAILABLE, "not %s", "yet"), 0);
	cr_assert_eq(np_writer_source(w, "nic", NP_SOURCE_OK, "%d interfaces", 2), 0);
	cr_assert_eq(np_writer_source(w, "sockets", NP_SOURCE_DEGRADED, "%s", "no tcp_info"), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rec->n_sources, 2);
	cr_assert_str_eq(rec->sources[0].name, "sockets");
	cr_assert_eq(rec->sources[0].status, NP_SOURCE_DEGRADED);
	cr_assert_str_eq(rec->sources[0].detail, "no tcp_info");
	cr_assert_str_eq(rec->sources[1].detail, "2 interfaces");
	np_recording_free(rec);
}

Test(recording, records_of_a_type_without_records_are_empty)
{
	struct np_recording *rec;
	char err[256];
	size_t n = 99;

	write_sample(path);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_null(np_recording_records(rec, 40, &n));
	cr_assert_eq(n, 0);
	cr_assert_null(np_recording_records(rec, 60000, &n));
	cr_assert_eq(n, 0);
	np_recording_free(rec);
}

Test(recording, free_accepts_null)
{
	np_recording_free(NULL);
	np_writer_free(NULL);
}

/* ---- damage ---- */

struct expect {
	size_t n_events, n_sources, n_threads, n_meta;
	bool have_sys_stats, have_drops, have_end;
};

static struct expect expect_prefix(size_t complete_blocks)
{
	struct expect e = {0};
	uint32_t tids[8];
	const char *names = "";
	size_t n_tids = 0;

	for (size_t b = 0; b < complete_blocks; b++) {
		switch (sample_blocks[b].type) {
		case NP_BLK_META:
			e.n_meta = sizeof(sample_meta) / sizeof(sample_meta[0]) + 2;
			break;
		case NP_BLK_SOURCE:
			/* "syscalls" and "sched" first, then "sched" again */
			e.n_sources = 2;
			names = "seen";
			break;
		case NP_BLK_SYS_EVENTS:
			e.n_events += sample_blocks[b].count;
			break;
		case NP_BLK_SYS_STATS:
			e.have_sys_stats = true;
			break;
		case NP_BLK_THREADS:
			for (uint32_t i = 0; i < sample_blocks[b].count; i++) {
				size_t k;

				for (k = 0; k < n_tids; k++)
					if (tids[k] == sample_blocks[b].tids[i])
						break;
				if (k == n_tids)
					tids[n_tids++] = sample_blocks[b].tids[i];
			}
			break;
		case NP_BLK_DROPS:
			e.have_drops = true;
			break;
		case NP_BLK_END:
			e.have_end = true;
			break;
		}
	}
	(void)names;
	e.n_threads = n_tids;
	return e;
}

/* A writer killed at any byte: the header region is refused with one line,
 * anything after the metadata loads as truncated with exactly the complete
 * blocks. */
Test(recording, file_cut_at_every_length)
{
	size_t len, ends[32], n_ends;
	uint8_t *data = sample_bytes(&len);

	n_ends = t_block_ends(data, len, ends, 32);
	cr_assert_eq(n_ends, N_SAMPLE_BLOCKS + 1);
	for (size_t cut = 0; cut <= len; cut++) {
		struct np_recording *rec;
		char err[256];
		int rc = parse(data, cut, &rec, err, sizeof(err));
		size_t complete = 0;
		struct expect e;

		while (complete + 1 < n_ends && ends[complete + 1] <= cut)
			complete++;
		if (complete == 0) {
			assert_one_line_error(rc, err);
			cr_assert_null(rec);
			continue;
		}
		cr_assert_eq(rc, 0, "cut at %zu of %zu: %s", cut, len, err);
		e = expect_prefix(complete);
		cr_assert_eq(rec->truncated, cut != len, "cut at %zu of %zu", cut, len);
		cr_assert_eq(rec->complete_bytes, ends[complete], "cut at %zu", cut);
		cr_assert_eq(rec->n_meta, e.n_meta, "cut at %zu", cut);
		cr_assert_eq(rec->n_events, e.n_events, "cut at %zu", cut);
		cr_assert_eq(rec->n_sources, e.n_sources, "cut at %zu", cut);
		cr_assert_eq(rec->n_threads, e.n_threads, "cut at %zu", cut);
		cr_assert_eq(rec->have_sys_stats, e.have_sys_stats, "cut at %zu", cut);
		cr_assert_eq(rec->have_end, e.have_end, "cut at %zu", cut);
		cr_assert_eq(rec->drops.count[0], e.have_drops ? 5 : 0, "cut at %zu", cut);
		np_recording_free(rec);
	}
	free(data);
}

/* The same through np_recording_read on real files, at block edges. */
Test(recording, truncated_file_on_disk_loads_complete_blocks)
{
	size_t len, ends[32], n_ends;
	uint8_t *data = sample_bytes(&len);
	char cut_path[PATH_MAX];

	n_ends = t_block_ends(data, len, ends, 32);
	t_pathf(cut_path, "%s/cut.nprof.partial", tmp);
	for (size_t i = 1; i < n_ends - 1; i++) {
		struct np_recording *rec;
		char err[256];

		t_write_file(cut_path, data, ends[i] + 5);
		cr_assert_eq(np_recording_read(cut_path, &rec, err, sizeof(err)), 0, "%s", err);
		cr_assert(rec->truncated);
		cr_assert_eq(rec->complete_bytes, ends[i]);
		np_recording_free(rec);
	}
	free(data);
}

Test(recording, flipped_payload_byte_is_a_checksum_error)
{
	size_t len, ends[32], n_ends;
	uint8_t *data = sample_bytes(&len);

	n_ends = t_block_ends(data, len, ends, 32);
	for (size_t b = 0; b + 1 < n_ends; b++) {
		size_t start = ends[b] + sizeof(struct np_block_header);

		for (size_t off = start; off < ends[b + 1]; off += 7) {
			struct np_recording *rec;
			char err[256];
			int rc;

			data[off] ^= 0x20;
			rc = parse(data, len, &rec, err, sizeof(err));
			data[off] ^= 0x20;
			cr_assert_eq(rc, -EINVAL, "flip at %zu (block %zu) accepted", off, b);
			cr_assert_not_null(strstr(err, "checksum"), "flip at %zu: %s", off, err);
			assert_one_line_error(rc, err);
		}
	}
	free(data);
}

/* Every single-bit flip anywhere (bits 0, 3 and 6 of each byte; the point
 * of this test under ASan/UBSan is also that none crashes).  The outcome is
 * predicted from where the flip is:
 * - the file header's reserved words: the recording loads unchanged;
 * - any other file header field: refused (this sample's version 1 flips to
 *   0 or to a newer version; a moved header_bytes points at no metadata);
 * - a block's payload_bytes: refused, or loaded as truncated just before
 *   that block (it now claims more bytes than the file has);
 * - anything else in a block: refused (marker or checksum).
 * A damaged block is never loaded. */
Test(recording, any_flipped_bit_is_rejected_or_loads_without_the_damaged_block)
{
	size_t len, ends[32], n_ends, loads = 0, refusals = 0;
	uint8_t *data = sample_bytes(&len);
	struct expect full = expect_prefix(N_SAMPLE_BLOCKS);

	n_ends = t_block_ends(data, len, ends, 32);
	cr_assert_eq(ends[0], sizeof(struct np_file_header));
	for (size_t off = 0; off < len; off++) {
		size_t b = 0;

		while (b + 1 < n_ends && ends[b + 1] <= off)
			b++;
		for (int bit = 0; bit < 8; bit += 3) {
			struct np_recording *rec;
			char err[256];
			int rc;

			data[off] ^= (uint8_t)(1u << bit);
			rc = parse(data, len, &rec, err, sizeof(err));
			data[off] ^= (uint8_t)(1u << bit);
			if (rc)
				assert_one_line_error(rc, err);
			if (off < ends[0]) {
				bool reserved = off >= offsetof(struct np_file_header, reserved);

				cr_assert_eq(rc == 0, reserved, "header byte %zu bit %d: rc %d",
					     off, bit, rc);
			} else if (off - ends[b] >=
					   offsetof(struct np_block_header, payload_bytes) &&
				   off - ends[b] < offsetof(struct np_block_header, crc32)) {
				if (rc == 0) {
					cr_assert(rec->truncated, "byte %zu bit %d", off, bit);
					cr_assert_eq(rec->complete_bytes, ends[b],
						     "byte %zu bit %d", off, bit);
				}
			} else {
				cr_assert_neq(rc, 0, "byte %zu bit %d (block %zu) loaded", off, bit,
					      b);
			}
			if (rc == 0 && off < ends[0]) {
				cr_assert_not(rec->truncated);
				cr_assert_eq(rec->n_events, full.n_events);
				cr_assert_eq(rec->n_meta, full.n_meta);
				cr_assert_eq(rec->n_threads, full.n_threads);
			}
			if (rc == 0) {
				loads++;
				np_recording_free(rec);
			} else {
				refusals++;
			}
		}
	}
	cr_assert_gt(loads, 0);
	cr_assert_gt(refusals, 0);
	free(data);
}

Test(recording, foreign_file_is_not_a_recording)
{
	const char *texts[] = {"#!/bin/sh\necho this is a shell script and not a recording at "
			       "all\n",
			       "hi", "NPROFRE"};
	uint8_t elf[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct np_recording *rec;
		char err[256];
		int rc = parse((const uint8_t *)texts[i], strlen(texts[i]), &rec, err, sizeof(err));

		assert_one_line_error(rc, err);
		cr_assert_not_null(strstr(err, "not a netprof recording"), "%s", err);
	}
	{
		struct np_recording *rec;
		char err[256];
		int rc = parse(elf, sizeof(elf), &rec, err, sizeof(err));

		cr_assert_not_null(strstr(err, "not a netprof recording"), "%s", err);
		assert_one_line_error(rc, err);
	}
}

Test(recording, read_refuses_empty_missing_and_non_regular_files)
{
	struct np_recording *rec = NULL;
	char err[256];
	int rc;

	t_write_file(path, "", 0);
	rc = np_recording_read(path, &rec, err, sizeof(err));
	assert_one_line_error(rc, err);
	cr_assert_not_null(strstr(err, "not a netprof recording"), "%s", err);

	rc = np_recording_read("/nonexistent/dir/rec.nprof", &rec, err, sizeof(err));
	cr_assert_eq(rc, -ENOENT);
	assert_one_line_error(rc, err);

	rc = np_recording_read(tmp, &rec, err, sizeof(err));
	assert_one_line_error(rc, err);
	cr_assert_null(rec);
}

Test(recording, newer_version_is_enotsup)
{
	size_t len;
	uint8_t *data = sample_bytes(&len);
	struct np_file_header fh;
	struct np_recording *rec;
	char err[256];
	int rc;

	memcpy(&fh, data, sizeof(fh));
	fh.version = NP_RECORDING_VERSION + 1;
	memcpy(data, &fh, sizeof(fh));
	rc = parse(data, len, &rec, err, sizeof(err));
	cr_assert_eq(rc, -ENOTSUP, "%d: %s", rc, err);
	cr_assert_not_null(strstr(err, "newer"), "%s", err);
	assert_one_line_error(rc, err);
	free(data);
}

Test(recording, bad_file_header_fields_are_rejected)
{
	size_t len;
	uint8_t *data = sample_bytes(&len);
	struct np_file_header fh, orig;
	struct np_recording *rec;
	char err[256];
	int rc;

	memcpy(&orig, data, sizeof(orig));

	fh = orig;
	fh.version = 0;
	memcpy(data, &fh, sizeof(fh));
	rc = parse(data, len, &rec, err, sizeof(err));
	assert_one_line_error(rc, err);

	fh = orig;
	fh.byte_order = 0x04030201u;
	memcpy(data, &fh, sizeof(fh));
	rc = parse(data, len, &rec, err, sizeof(err));
	assert_one_line_error(rc, err);
	cr_assert_not_null(strstr(err, "byte order"), "%s", err);

	fh = orig;
	fh.header_bytes = sizeof(fh) - 4;
	memcpy(data, &fh, sizeof(fh));
	rc = parse(data, len, &rec, err, sizeof(err));
	assert_one_line_error(rc, err);

	fh = orig;
	fh.header_bytes = (uint32_t)len + 1;
	memcpy(data, &fh, sizeof(fh));
	rc = parse(data, len, &rec, err, sizeof(err));
	assert_one_line_error(rc, err);

	fh = orig;
	fh.header_bytes = UINT32_MAX;
	memcpy(data, &fh, sizeof(fh));
	rc = parse(data, len, &rec, err, sizeof(err));
	assert_one_line_error(rc, err);
	free(data);
}

/* A later version may grow the file header: blocks start at header_bytes. */
Test(recording, larger_file_header_is_skipped)
{
	size_t len;
	uint8_t *data = sample_bytes(&len);
	uint8_t *big = calloc(1, len + 24);
	struct np_file_header fh;
	struct np_recording *rec;
	char err[256];

	memcpy(&fh, data, sizeof(fh));
	fh.header_bytes = sizeof(fh) + 24;
	memcpy(big, &fh, sizeof(fh));
	memset(big + sizeof(fh), 0xee, 24);
	memcpy(big + sizeof(fh) + 24, data + sizeof(fh), len - sizeof(fh));
	cr_assert_eq(parse(big, len + 24, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rec->n_events, SAMPLE_EVENTS_1 + SAMPLE_EVENTS_2);
	cr_assert(rec->have_end);
	np_recording_free(rec);
	free(big);
	free(data);
}

/* ---- hand-made blocks ---- */

struct bytes {
	uint8_t *p;
	size_t len;
};

static void put_bytes(struct bytes *b, const void *data, size_t n)
{
	b->p = realloc(b->p, b->len + n + 1);
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_header(struct bytes *b)
{
	struct np_file_header fh = {.version = NP_RECORDING_VERSION,
				    .byte_order = NP_BYTE_ORDER_MARK,
				    .header_bytes = sizeof(fh)};

	memcpy(fh.magic, NP_FILE_MAGIC, sizeof(fh.magic));
	put_bytes(b, &fh, sizeof(fh));
}

static void put_block(struct bytes *b, uint16_t type, uint32_t record_bytes, uint32_t count,
		      const void *payload, uint32_t payload_bytes)
{
	struct np_block_header bh = {.magic = NP_BLOCK_MAGIC,
				     .type = type,
				     .record_bytes = record_bytes,
				     .count = count,
				     .payload_bytes = payload_bytes};
	uLong crc = crc32(0L, (const Bytef *)&bh, sizeof(bh));

	if (payload_bytes)
		crc = crc32(crc, payload, payload_bytes);
	bh.crc32 = (uint32_t)crc;
	put_bytes(b, &bh, sizeof(bh));
	if (payload_bytes)
		put_bytes(b, payload, payload_bytes);
}

static void put_meta(struct bytes *b)
{
	static const char meta[] = "netprof_version=test\nstart_ns=1\n";

	put_block(b, NP_BLK_META, 0, 0, meta, sizeof(meta) - 1);
}

static void put_end(struct bytes *b)
{
	struct np_rec_end end = {.ts_ns = 9, .reason = NP_END_DURATION};

	put_block(b, NP_BLK_END, sizeof(end), 1, &end, sizeof(end));
}

Test(recording, unknown_block_type_is_skipped)
{
	struct bytes b = {0};
	struct np_sys_event ev = event(42, NP_SYS_read, 1);
	uint8_t junk[3 * 40];
	struct np_recording *rec;
	char err[256];

	memset(junk, 0x5a, sizeof(junk));
	put_header(&b);
	put_meta(&b);
	put_block(&b, 99, 40, 3, junk, sizeof(junk));
	put_block(&b, 0xffff, 0, 0, "free text", 9);
	put_block(&b, NP_BLK_SYS_EVENTS, sizeof(ev), 1, &ev, sizeof(ev));
	put_block(&b, 1000, 7, 1, junk, 5); /* sizes are not ours to judge */
	put_end(&b);
	cr_assert_eq(parse(b.p, b.len, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rec->n_events, 1);
	cr_assert_eq(rec->events[0].start_ns, 42);
	cr_assert(rec->have_end);
	cr_assert_not(rec->truncated);
	np_recording_free(rec);
	free(b.p);
}

/* Records of a later version may be longer; the known prefix is used. */
Test(recording, larger_records_are_accepted)
{
	enum { EXTRA = 24 };
	struct bytes b = {0};
	struct np_recording *rec;
	char err[256];
	uint8_t buf[3][sizeof(struct np_rec_sys_stats) + EXTRA];
	struct np_rec_thread th[2] = {thread(5, 30, "big-a", 700), thread(5, 20, "big-b", 800)};
	struct np_rec_source src = source("future", NP_SOURCE_DEGRADED, "x");
	struct np_sys_event ev = event(77, NP_SYS_sendto, 30);
	struct np_rec_sys_stats st = sys_stats(5, NP_SYS_sendto, 33);
	struct np_rec_drops drops = {.ts_ns = 5, .count = {9}};
	struct np_rec_end end = {.ts_ns = 6, .reason = NP_END_TARGET_EXITED};

#define PUT_BIG(type, recs, n) \
	do { \
		memset(buf, 0xab, sizeof(buf)); \
		for (int i_ = 0; i_ < (n); i_++) \
			memcpy((uint8_t *)buf + (size_t)i_ * (sizeof((recs)[0]) + EXTRA), \
			       &(recs)[i_], sizeof((recs)[0])); \
		put_block(&b, type, sizeof((recs)[0]) + EXTRA, n, buf, \
			  (uint32_t)((sizeof((recs)[0]) + EXTRA) * (n))); \
	} while (0)

	put_header(&b);
	put_meta(&b);
	PUT_BIG(NP_BLK_SOURCE, &src, 1);
	PUT_BIG(NP_BLK_SYS_EVENTS, &ev, 1);
	PUT_BIG(NP_BLK_SYS_STATS, &st, 1);
	PUT_BIG(NP_BLK_THREADS, th, 2);
	PUT_BIG(NP_BLK_DROPS, &drops, 1);
	PUT_BIG(NP_BLK_END, &end, 1);
#undef PUT_BIG
	cr_assert_eq(parse(b.p, b.len, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rec->n_sources, 1);
	cr_assert_str_eq(rec->sources[0].name, "future");
	cr_assert_eq(rec->sources[0].status, NP_SOURCE_DEGRADED);
	cr_assert_eq(rec->n_events, 1);
	cr_assert_eq(rec->events[0].start_ns, 77);
	cr_assert_eq(rec->events[0].tid, 30);
	cr_assert_eq(rec->sys_stats[NP_SYS_sendto].stats.count, 33);
	cr_assert_eq(rec->n_threads, 2);
	cr_assert_eq(rec->threads[0].tid, 20);
	cr_assert_str_eq(rec->threads[0].comm, "big-b");
	cr_assert_eq(rec->threads[1].on_cpu_ns, 700);
	cr_assert_eq(rec->drops.count[0], 9);
	cr_assert(rec->have_end);
	cr_assert_eq(rec->end.reason, NP_END_TARGET_EXITED);
	np_recording_free(rec);
	free(b.p);
}

Test(recording, smaller_records_are_rejected)
{
	const uint16_t types[] = {NP_BLK_SOURCE,  NP_BLK_SYS_EVENTS, NP_BLK_SYS_STATS,
				  NP_BLK_THREADS, NP_BLK_DROPS,      NP_BLK_END};
	const uint32_t sizes[] = {sizeof(struct np_rec_source),    sizeof(struct np_sys_event),
				  sizeof(struct np_rec_sys_stats), sizeof(struct np_rec_thread),
				  sizeof(struct np_rec_drops),     sizeof(struct np_rec_end)};
	static uint8_t zeros[2 * 512];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct bytes b = {0};
		struct np_recording *rec;
		char err[256];
		uint32_t small = sizes[i] - 8;
		int rc;

		put_header(&b);
		put_meta(&b);
		put_block(&b, types[i], small, 2, zeros, 2 * small);
		put_end(&b);
		rc = parse(b.p, b.len, &rec, err, sizeof(err));
		cr_assert_eq(rc, -EINVAL, "type %u with %u-byte records accepted", types[i], small);
		cr_assert_not_null(strstr(err, "records of"), "%s", err);
		assert_one_line_error(rc, err);
		free(b.p);
	}
}

Test(recording, inconsistent_block_lengths_are_rejected)
{
	struct np_rec_thread th = thread(1, 1, "x", 1);
	struct {
		uint16_t type;
		uint32_t record_bytes, count, payload_bytes;
	} cases[] = {
		{NP_BLK_THREADS, sizeof(th), 2, sizeof(th)},
		{NP_BLK_THREADS, sizeof(th), 0, sizeof(th)},
		{NP_BLK_THREADS, 0x10000, 0x10000, 0}, /* 2^32: must not wrap to 0 */
		{NP_BLK_SYS_EVENTS, 0x80000000u, 2, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bytes b = {0};
		struct np_recording *rec;
		char err[256];
		int rc;

		put_header(&b);
		put_meta(&b);
		put_block(&b, cases[i].type, cases[i].record_bytes, cases[i].count, &th,
			  cases[i].payload_bytes);
		put_end(&b);
		rc = parse(b.p, b.len, &rec, err, sizeof(err));
		cr_assert_eq(rc, -EINVAL, "case %zu accepted", i);
		assert_one_line_error(rc, err);
		free(b.p);
	}
}

/* The claim is refused before anything the size of the claim is
 * allocated: the reader's largest single request stays far below it (the
 * recording struct and the metadata are all it allocates). */
Test(recording, oversized_block_claim_is_rejected_without_allocating)
{
	struct bytes b = {0};
	struct np_block_header bh = {.magic = NP_BLOCK_MAGIC,
				     .type = NP_BLK_SYS_EVENTS,
				     .record_bytes = 1,
				     .count = NP_BLOCK_MAX_PAYLOAD + 1,
				     .payload_bytes = NP_BLOCK_MAX_PAYLOAD + 1};
	struct np_recording *rec = NULL;
	char err[256];
	int rc;

	put_header(&b);
	put_meta(&b);
	put_bytes(&b, &bh, sizeof(bh));
	put_bytes(&b, "tail", 4);
	err[0] = '\0';
	alloc_watch(true);
	rc = np_recording_parse(b.p, b.len, &rec, err, sizeof(err));
	alloc_watch(false);
	assert_one_line_error(rc, err);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_null(rec);
	cr_assert_not_null(strstr(err, "block of"), "%s", err);
	cr_assert_lt(alloc_seen.largest, sizeof(struct np_recording) + 4096,
		     "the reader asked for %zu bytes in one call", alloc_seen.largest);
	cr_assert_lt(alloc_seen.bytes, 64 * 1024, "the reader asked for %zu bytes in all",
		     alloc_seen.bytes);
	free(b.p);
}

/* The counter above sees the reader's allocations: a block of 100000
 * events makes it ask for at least their size. */
Test(recording, allocation_counter_sees_the_readers_allocations)
{
	enum { N = 100000 };
	struct np_sys_event *ev = calloc(N, sizeof(*ev));
	struct np_recording *rec = NULL;
	struct np_writer *w;
	uint8_t *data;
	size_t len;
	char err[256];

	cr_assert_not_null(ev);
	cr_assert_eq(np_writer_open(path, &w), 0);
	cr_assert_eq(np_writer_meta(w, "k", "v"), 0);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_EVENTS, sizeof(ev[0]), ev, N), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	free(ev);
	data = t_read_file(path, &len);
	alloc_watch(true);
	cr_assert_eq(np_recording_parse(data, len, &rec, err, sizeof(err)), 0, "%s", err);
	alloc_watch(false);
	cr_assert_eq(rec->n_events, N);
	cr_assert_geq(alloc_seen.largest, (size_t)N * sizeof(struct np_sys_event));
	np_recording_free(rec);
	free(data);
}

Test(recording, first_block_must_be_metadata)
{
	struct bytes b = {0};
	struct np_recording *rec;
	char err[256];
	int rc;

	put_header(&b);
	put_end(&b);
	put_meta(&b);
	rc = parse(b.p, b.len, &rec, err, sizeof(err));
	assert_one_line_error(rc, err);
	cr_assert_not_null(strstr(err, "metadata"), "%s", err);
	free(b.p);
}

Test(recording, garbage_between_blocks_is_rejected)
{
	struct bytes b = {0};
	struct np_recording *rec;
	char err[256];
	int rc;

	put_header(&b);
	put_meta(&b);
	put_bytes(&b, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
	put_end(&b);
	rc = parse(b.p, b.len, &rec, err, sizeof(err));
	assert_one_line_error(rc, err);
	cr_assert_not_null(strstr(err, "offset"), "says where: %s", err);
	free(b.p);
}

Test(recording, meta_with_bad_escape_keeps_key_drops_value)
{
	static const char meta[] = "good=ok\\x41\nbad=oops\\q\nnoequals\n=emptykey\nlast=\\x4";
	struct bytes b = {0};
	struct np_recording *rec;
	char err[256];

	put_header(&b);
	put_block(&b, NP_BLK_META, 0, 0, meta, sizeof(meta) - 1);
	put_end(&b);
	cr_assert_eq(parse(b.p, b.len, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(np_recording_meta(rec, "good"), "okA");
	cr_assert_str_eq(np_recording_meta(rec, "bad"), "");
	cr_assert_str_eq(np_recording_meta(rec, "last"), "");
	cr_assert_str_eq(np_recording_meta(rec, ""), "emptykey");
	cr_assert_null(np_recording_meta(rec, "noequals"));
	np_recording_free(rec);
	free(b.p);
}

Test(recording, later_meta_blocks_add_keys_and_override)
{
	static const char meta2[] = "start_ns=2\nextra=yes\n";
	struct bytes b = {0};
	struct np_recording *rec;
	char err[256];

	put_header(&b);
	put_meta(&b);
	put_block(&b, NP_BLK_META, 0, 0, meta2, sizeof(meta2) - 1);
	for (int i = 0; i < 40; i++) /* past any initial capacity */
		put_block(&b, NP_BLK_META, 0, 0, "k=v\n", 4);
	put_end(&b);
	cr_assert_eq(parse(b.p, b.len, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rec->n_meta, 44);
	cr_assert_eq(np_recording_meta_u64(rec, "start_ns", 0), 2);
	cr_assert_str_eq(np_recording_meta(rec, "extra"), "yes");
	cr_assert_str_eq(np_recording_meta(rec, "netprof_version"), "test");
	np_recording_free(rec);
	free(b.p);
}

Test(recording, syscall_totals_for_unknown_syscalls_are_ignored)
{
	struct bytes b = {0};
	struct np_rec_sys_stats st[2] = {sys_stats(1, NP_SYS_COUNT + 5, 3),
					 sys_stats(1, 0xffff, 4)};
	struct np_recording *rec;
	char err[256];

	put_header(&b);
	put_meta(&b);
	put_block(&b, NP_BLK_SYS_STATS, sizeof(st[0]), 2, st, sizeof(st));
	put_end(&b);
	cr_assert_eq(parse(b.p, b.len, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(rec->have_sys_stats);
	np_recording_free(rec);
	free(b.p);
}

Test(recording, unterminated_strings_in_records_are_terminated)
{
	struct bytes b = {0};
	struct np_rec_source src;
	struct np_rec_thread th = thread(1, 7, "", 1);
	struct np_recording *rec;
	char err[256];

	memset(&src, 'A', sizeof(src));
	src.status = NP_SOURCE_OK;
	memset(th.comm, 'B', sizeof(th.comm));
	put_header(&b);
	put_meta(&b);
	put_block(&b, NP_BLK_SOURCE, sizeof(src), 1, &src, sizeof(src));
	put_block(&b, NP_BLK_THREADS, sizeof(th), 1, &th, sizeof(th));
	put_end(&b);
	cr_assert_eq(parse(b.p, b.len, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(strlen(rec->sources[0].name), sizeof(src.name) - 1);
	cr_assert_eq(strlen(rec->sources[0].detail), sizeof(src.detail) - 1);
	cr_assert_eq(strlen(rec->threads[0].comm), sizeof(th.comm) - 1);
	np_recording_free(rec);
	free(b.p);
}

Test(recording, meta_only_recording_is_truncated_not_an_error)
{
	struct bytes b = {0};
	struct np_recording *rec;
	char err[256];

	put_header(&b);
	put_meta(&b);
	cr_assert_eq(parse(b.p, b.len, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert(rec->truncated);
	cr_assert_not(rec->have_end);
	cr_assert_eq(rec->complete_bytes, b.len);
	np_recording_free(rec);
	free(b.p);
}

/* ---- writer ---- */

Test(recording, writer_refuses_symlink_at_partial_path)
{
	char partial[PATH_MAX], victim[PATH_MAX];
	struct np_writer *w = NULL;
	size_t len;
	uint8_t *after;

	t_pathf(partial, "%s.partial", path);
	t_pathf(victim, "%s/victim", tmp);
	t_write_file(victim, "precious", 8);
	cr_assert_eq(symlink(victim, partial), 0);
	cr_assert_eq(np_writer_open(path, &w), -ELOOP);
	after = t_read_file(victim, &len);
	cr_assert_eq(len, 8);
	cr_assert_eq(memcmp(after, "precious", 8), 0, "written through the symlink");
	free(after);

	/* a dangling link must not create its target either */
	cr_assert_eq(unlink(partial), 0);
	cr_assert_eq(unlink(victim), 0);
	cr_assert_eq(symlink(victim, partial), 0);
	cr_assert_eq(np_writer_open(path, &w), -ELOOP);
	cr_assert_neq(access(victim, F_OK), 0, "link target was created");
}

Test(recording, writer_creates_files_with_mode_0600)
{
	struct np_writer *w;
	struct stat st;
	mode_t old = umask(0);

	cr_assert_eq(np_writer_open(path, &w), 0);
	umask(old);
	cr_assert_eq(stat(np_writer_partial_path(w), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	np_writer_meta(w, "k", "v");
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
}

Test(recording, partial_exists_until_commit)
{
	struct np_writer *w;
	char partial[PATH_MAX];
	struct np_rec_end end = {.ts_ns = 1, .reason = NP_END_DURATION};
	struct np_recording *rec;
	char err[256];

	t_pathf(partial, "%s.partial", path);
	cr_assert_eq(np_writer_open(path, &w), 0);
	cr_assert_str_eq(np_writer_partial_path(w), partial);
	cr_assert_eq(access(partial, F_OK), 0);
	cr_assert_neq(access(path, F_OK), 0, "final file before commit");
	np_writer_meta(w, "k", "v");
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(access(path, F_OK) == 0, false);
	cr_assert_eq(np_writer_commit(w), 0);
	cr_assert_neq(access(partial, F_OK), 0, ".partial left after commit");
	cr_assert_eq(access(path, F_OK), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(rec->truncated);
	np_recording_free(rec);
}

Test(recording, uncommitted_partial_is_readable_as_truncated)
{
	struct np_writer *w;
	struct np_sys_event ev = event(5, NP_SYS_read, 1);
	struct np_recording *rec;
	char partial[PATH_MAX], err[256];

	cr_assert_eq(np_writer_open(path, &w), 0);
	t_pathf(partial, "%s", np_writer_partial_path(w));
	np_writer_meta(w, "k", "v");
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_EVENTS, sizeof(ev), &ev, 1), 0);
	np_writer_free(w); /* killed before commit */
	cr_assert_eq(access(partial, F_OK), 0, "the .partial file stays");
	cr_assert_neq(access(path, F_OK), 0);
	cr_assert_eq(np_recording_read(partial, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert(rec->truncated);
	cr_assert_eq(rec->n_events, 1);
	np_recording_free(rec);
}

Test(recording, writer_open_errors)
{
	struct np_writer *w = NULL;

	cr_assert_eq(np_writer_open("/nonexistent-dir/x.nprof", &w), -ENOENT);
	cr_assert_null(w);
}

Test(recording, writer_rejects_bad_record_sizes)
{
	struct np_writer *w;
	uint8_t rec[8] = {0};

	cr_assert_eq(np_writer_open(path, &w), 0);
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, 0, rec, 1), -EINVAL);
	cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, NP_BLOCK_MAX_PAYLOAD + 1, rec, 1), -EINVAL);
	np_writer_free(w);
}

/* A metadata block with no keys, and an empty block, are valid: the CRC
 * of an empty payload must match what the reader computes. */
Test(recording, empty_blocks_round_trip)
{
	struct np_writer *w;
	struct np_rec_end end = {.ts_ns = 1, .reason = NP_END_DURATION};
	struct np_recording *rec;
	char err[256];

	cr_assert_eq(np_writer_open(path, &w), 0);
	cr_assert_eq(np_writer_meta_flush(w), 0); /* nothing was added */
	cr_assert_eq(np_writer_block(w, NP_BLK_THREADS, sizeof(struct np_rec_thread), NULL, 0), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_END, sizeof(end), &end, 1), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rec->n_meta, 0);
	cr_assert_eq(rec->n_threads, 0);
	cr_assert(rec->have_end);
	np_recording_free(rec);
}

/* Arrays larger than one block's payload cap are split by the writer. */
Test(recording, large_arrays_are_split_into_blocks, .timeout = 60)
{
	uint32_t per_block = NP_BLOCK_MAX_PAYLOAD / sizeof(struct np_sys_event);
	uint32_t n = per_block + 10;
	struct np_sys_event *ev = calloc(n, sizeof(*ev));
	struct np_writer *w;
	struct np_recording *rec;
	char err[256];
	size_t len, ends[8];
	uint8_t *data;

	for (uint32_t i = 0; i < n; i++)
		ev[i].start_ns = i;
	cr_assert_eq(np_writer_open(path, &w), 0);
	np_writer_meta(w, "k", "v");
	cr_assert_eq(np_writer_meta_flush(w), 0);
	cr_assert_eq(np_writer_block(w, NP_BLK_SYS_EVENTS, sizeof(*ev), ev, n), 0);
	cr_assert_eq(np_writer_commit(w), 0);
	np_writer_free(w);
	data = t_read_file(path, &len);
	cr_assert_eq(t_block_ends(data, len, ends, 8), 4, "header, META and two event blocks");
	free(data);
	cr_assert_eq(np_recording_read(path, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rec->n_events, n);
	cr_assert_eq(rec->events[n - 1].start_ns, n - 1);
	cr_assert_eq(rec->events[per_block].start_ns, per_block);
	np_recording_free(rec);
	free(ev);
}

/* ---- META escaping ---- */

Test(recording, escape_examples)
{
	char out[64];

	cr_assert_eq(np_meta_escape("a\\b\nc\x01\xff~ ", out, sizeof(out)), 17);
	cr_assert_str_eq(out, "a\\\\b\\nc\\x01\\xff~ ");
	cr_assert_eq(np_meta_escape("", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");
}

Test(recording, escape_reports_full_length_and_truncates_safely)
{
	const char *in = "abc\ndef\\";
	size_t need = np_meta_escape(in, NULL, 0);

	cr_assert_eq(need, 10);
	for (size_t len = 1; len <= need + 1; len++) {
		char *out = malloc(len);

		cr_assert_eq(np_meta_escape(in, out, len), need);
		cr_assert_lt(strlen(out), len);
		free(out);
	}
}

Test(recording, escape_unescape_round_trip_of_every_byte)
{
	char in[256], esc[1024], back[256];
	int n;

	for (int i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = '\0';
	np_meta_escape(in, esc, sizeof(esc));
	for (const char *p = esc; *p; p++)
		cr_assert((unsigned char)*p >= 0x20 && (unsigned char)*p <= 0x7e,
			  "escaped output holds 0x%02x", (unsigned char)*p);
	n = np_meta_unescape(esc, strlen(esc), back, sizeof(back));
	cr_assert_eq(n, 255);
	cr_assert_eq(memcmp(in, back, 256), 0);
}

Test(recording, escape_unescape_round_trip_random)
{
	srand(7);
	for (int round = 0; round < 5000; round++) {
		char in[64], esc[256], back[64];
		size_t n = (size_t)(rand() % 63);
		int got;

		for (size_t i = 0; i < n; i++)
			in[i] = (char)(rand() % 255 + 1);
		in[n] = '\0';
		cr_assert_lt(np_meta_escape(in, esc, sizeof(esc)), sizeof(esc));
		got = np_meta_unescape(esc, strlen(esc), back, sizeof(back));
		cr_assert_eq(got, (int)n);
		cr_assert_str_eq(back, in);
	}
}

Test(recording, unescape_rejects_bad_escapes)
{
	const char *bad[] = {"\\",    "abc\\", "\\q",   "\\N", "\\x", "\\x4",
			     "\\xg1", "\\x1g", "ok\\x", "\\ ", "\\t"};
	char out[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(np_meta_unescape(bad[i], strlen(bad[i]), out, sizeof(out)), -EINVAL,
			     "accepted \"%s\"", bad[i]);
}

Test(recording, unescape_accepts_hex_in_either_case)
{
	char out[16];

	cr_assert_eq(np_meta_unescape("\\x4a\\x4A\\\\\\n", 12, out, sizeof(out)), 4);
	cr_assert_str_eq(out, "JJ\\\n");
}

Test(recording, unescape_respects_output_size)
{
	char out[4];

	cr_assert_eq(np_meta_unescape("abc", 3, out, 4), 3);
	cr_assert_str_eq(out, "abc");
	cr_assert_eq(np_meta_unescape("abcd", 4, out, 4), -ENOSPC);
	cr_assert_eq(np_meta_unescape("", 0, out, 0), -ENOSPC);
	cr_assert_eq(np_meta_unescape("", 0, out, 1), 0);
	cr_assert_str_eq(out, "");
	/* inlen bounds the input even without a NUL */
	cr_assert_eq(np_meta_unescape("xyz\\x41", 2, out, 4), 2);
	cr_assert_str_eq(out, "xy");
}
