/* recording.c - the .nprof file: a streaming writer and a defensive reader.
 *
 * The format is described in timeline.h.  The writer is used while attached
 * and must never block the event loop for long: it writes whole blocks with
 * one writev each and keeps no records in memory.  The reader is used by
 * `netprof report` on files that may come from anywhere; it maps the file,
 * validates every header, length and checksum before touching a record, and
 * copies records out so that nothing points into the mapping afterwards.
 */
#include "profiler/format/recording.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "profiler/base/array.h"
#include "profiler/base/hex.h"

/* More source records than this can only come from a crafted file. */
#define NP_MAX_SOURCES 1024

/* A recording bigger than this is refused rather than mapped. */
#define NP_RECORDING_MAX_BYTES (16ull << 30)

struct np_writer {
	int fd;
	char *path;
	char *partial;
	struct np_kvtext meta; /* the pending META block */
	int error;             /* first write error, sticky */
};

static int write_all_v(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		ssize_t n = writev(fd, iov, iovcnt);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int np_writer_open(const char *path, struct np_writer **out)
{
	struct np_file_header hdr = {.version = NP_RECORDING_VERSION,
				     .byte_order = NP_BYTE_ORDER_MARK,
				     .header_bytes = sizeof(hdr)};
	struct iovec iov = {&hdr, sizeof(hdr)};
	struct np_writer *w;
	int err;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	w->path = strdup(path);
	if (!w->path || asprintf(&w->partial, "%s.partial", path) < 0) {
		w->partial = NULL;
		err = -ENOMEM;
		goto fail;
	}
	w->fd = open(w->partial, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		err = -errno;
		goto fail;
	}
	memcpy(hdr.magic, NP_FILE_MAGIC, sizeof(hdr.magic));
	err = write_all_v(w->fd, &iov, 1);
	if (err)
		goto fail;
	*out = w;
	return 0;
fail:
	if (w->fd >= 0)
		unlink(w->partial);
	np_writer_free(w);
	return err;
}

static int write_one_block(struct np_writer *w, uint16_t type, uint32_t record_bytes,
			   const void *payload, uint32_t count, uint32_t payload_bytes)
{
	struct np_block_header bh = {.magic = NP_BLOCK_MAGIC,
				     .type = type,
				     .record_bytes = record_bytes,
				     .count = count,
				     .payload_bytes = payload_bytes};
	struct iovec iov[2] = {{&bh, sizeof(bh)}, {(void *)payload, payload_bytes}};
	uLong crc = crc32(0L, (const Bytef *)&bh, sizeof(bh));

	/* zlib's crc32(crc, NULL, 0) returns 0, not crc. */
	if (payload_bytes)
		crc = crc32(crc, payload, payload_bytes);
	bh.crc32 = (uint32_t)crc;
	return write_all_v(w->fd, iov, payload_bytes ? 2 : 1);
}

int np_writer_block(struct np_writer *w, uint16_t type, uint32_t record_bytes, const void *records,
		    uint32_t count)
{
	const char *p = records;
	uint32_t per_block;

	if (w->error)
		return w->error;
	if (record_bytes == 0 || record_bytes > NP_BLOCK_MAX_PAYLOAD)
		return -EINVAL;
	per_block = NP_BLOCK_MAX_PAYLOAD / record_bytes;
	do {
		uint32_t n = count < per_block ? count : per_block;
		int err = write_one_block(w, type, record_bytes, p, n, n * record_bytes);

		if (err) {
			w->error = err;
			return err;
		}
		p += (size_t)n * record_bytes;
		count -= n;
	} while (count > 0);
	return 0;
}

int np_writer_meta(struct np_writer *w, const char *key, const char *value)
{
	return np_kvtext_put(&w->meta, key, value);
}

int np_writer_source(struct np_writer *w, const char *name, enum np_source_status status,
		     const char *fmt, ...)
{
	struct np_rec_source src = {.status = (uint32_t)status};
	va_list ap;

	snprintf(src.name, sizeof(src.name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(src.detail, sizeof(src.detail), fmt, ap);
	va_end(ap);
	return np_writer_block(w, NP_BLK_SOURCE, sizeof(src), &src, 1);
}

int np_writer_meta_u64(struct np_writer *w, const char *key, uint64_t value)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, value);
	return np_writer_meta(w, key, buf);
}

int np_writer_meta_flush(struct np_writer *w)
{
	int err;

	if (w->error)
		return w->error;
	if (w->meta.len > NP_BLOCK_MAX_PAYLOAD)
		return -E2BIG;
	err = write_one_block(w, NP_BLK_META, 0, w->meta.buf, 0, (uint32_t)w->meta.len);
	if (err)
		w->error = err;
	w->meta.len = 0;
	return err;
}

int np_writer_commit(struct np_writer *w)
{
	if (w->error)
		return w->error;
	if (fsync(w->fd) < 0 && errno != EINVAL)
		return -errno;
	if (rename(w->partial, w->path) < 0)
		return -errno;
	return 0;
}

const char *np_writer_partial_path(const struct np_writer *w)
{
	return w->partial;
}

void np_writer_free(struct np_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->path);
	free(w->partial);
	np_kvtext_fini(&w->meta);
	free(w);
}

/* ---- reader ---- */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_meta(struct np_recording *rec, const char *p, size_t len)
{
	size_t cap = rec->n_meta; /* at least: the array may hold more */

	return np_kvtext_parse(p, len, &rec->meta, &rec->n_meta, &cap);
}

static int thread_order(const void *a, const void *b)
{
	const struct np_rec_thread *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

/* Keep only the latest snapshot of each thread. */
static void latest_threads(struct np_recording *rec)
{
	size_t out = 0;

	if (!rec->n_threads)
		return;
	qsort(rec->threads, rec->n_threads, sizeof(*rec->threads), thread_order);
	for (size_t i = 0; i < rec->n_threads; i++) {
		if (i + 1 < rec->n_threads && rec->threads[i + 1].tid == rec->threads[i].tid)
			continue;
		rec->threads[out++] = rec->threads[i];
	}
	rec->n_threads = out;
}

/* Copy `count` records of `have` bytes into `dst` records of `want` bytes.
 * Records only grow between versions, so the caller has checked that
 * `have` >= `want`; the extra tail of a newer record is dropped. */
/* Records longer than this version's are cut; shorter ones (an older
 * version's, before fields were appended) are zero-filled. */
static void copy_records(void *dst, size_t want, const uint8_t *src, size_t have, uint32_t count)
{
	size_t n = have < want ? have : want;

	for (uint32_t i = 0; i < count; i++) {
		memcpy((char *)dst + (size_t)i * want, src + (size_t)i * have, n);
		memset((char *)dst + (size_t)i * want + n, 0, want - n);
	}
}

struct record_type {
	uint16_t type;
	uint32_t bytes; /* the record size this version reads */
	const char *what;
	/* The shortest record accepted: the size before fields were appended
	 * (0: `bytes`, nothing was appended). */
	uint32_t min_bytes;
};

/* Every block type this version reads.  Types not special-cased in
 * load_block() are kept whole in rec->blocks[type], in file order; a source
 * registers its types here and reads them back with np_recording_records(). */
static const struct record_type record_types[] = {
	{NP_BLK_SOURCE, sizeof(struct np_rec_source), "source", 0},
	{NP_BLK_SYS_EVENTS, sizeof(struct np_sys_event), "syscall event", 0},
	{NP_BLK_SYS_STATS, sizeof(struct np_rec_sys_stats), "syscall totals", 0},
	{NP_BLK_SYS_BASELINE, sizeof(struct np_rec_sys_stats), "syscall baseline", 0},
	{NP_BLK_THREADS, sizeof(struct np_rec_thread), "thread", 0},
	{NP_BLK_DROPS, sizeof(struct np_rec_drops), "drop counters", 0},
	{NP_BLK_END, sizeof(struct np_rec_end), "end", 0},
	{NP_BLK_PROCESSES, sizeof(struct np_rec_process), "process", 0},
	{NP_BLK_THREAD_PIDS, sizeof(struct np_rec_thread_pid), "thread's process", 0},
	{NP_BLK_CGROUP_CPU, sizeof(struct np_rec_cgroup_cpu), "cgroup CPU limit", 0},
	{NP_BLK_NET_CONFIG, 1, "network configuration", 0},
	{NP_BLK_SOCK_INFO, sizeof(struct np_rec_sock_info), "socket", 0},
	{NP_BLK_SOCK_PIDS, sizeof(struct np_rec_sock_pid), "socket's process", 0},
	{NP_BLK_LISTEN_HOLDERS, sizeof(struct np_rec_listen_holder), "listener's process", 0},
	{NP_BLK_SOCK_NETNS, sizeof(struct np_rec_sock_netns), "socket's network namespace", 0},
	{NP_BLK_SOCK_SAMPLE, sizeof(struct np_rec_sock_sample), "socket sample", 0},
	{NP_BLK_SOCK_SUMMARY, sizeof(struct np_rec_sock_summary), "socket summary", 0},
	{NP_BLK_NET_POLL, sizeof(struct np_rec_net_poll), "network poll", 0},
	{NP_BLK_IFACE, sizeof(struct np_rec_iface), "interface", 0},
	{NP_BLK_LINK_SAMPLE, sizeof(struct np_rec_link_sample), "link sample", 0},
	{NP_BLK_QDISC_SAMPLE, sizeof(struct np_rec_qdisc_sample), "qdisc sample", 0},
	{NP_BLK_ETHTOOL_NAME, sizeof(struct np_rec_ethtool_name), "ethtool name", 0},
	{NP_BLK_ETHTOOL_SAMPLE, sizeof(struct np_rec_ethtool_sample), "ethtool sample", 0},
	{NP_BLK_NETCPU_SAMPLE, sizeof(struct np_rec_netcpu_sample), "per-CPU network counters", 0},
	{NP_BLK_SNMP_SAMPLE, sizeof(struct np_rec_snmp_sample), "snmp sample", 0},
	{NP_BLK_IRQ_INFO, sizeof(struct np_rec_irq_info), "IRQ", 0},
	{NP_BLK_IRQ_SAMPLE, sizeof(struct np_rec_irq_sample), "IRQ sample", 0},
	{NP_BLK_CPU_SAMPLES, sizeof(struct np_rec_cpu_sample), "CPU sample", 0},
	{NP_BLK_STACK_NODES, sizeof(struct np_rec_stack_node), "stack node", 0},
	{NP_BLK_STACK_FRAMES, sizeof(struct np_rec_frame), "frame", 0},
	{NP_BLK_MODULES, sizeof(struct np_rec_module), "module", 0},
	{NP_BLK_STRINGS, 1, "string table", 0},
	{NP_BLK_CPU_STATS, sizeof(struct np_rec_cpu_stats), "CPU sampler totals", 0},
	{NP_BLK_SCHED_EVENTS, sizeof(struct np_sched_event), "thread state event", 0},
	{NP_BLK_SCHED_THREADS, sizeof(struct np_rec_sched_thread), "scheduler thread totals", 0},
	{NP_BLK_SCHED_OFFCPU, sizeof(struct np_rec_offcpu), "off-CPU wait", 0},
	{NP_BLK_SCHED_STATS, sizeof(struct np_rec_sched_stats), "scheduler totals", 0},
	{NP_BLK_XCH_CONFIG, sizeof(struct np_rec_xch_config), "exchange configuration", 0},
	{NP_BLK_XCH_EVENTS, sizeof(struct np_xch_event), "exchange",
	 offsetof(struct np_xch_event, tls_ns)},
	{NP_BLK_XCH_WINDOW, sizeof(struct np_rec_xch_window), "exchange window",
	 offsetof(struct np_rec_xch_window, d.tls_known)},
	{NP_BLK_XCH_REPLY_PARTS, sizeof(struct np_xch_event), "outbound reply part", 0},
	{NP_BLK_H2_CONNS, sizeof(struct np_rec_h2_conn), "HTTP/2 connection", 0},
	{NP_BLK_NET_REASONS, sizeof(struct np_rec_drop_reason), "drop reason name", 0},
	{NP_BLK_NET_EVENTS, sizeof(struct np_net_event), "kernel stack event", 0},
	{NP_BLK_NET_DROPS, sizeof(struct np_rec_net_drop), "drop location", 0},
	{NP_BLK_NET_SOFTIRQ, sizeof(struct np_rec_softirq), "softirq totals", 0},
	{NP_BLK_NET_TOTALS, sizeof(struct np_rec_net_totals), "kernel stack totals", 0},
	{NP_BLK_NET_REASON_COUNT, sizeof(struct np_rec_reason_count), "drops by reason", 0},
	{NP_BLK_GOV_CONFIG, sizeof(struct np_rec_gov_config), "overhead budget", 0},
	{NP_BLK_OVERHEAD, sizeof(struct np_rec_overhead), "overhead measurement", 0},
	{NP_BLK_SHED, sizeof(struct np_rec_shed), "shed action", 0},
	{NP_BLK_BPF_COST, sizeof(struct np_rec_bpf_cost), "BPF program cost", 0},
};

static int load_generic(struct np_rec_array *a, const struct record_type *rt,
			const struct np_block_header *bh, const uint8_t *payload)
{
	void *arr = a->data;

	if (np_grow(&arr, &a->cap, a->n + bh->count, rt->bytes))
		return -ENOMEM;
	a->data = arr;
	a->record_bytes = rt->bytes;
	copy_records(a->data + a->n * rt->bytes, rt->bytes, payload, bh->record_bytes, bh->count);
	a->n += bh->count;
	return 0;
}

static int load_block(struct np_recording *rec, const struct np_block_header *bh,
		      const uint8_t *payload, size_t *caps, uint64_t off, char *err, size_t errlen)
{
	const struct record_type *ms = NULL;

	if (bh->type == NP_BLK_META)
		return parse_meta(rec, (const char *)payload, bh->payload_bytes);
	for (size_t i = 0; i < sizeof(record_types) / sizeof(record_types[0]); i++)
		if (record_types[i].type == bh->type)
			ms = &record_types[i];
	if (!ms || bh->type >= NP_BLK_TYPE_MAX)
		return 0; /* a block type from a later version: skip it */
	if (bh->record_bytes < (ms->min_bytes ? ms->min_bytes : ms->bytes))
		return fail(err, errlen,
			    "corrupt recording: %s records of %u bytes (need %u) at offset "
			    "%" PRIu64,
			    ms->what, bh->record_bytes, ms->min_bytes ? ms->min_bytes : ms->bytes,
			    off);
	if ((uint64_t)bh->record_bytes * bh->count != bh->payload_bytes)
		return fail(err, errlen,
			    "corrupt recording: block length mismatch at offset %" PRIu64, off);
	if (bh->count == 0)
		return 0;

	switch (bh->type) {
	case NP_BLK_SOURCE:
		/* A handful per recording; a flood can only be crafted. */
		if (rec->n_sources + bh->count > NP_MAX_SOURCES)
			return fail(err, errlen, "corrupt recording: %" PRIu64 " sources",
				    (uint64_t)rec->n_sources + bh->count);
		if (NP_GROW(rec->sources, caps[0], rec->n_sources + bh->count))
			return -ENOMEM;
		copy_records(rec->sources + rec->n_sources, ms->bytes, payload, bh->record_bytes,
			     bh->count);
		for (uint32_t i = 0; i < bh->count; i++) {
			struct np_rec_source *s = &rec->sources[rec->n_sources + i];

			s->name[sizeof(s->name) - 1] = '\0';
			s->detail[sizeof(s->detail) - 1] = '\0';
		}
		rec->n_sources += bh->count;
		break;
	case NP_BLK_SYS_EVENTS:
		if (NP_GROW(rec->events, caps[1], rec->n_events + bh->count))
			return -ENOMEM;
		copy_records(rec->events + rec->n_events, ms->bytes, payload, bh->record_bytes,
			     bh->count);
		rec->n_events += bh->count;
		break;
	case NP_BLK_THREADS:
		if (NP_GROW(rec->threads, caps[2], rec->n_threads + bh->count))
			return -ENOMEM;
		copy_records(rec->threads + rec->n_threads, ms->bytes, payload, bh->record_bytes,
			     bh->count);
		for (uint32_t i = 0; i < bh->count; i++)
			rec->threads[rec->n_threads + i].comm[15] = '\0';
		rec->n_threads += bh->count;
		/* Every snapshot is also kept, in file order, for per-second
		 * values (rec->threads keeps only the latest per thread). */
		return load_generic(&rec->blocks[bh->type], ms, bh, payload);
	case NP_BLK_SYS_STATS:
		for (uint32_t i = 0; i < bh->count; i++) {
			struct np_rec_sys_stats s;

			memcpy(&s, payload + (size_t)i * bh->record_bytes, sizeof(s));
			if (s.sys >= NP_SYS_COUNT)
				continue; /* a syscall a later version traces */
			rec->sys_stats[s.sys] = s;
			rec->have_sys_stats = true;
		}
		/* and the whole history, as for threads */
		return load_generic(&rec->blocks[bh->type], ms, bh, payload);
	case NP_BLK_DROPS:
		memcpy(&rec->drops, payload + (size_t)(bh->count - 1) * bh->record_bytes,
		       sizeof(rec->drops));
		break;
	case NP_BLK_END:
		memcpy(&rec->end, payload, sizeof(rec->end));
		rec->have_end = true;
		break;
	default:
		return load_generic(&rec->blocks[bh->type], ms, bh, payload);
	}
	return 0;
}

static void sanitize_sources(struct np_recording *rec)
{
	/* Keep the latest status of each source name. */
	size_t out = 0;

	for (size_t i = 0; i < rec->n_sources; i++) {
		size_t j;

		for (j = 0; j < out; j++)
			if (!strcmp(rec->sources[j].name, rec->sources[i].name))
				break;
		rec->sources[j] = rec->sources[i];
		if (j == out)
			out++;
	}
	rec->n_sources = out;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void sys_stats_sub(struct np_sys_stats *s, const struct np_sys_stats *base)
{
	int top = -1;

	s->count = sub0(s->count, base->count);
	s->errors = sub0(s->errors, base->errors);
	s->eagain = sub0(s->eagain, base->eagain);
	s->bytes = sub0(s->bytes, base->bytes);
	s->total_ns = sub0(s->total_ns, base->total_ns);
	for (int b = 0; b < NP_HIST_BUCKETS; b++) {
		s->hist[b] = sub0(s->hist[b], base->hist[b]);
		if (s->hist[b])
			top = b;
	}
	/* A maximum does not subtract.  Above the baseline's it was reached
	 * in the window; otherwise it may predate it, and the window's
	 * slowest call is known only to lie in its highest bucket (bucket b
	 * holds 2^b <= ns < 2^(b+1)). */
	if (s->max_ns <= base->max_ns) {
		uint64_t bound = top < 0 ? 0 : (2ull << top) - 1;

		if (bound < s->max_ns)
			s->max_ns = bound;
	}
}

/* The syscall programs attach before the other sources, so their totals
 * count calls from before the window opened: every snapshot becomes a
 * delta from the baseline taken as it opened.  A recording from before the
 * baseline existed keeps its totals, as it was reported then. */
static void subtract_sys_baseline(struct np_recording *rec)
{
	size_t n_base;
	const struct np_rec_sys_stats *base = np_recording_records(rec, NP_BLK_SYS_BASELINE,
								   &n_base);
	struct np_rec_array *hist = &rec->blocks[NP_BLK_SYS_STATS];

	for (size_t i = 0; i < n_base; i++) {
		uint16_t sys = base[i].sys;

		if (sys < NP_SYS_COUNT && rec->sys_stats[sys].ts_ns)
			sys_stats_sub(&rec->sys_stats[sys].stats, &base[i].stats);
		for (size_t k = 0; k < hist->n; k++) {
			struct np_rec_sys_stats *h =
				(struct np_rec_sys_stats *)(hist->data + k * hist->record_bytes);

			if (h->sys == sys)
				sys_stats_sub(&h->stats, &base[i].stats);
		}
	}
}

int np_recording_parse(const uint8_t *data, size_t len, struct np_recording **out, char *err,
		       size_t errlen)
{
	struct np_file_header fh;
	struct np_recording *rec;
	size_t caps[3] = {0, 0, 0};
	bool have_meta = false;
	uint64_t off;
	int rc;

	if (len < sizeof(fh))
		return fail(err, errlen, "not a netprof recording (file too short)");
	memcpy(&fh, data, sizeof(fh));
	if (memcmp(fh.magic, NP_FILE_MAGIC, sizeof(fh.magic)))
		return fail(err, errlen, "not a netprof recording (bad magic)");
	if (fh.byte_order != NP_BYTE_ORDER_MARK)
		return fail(err, errlen,
			    "recording was made on a host of the other byte order; report it "
			    "there");
	if (fh.version > NP_RECORDING_VERSION) {
		if (errlen)
			snprintf(err, errlen,
				 "recording format version %u is newer than this netprof reads "
				 "(%u): "
				 "use a newer netprof",
				 fh.version, NP_RECORDING_VERSION);
		return -ENOTSUP;
	}
	if (fh.version == 0 || fh.header_bytes < sizeof(fh) || fh.header_bytes > len)
		return fail(err, errlen, "corrupt recording: bad file header");

	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->version = fh.version;
	off = fh.header_bytes;
	rc = 0;
	while (off < len) {
		struct np_block_header bh, zeroed;
		uLong crc;

		if (len - off < sizeof(bh)) {
			rec->truncated = true;
			break;
		}
		memcpy(&bh, data + off, sizeof(bh));
		if (bh.magic != NP_BLOCK_MAGIC) {
			rc = fail(err, errlen,
				  "corrupt recording: no block marker at offset %" PRIu64, off);
			goto out;
		}
		if (bh.payload_bytes > NP_BLOCK_MAX_PAYLOAD) {
			rc = fail(err, errlen,
				  "corrupt recording: block of %u bytes at offset %" PRIu64,
				  bh.payload_bytes, off);
			goto out;
		}
		if (len - off - sizeof(bh) < bh.payload_bytes) {
			rec->truncated = true;
			break;
		}
		zeroed = bh;
		zeroed.crc32 = 0;
		crc = crc32(0L, (const Bytef *)&zeroed, sizeof(zeroed));
		if (bh.payload_bytes)
			crc = crc32(crc, data + off + sizeof(bh), bh.payload_bytes);
		if ((uint32_t)crc != bh.crc32) {
			rc = fail(err, errlen,
				  "corrupt recording: checksum mismatch in block at offset "
				  "%" PRIu64,
				  off);
			goto out;
		}
		if (!have_meta && bh.type != NP_BLK_META) {
			rc = fail(err, errlen, "corrupt recording: first block is not metadata");
			goto out;
		}
		have_meta = true;
		rc = load_block(rec, &bh, data + off + sizeof(bh), caps, off, err, errlen);
		if (rc == -ENOMEM && errlen)
			snprintf(err, errlen, "out of memory reading the recording");
		if (rc)
			goto out;
		off += sizeof(bh) + bh.payload_bytes;
		rec->complete_bytes = off;
	}
	if (!have_meta) {
		rc = rec->truncated
			     ? fail(err, errlen,
				    "recording cut short before its metadata: nothing to report")
			     : fail(err, errlen, "not a netprof recording (no metadata block)");
		goto out;
	}
	if (!rec->have_end)
		rec->truncated = true;
	sanitize_sources(rec);
	latest_threads(rec);
	subtract_sys_baseline(rec);
out:
	if (rc) {
		np_recording_free(rec);
		return rc;
	}
	*out = rec;
	return 0;
}

int np_recording_read(const char *path, struct np_recording **out, char *err, size_t errlen)
{
	struct stat st;
	void *map;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > NP_RECORDING_MAX_BYTES) {
		snprintf(err, errlen, "%s is too large to be a recording (%lld bytes)", path,
			 (long long)st.st_size);
		close(fd);
		return -EFBIG;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "%s is empty: not a netprof recording", path);
		close(fd);
		return -EINVAL;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "cannot map %s: %s", path, strerror(errno));
		return rc;
	}
	rc = np_recording_parse(map, (size_t)st.st_size, out, err, errlen);
	munmap(map, (size_t)st.st_size);
	return rc;
}

void np_recording_free(struct np_recording *rec)
{
	if (!rec)
		return;
	for (size_t i = 0; i < rec->n_meta; i++) {
		free(rec->meta[i].key);
		free(rec->meta[i].value);
	}
	free(rec->meta);
	free(rec->sources);
	free(rec->events);
	free(rec->threads);
	for (size_t i = 0; i < NP_BLK_TYPE_MAX; i++)
		free(rec->blocks[i].data);
	free(rec);
}

const void *np_recording_records(const struct np_recording *rec, uint16_t type, size_t *n)
{
	if (type >= NP_BLK_TYPE_MAX || !rec->blocks[type].n) {
		*n = 0;
		return NULL;
	}
	*n = rec->blocks[type].n;
	return rec->blocks[type].data;
}

const char *np_recording_meta(const struct np_recording *rec, const char *key)
{
	for (size_t i = rec->n_meta; i-- > 0;)
		if (!strcmp(rec->meta[i].key, key))
			return rec->meta[i].value;
	return NULL;
}

uint64_t np_recording_meta_u64(const struct np_recording *rec, const char *key, uint64_t dflt)
{
	const char *v = np_recording_meta(rec, key);
	char *end;
	unsigned long long n;

	if (!v || *v < '0' || *v > '9')
		return dflt;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end)
		return dflt;
	return n;
}
