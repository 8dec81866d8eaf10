/* cpu_report.c - the CPU part of the report (see cpu_report.h).
 *
 * Samples are first counted per (thread, leaf node), so each distinct stack
 * is walked once however many samples share it.  A function's self time is
 * the samples whose innermost logical frame it is; its total time the
 * samples with it anywhere on the stack, counted once per sample even when
 * it recurses.  Everything read from the recording is checked: a node,
 * pc or string offset that points nowhere becomes "[unknown]", never a
 * crash, since recordings come from anywhere.
 */
#include "report/model/cpu_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/base/hashtab.h"
#include "profiler/format/frameclass.h"
#include "report/model/report_model.h"
#include "report/model/values.h"

/* Deeper stacks are cut (a corrupt parent chain cannot loop forever). */
#define MAX_DEPTH 512

static const char *const reason_names[NP_OFF_COUNT] = {
	"network", "readiness wait", "lock (futex)", "disk I/O", "sleep", "other",
};

static const char *const reason_keys[NP_OFF_COUNT] = {
	"network_ns", "readiness_wait_ns", "lock_ns", "disk_ns", "sleep_ns", "other_ns",
};

const char *np_off_reason_name(unsigned int reason)
{
	return reason < NP_OFF_COUNT ? reason_names[reason] : "?";
}

static const char *str_at(const struct np_cpu_report *c, uint32_t off)
{
	if (!off || off >= c->strings_len)
		return "";
	/* the table is NUL-terminated by the reader's copy below */
	return c->strings + off;
}

static char *own(struct np_cpu_report *c, char *s)
{
	if (!s)
		return NULL;
	if (c->n_owned == c->cap_owned) {
		size_t cap = c->cap_owned ? c->cap_owned * 2 : 256;
		void *p = reallocarray(c->owned, cap, sizeof(*c->owned));

		if (!p) {
			free(s);
			return NULL;
		}
		c->owned = p;
		c->cap_owned = cap;
	}
	c->owned[c->n_owned++] = s;
	return s;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* ---- decoding the stack tables ---- */

struct modinfo {
	const char *name;
	uint32_t flags;
};

static int decode_frames(const struct np_recording *rec, struct np_cpu_report *c)
{
	size_t n_frames, n_mods;
	const struct np_rec_frame *fr = np_recording_records(rec, NP_BLK_STACK_FRAMES, &n_frames);
	const struct np_rec_module *mods = np_recording_records(rec, NP_BLK_MODULES, &n_mods);
	struct modinfo *mi = NULL;
	uint32_t max_mod = 0, max_pc = 0;

	for (size_t i = 0; i < n_mods; i++)
		if (mods[i].id > max_mod && mods[i].id < (1u << 20))
			max_mod = mods[i].id;
	for (size_t i = 0; i < n_frames; i++)
		if (fr[i].pc > max_pc && fr[i].pc <= c->n_nodes * 2 + n_frames)
			max_pc = fr[i].pc;
	mi = calloc((size_t)max_mod + 1, sizeof(*mi));
	c->frames = calloc(n_frames ? n_frames : 1, sizeof(*c->frames));
	c->pc_first = calloc((size_t)max_pc + 1, sizeof(*c->pc_first));
	c->pc_count = calloc((size_t)max_pc + 1, sizeof(*c->pc_count));
	if (!mi || !c->frames || !c->pc_first || !c->pc_count) {
		free(mi);
		return -ENOMEM;
	}
	c->n_pcs = max_pc;
	for (size_t i = 0; i < n_mods; i++)
		if (mods[i].id <= max_mod)
			mi[mods[i].id] = (struct modinfo){basename_of(str_at(c, mods[i].name)),
							  mods[i].flags};
	/* Frames of one pc are written together, index 0 first. */
	for (size_t i = 0; i < n_frames; i++) {
		const struct np_rec_frame *f = &fr[i];
		struct np_cpu_frame *out = &c->frames[i];
		const char *module = f->module <= max_mod && mi[f->module].name ? mi[f->module].name
										: "";
		const char *fn = str_at(c, f->function);

		out->module = module;
		out->file = f->file ? str_at(c, f->file) : NULL;
		out->line = f->line;
		out->cls = f->cls < NP_CLS_COUNT ? f->cls : NP_CLS_KERNEL;
		out->flags = f->flags;
		if (fn[0]) {
			out->name = fn;
		} else if (f->flags & NP_FR_JIT) {
			char *s = NULL;

			if (asprintf(&s, "[jit]+0x%" PRIx64, f->offset) < 0)
				s = NULL;
			out->name = own(c, s);
		} else if (module[0]) {
			char *s = NULL;

			if (asprintf(&s, "%s+0x%" PRIx64, module, f->offset) < 0)
				s = NULL;
			out->name = own(c, s);
		} else {
			out->name = NULL;
		}
		if (!out->name)
			out->name = "[unknown]";
		if (f->pc == 0 || f->pc > max_pc)
			continue;
		if (!c->pc_count[f->pc - 1] || f->index == 0) {
			c->pc_first[f->pc - 1] = (uint32_t)i;
			c->pc_count[f->pc - 1] = 0;
		}
		/* count only a consecutive run that belongs to this pc */
		if (c->pc_first[f->pc - 1] + c->pc_count[f->pc - 1] == i)
			c->pc_count[f->pc - 1]++;
	}
	free(mi);
	return 0;
}

size_t np_cpu_stack(const struct np_cpu_report *c, uint32_t node, const struct np_cpu_frame **out,
		    size_t max)
{
	static const struct np_cpu_frame unknown = {.name = "[unknown]",
						    .module = "",
						    .cls = NP_CLS_KERNEL};
	size_t n = 0, depth = 0;

	while (node && node <= c->n_nodes && n < max && depth++ < MAX_DEPTH) {
		const struct np_rec_stack_node *nd = &c->nodes[node - 1];
		uint32_t pc = nd->pc;

		if (pc && pc <= c->n_pcs && c->pc_count[pc - 1]) {
			/* innermost inlined frame first */
			for (uint32_t k = c->pc_count[pc - 1]; k-- > 0 && n < max;)
				out[n++] = &c->frames[c->pc_first[pc - 1] + k];
		} else {
			out[n++] = &unknown;
		}
		/* parents are always older: a parent id >= the child's is damage */
		if (nd->parent >= node)
			break;
		node = nd->parent;
	}
	return n;
}

/* ---- aggregation ---- */

/* Function table: the functions in the order first seen, found by the hash
 * of (name, module) (base/hashtab.h); two functions of one hash are told
 * apart by their strings, the second one probed for at key + 1. */
struct fntab {
	struct np_cpu_fn *v;
	size_t n, cap;
	struct np_hashtab ids; /* hash -> index + 1 */
	uint64_t *seen_gen;    /* per function: last sample generation counted in total */
};

static struct np_cpu_fn *fn_get(struct fntab *t, const struct np_cpu_frame *f, size_t *idx)
{
	uint64_t key = np_hash_bytes(NP_HASH_BYTES_INIT, f->name, strlen(f->name) + 1);
	uint32_t v;

	key = np_hash_bytes(key, f->module, strlen(f->module));
	for (; (v = np_hashtab_get(&t->ids, key)); key++) {
		struct np_cpu_fn *fn = &t->v[v - 1];

		if (!strcmp(fn->name, f->name) && !strcmp(fn->module, f->module)) {
			*idx = v - 1;
			return fn;
		}
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		void *p = reallocarray(t->v, cap, sizeof(*t->v));
		void *q = reallocarray(t->seen_gen, cap, sizeof(*t->seen_gen));

		if (p)
			t->v = p;
		if (q)
			t->seen_gen = q;
		if (!p || !q)
			return NULL;
		t->cap = cap;
	}
	if (t->n >= NP_HASHTAB_MAX_VALUE || np_hashtab_put(&t->ids, key, (uint32_t)t->n + 1))
		return NULL;
	t->v[t->n] = (struct np_cpu_fn){.name = f->name, .module = f->module, .cls = f->cls};
	t->seen_gen[t->n] = 0;
	*idx = t->n;
	return &t->v[t->n++];
}

static int by_self_desc(const void *a, const void *b)
{
	const struct np_cpu_fn *x = a, *y = b;

	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Adds `weight` samples of one stack to a function table. */
static void add_stack(struct fntab *t, const struct np_cpu_frame **st, size_t n, uint64_t weight,
		      uint64_t gen)
{
	for (size_t i = 0; i < n; i++) {
		size_t idx;
		struct np_cpu_fn *fn = fn_get(t, st[i], &idx);

		if (!fn)
			return;
		if (i == 0)
			fn->self += weight;
		if (t->seen_gen[idx] != gen) { /* once per stack, even when recursing */
			t->seen_gen[idx] = gen;
			fn->total += weight;
		}
	}
}

static void fntab_fini(struct fntab *t)
{
	free(t->v);
	np_hashtab_fini(&t->ids);
	free(t->seen_gen);
}

/* Samples in code without a symbol (a stripped library's local functions:
 * Debian's libcrypto.so.3 keeps only its exported .dynsym) would each be a
 * function of their own, "libcrypto.so.3+0x130dfb", one per address and
 * none of them large, so the tables of top functions would show noise and
 * the hottest code would look cold.  The function tables count them
 * instead under one name per module and innermost named function of that
 * module that called into them on the stack,
 * "[libcrypto.so.3 under BN_mod_exp_mont_consttime]", or
 * "[libcrypto.so.3 without symbol]" when the stack has none.  The stacks
 * themselves (folded, flame graphs) keep every address. */
struct unnamed_groups {
	/* one frame per group (each its own allocation: the stacks being
	 * counted point at them while the table grows), names owned by the
	 * report */
	struct np_cpu_frame **v;
	const char **caller; /* per group: the caller's name it was made for */
	size_t n, cap;
	struct np_hashtab ids; /* hash of (module, caller) pointers -> index + 1 */
};

static bool is_unnamed_user(const struct np_cpu_frame *f)
{
	return (f->flags & NP_FR_NOSYM) && !(f->flags & (NP_FR_JIT | NP_FR_UNMAPPED)) &&
	       (f->cls == NP_CLS_APP || f->cls == NP_CLS_LIB) && f->module[0];
}

static const struct np_cpu_frame *unnamed_group(struct np_cpu_report *c, struct unnamed_groups *g,
						const struct np_cpu_frame *f, const char *caller)
{
	uint64_t key = np_hash64((uint64_t)(uintptr_t)f->module ^
				 np_hash64((uint64_t)(uintptr_t)caller));
	struct np_cpu_frame *out;
	uint32_t v;
	char *name = NULL;

	for (; (v = np_hashtab_get(&g->ids, key)); key++)
		if (g->v[v - 1]->module == f->module && g->caller[v - 1] == caller)
			return g->v[v - 1];
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		void *p = reallocarray(g->v, cap, sizeof(*g->v));
		void *q = reallocarray(g->caller, cap, sizeof(*g->caller));

		if (p)
			g->v = p;
		if (q)
			g->caller = q;
		if (!p || !q)
			return NULL;
		g->cap = cap;
	}
	if (caller ? asprintf(&name, "[%s under %s]", f->module, caller) < 0
		   : asprintf(&name, "[%s without symbol]", f->module) < 0)
		name = NULL;
	if (!own(c, name) || g->n >= NP_HASHTAB_MAX_VALUE)
		return NULL;
	out = malloc(sizeof(*out));
	if (!out || np_hashtab_put(&g->ids, key, (uint32_t)g->n + 1)) {
		free(out);
		return NULL;
	}
	g->v[g->n] = out;
	*out = *f;
	out->name = name;
	out->file = NULL;
	out->line = 0;
	g->caller[g->n++] = caller;
	return out;
}

/* Replaces the stack's unnamed user frames by their groups (see above).
 * One pass from the outermost frame in: within a run of frames of one
 * module, `caller` is the innermost named one seen so far. */
static int group_unnamed(struct np_cpu_report *c, struct unnamed_groups *g,
			 const struct np_cpu_frame **st, size_t n)
{
	const char *module = NULL, *caller = NULL;

	for (size_t k = n; k-- > 0;) {
		const struct np_cpu_frame *f = st[k];

		if (!module || strcmp(f->module, module)) {
			module = f->module;
			caller = NULL;
		}
		if (!(f->flags & NP_FR_NOSYM)) {
			caller = f->name;
		} else if (is_unnamed_user(f)) {
			st[k] = unnamed_group(c, g, f, caller);
			if (!st[k])
				return -ENOMEM;
		}
	}
	return 0;
}

static void unnamed_groups_fini(struct unnamed_groups *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i]);
	free(g->v);
	free(g->caller);
	np_hashtab_fini(&g->ids);
}

struct leaf_count {
	uint32_t tid, node;
	uint16_t flags;
	uint64_t n;
};

static int by_tid_node(const void *a, const void *b)
{
	const struct leaf_count *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return x->flags < y->flags ? -1 : x->flags > y->flags;
}

/* Where an interrupt or softirq begins on a kernel stack: the code below it
 * (leaf side) is not called by the code above it. */
static bool context_entry(const struct np_cpu_frame *f)
{
	static const char *const entries[] = {"asm_",     "sysvec_",    "common_interrupt",
					      "irq_exit", "__irq_exit", "do_IRQ"};

	if (f->flags & NP_FR_SOFTIRQ)
		return true;
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (!strncmp(f->name, entries[i], strlen(entries[i])))
			return true;
	return false;
}

uint8_t np_cpu_sample_class(const struct np_cpu_frame *const *st, size_t n)
{
	if (st[0]->cls != NP_CLS_KERNEL)
		return st[0]->cls;
	for (size_t i = 0; i < n; i++) {
		if (i && st[i]->cls == NP_CLS_KNET)
			return NP_CLS_KNET;
		/* netprof's own probes are its cost, not the stack's */
		if (!(st[i]->flags & NP_FR_KERNEL) || context_entry(st[i]) ||
		    np_cpu_frame_is_tracer(st[i]->name))
			break;
	}
	return NP_CLS_KERNEL;
}

static bool in_softirq(const struct np_cpu_frame **st, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (st[i]->flags & NP_FR_SOFTIRQ)
			return true;
	return false;
}

static int build_profile(const struct np_recording *rec, struct np_cpu_report *c)
{
	size_t n_samples;
	const struct np_rec_cpu_sample *s = np_recording_records(rec, NP_BLK_CPU_SAMPLES,
								 &n_samples);
	const struct np_cpu_frame **st = malloc(MAX_DEPTH * sizeof(*st));
	struct leaf_count *lc = calloc(n_samples ? n_samples : 1, sizeof(*lc));
	struct fntab all = {0}, per = {0};
	struct unnamed_groups groups = {0};
	size_t n_lc = 0, i = 0;
	uint64_t gen = 0;
	int rc = 0;

	if (!st || !lc) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < n_samples; k++)
		lc[k] = (struct leaf_count){s[k].tid, s[k].node,
					    (uint16_t)(s[k].flags &
						       (NP_CS_TRUNCATED | NP_CS_UNWIND_ERR |
							NP_CS_NO_USER | NP_CS_NO_SPACE)),
					    1};
	qsort(lc, n_samples, sizeof(*lc), by_tid_node);
	for (size_t k = 0; k < n_samples; k++) {
		if (n_lc && lc[n_lc - 1].tid == lc[k].tid && lc[n_lc - 1].node == lc[k].node &&
		    lc[n_lc - 1].flags == lc[k].flags)
			lc[n_lc - 1].n++;
		else
			lc[n_lc++] = lc[k];
	}
	c->samples = n_samples;
	while (i < n_lc) {
		uint32_t tid = lc[i].tid;
		struct np_cpu_thread *th;
		void *p = reallocarray(c->threads, c->n_threads + 1, sizeof(*c->threads));

		if (!p) {
			rc = -ENOMEM;
			goto out;
		}
		c->threads = p;
		th = &c->threads[c->n_threads++];
		memset(th, 0, sizeof(*th));
		th->tid = tid;
		per.n = 0; /* reuse the functions' memory, emptied */
		np_hashtab_fini(&per.ids);
		for (; i < n_lc && lc[i].tid == tid; i++) {
			size_t n = np_cpu_stack(c, lc[i].node, st, MAX_DEPTH);

			gen++;
			th->samples += lc[i].n;
			if (lc[i].flags & NP_CS_NO_SPACE)
				th->no_space += lc[i].n;
			if (!lc[i].flags)
				c->full_chain += lc[i].n;
			if (n) {
				uint8_t cls = np_cpu_sample_class(st, n);

				th->by_class[cls] += lc[i].n;
				c->by_class[cls] += lc[i].n;
				if (in_softirq(st, n)) {
					th->softirq += lc[i].n;
					c->softirq += lc[i].n;
				}
			}
			rc = group_unnamed(c, &groups, st, n);
			if (rc)
				goto out;
			add_stack(&all, st, n, lc[i].n, gen);
			add_stack(&per, st, n, lc[i].n, gen);
		}
		if (per.n)
			qsort(per.v, per.n, sizeof(*per.v), by_self_desc);
		th->n_top = per.n < NP_CPU_TOP ? per.n : NP_CPU_TOP;
		th->top = calloc(th->n_top ? th->n_top : 1, sizeof(*th->top));
		if (!th->top) {
			rc = -ENOMEM;
			goto out;
		}
		if (th->n_top)
			memcpy(th->top, per.v, th->n_top * sizeof(*th->top));
	}
	if (all.n)
		qsort(all.v, all.n, sizeof(*all.v), by_self_desc);
	c->fns = all.v;
	c->n_fns = all.n;
	all.v = NULL;
out:
	fntab_fini(&all);
	fntab_fini(&per);
	unnamed_groups_fini(&groups);
	free(lc);
	free(st);
	return rc;
}

static int by_offcpu_total(const void *a, const void *b)
{
	const struct np_offcpu_row *x = a, *y = b;

	if (x->total_ns != y->total_ns)
		return x->total_ns < y->total_ns ? 1 : -1;
	return x->node < y->node ? -1 : x->node > y->node;
}

static int by_offcpu_key(const void *a, const void *b)
{
	const struct np_offcpu_row *x = a, *y = b;

	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	if (x->sys != y->sys)
		return x->sys < y->sys ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

static int by_thread_wait(const void *a, const void *b)
{
	const struct np_offcpu_row *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	if (x->sys != y->sys)
		return x->sys < y->sys ? -1 : 1;
	return x->kstack < y->kstack ? -1 : x->kstack > y->kstack;
}

/* The tracer takes a thread's stack at most every few ms: spread the time
 * of the blocks it did not take over the stacks it took for the same
 * thread, reason and syscall, in proportion (a sample, like CPU samples). */
static size_t spread_unsampled(struct np_offcpu_row *v, size_t n)
{
	size_t out = 0;

	qsort(v, n, sizeof(*v), by_thread_wait);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint64_t sampled_ns = 0, sampled_n = 0, un_ns = 0, un_n = 0, un_max = 0;

		while (j < n && v[j].tid == v[i].tid && v[j].reason == v[i].reason &&
		       v[j].sys == v[i].sys)
			j++;
		for (size_t k = i; k < j; k++) {
			if (v[k].kstack == NP_KSTACK_UNSAMPLED) {
				un_ns += v[k].total_ns;
				un_n += v[k].count;
				if (v[k].max_ns > un_max)
					un_max = v[k].max_ns;
			} else if (v[k].kstack >= 0) {
				sampled_ns += v[k].total_ns;
				sampled_n += v[k].count;
			}
		}
		for (size_t k = i; k < j; k++) {
			struct np_offcpu_row r = v[k];

			if (r.kstack == NP_KSTACK_UNSAMPLED) {
				if (sampled_ns)
					continue; /* spread below */
				r.unsampled = true;
			} else if (r.kstack >= 0 && sampled_ns && un_ns) {
				double share = (double)r.total_ns / (double)sampled_ns;

				r.total_ns += (uint64_t)((double)un_ns * share + 0.5);
				r.count += sampled_n
						   ? (uint64_t)((double)un_n * (double)v[k].count /
									(double)sampled_n +
								0.5)
						   : 0;
				r.estimated = true;
			}
			v[out++] = r;
		}
		(void)un_max;
		i = j;
	}
	return out;
}

static int build_offcpu(const struct np_recording *rec, struct np_cpu_report *c)
{
	size_t n, out = 0;
	const struct np_rec_offcpu *o = np_recording_records(rec, NP_BLK_SCHED_OFFCPU, &n);

	if (!n)
		return 0;
	c->offcpu = calloc(n, sizeof(*c->offcpu));
	if (!c->offcpu)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		c->offcpu[i] = (struct np_offcpu_row){
			.reason = o[i].reason < NP_OFF_COUNT ? o[i].reason : NP_OFF_OTHER,
			.sys = o[i].sys,
			.node = o[i].node,
			.count = o[i].count,
			.total_ns = o[i].total_ns,
			.max_ns = o[i].max_ns,
			.threads = 1,
			.tid = o[i].tid,
			.kstack = o[i].kstack,
		};
	n = spread_unsampled(c->offcpu, n);
	/* the same wait in several threads is one row */
	qsort(c->offcpu, n, sizeof(*c->offcpu), by_offcpu_key);
	for (size_t i = 0; i < n; i++) {
		struct np_offcpu_row *r = &c->offcpu[i];

		if (out && !by_offcpu_key(&c->offcpu[out - 1], r) &&
		    c->offcpu[out - 1].unsampled == r->unsampled) {
			struct np_offcpu_row *m = &c->offcpu[out - 1];

			m->count += r->count;
			m->total_ns += r->total_ns;
			if (r->max_ns > m->max_ns)
				m->max_ns = r->max_ns;
			m->threads++;
			m->estimated |= r->estimated;
			continue;
		}
		c->offcpu[out++] = *r;
	}
	c->n_offcpu = out;
	for (size_t i = 0; i < out; i++) {
		char key[32];

		snprintf(key, sizeof(key), "syscall.%d", c->offcpu[i].sys);
		c->offcpu[i].sys_name = c->offcpu[i].sys >= 0 ? np_recording_meta(rec, key) : NULL;
	}
	qsort(c->offcpu, out, sizeof(*c->offcpu), by_offcpu_total);
	return 0;
}

/* The scheduler's latest snapshot of each thread, in the recording's
 * order, and the off-CPU totals by reason over them.  The thread table of
 * the report (analyze.c) merges these rows; this file never touches it. */
static int build_sched_threads(const struct np_recording *rec, struct np_cpu_report *c)
{
	size_t n;
	const struct np_rec_sched_thread *st = np_recording_records(rec, NP_BLK_SCHED_THREADS, &n);

	for (size_t i = 0; i < n; i++) {
		const struct np_rec_sched_thread *t = &st[i];
		struct np_cpu_sched_thread *row;

		/* later snapshots of a thread replace earlier ones */
		for (size_t k = i + 1; k < n; k++)
			if (st[k].tid == t->tid && st[k].ts_ns >= t->ts_ns)
				goto next;
		if (!c->sched_threads) {
			c->sched_threads = calloc(n, sizeof(*c->sched_threads));
			if (!c->sched_threads)
				return -ENOMEM;
		}
		row = &c->sched_threads[c->n_sched_threads++];
		row->tid = t->tid;
		memcpy(row->comm, t->comm, sizeof(row->comm));
		row->comm[15] = '\0';
		row->exited = t->flags & NP_SCHED_THREAD_EXITED;
		row->window_ns = t->last_ns > t->first_ns ? t->last_ns - t->first_ns : 0;
		row->on_cpu_ns = t->on_cpu_ns;
		row->runnable_ns = t->runq_ns;
		for (int k = 0; k < NP_OFF_COUNT; k++) {
			row->off_by_reason_ns[k] = t->off_ns[k];
			row->off_cpu_ns += t->off_ns[k];
			c->off_ns[k] += t->off_ns[k];
		}
		row->switches_vol = t->switches_vol;
		row->switches_invol = t->switches_invol;
		row->wakeups = t->wakeups;
next:;
	}
	return 0;
}

int np_cpu_report_build(const struct np_recording *rec, struct np_cpu_report **out)
{
	struct np_cpu_report *c;
	size_t n, n_stats, n_sstats;
	const struct np_rec_cpu_stats *stats = np_recording_records(rec, NP_BLK_CPU_STATS,
								    &n_stats);
	const struct np_rec_sched_stats *sstats = np_recording_records(rec, NP_BLK_SCHED_STATS,
								       &n_sstats);
	const char *strings;
	int rc;

	np_recording_records(rec, NP_BLK_CPU_SAMPLES, &n);
	if (!n_stats && !n && !np_recording_records(rec, NP_BLK_SCHED_THREADS, &n_sstats) &&
	    !n_sstats)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*out = c; /* the caller frees it, also on failure */
	c->have_samples = n_stats > 0 || n > 0;
	if (n_stats)
		c->stats = stats[n_stats - 1];
	c->unwinder = np_recording_meta(rec, "unwinder");
	np_recording_records(rec, NP_BLK_SCHED_THREADS, &n);
	c->have_sched = n > 0;
	sstats = np_recording_records(rec, NP_BLK_SCHED_STATS, &n_sstats);
	if (n_sstats)
		c->sched_stats = sstats[n_sstats - 1];
	/* A private copy of the string table, NUL-terminated at its end so a
	 * damaged offset can never run off it. */
	strings = np_recording_records(rec, NP_BLK_STRINGS, &n);
	{
		char *copy = malloc(n + 1);

		if (!copy)
			return -ENOMEM;
		if (n)
			memcpy(copy, strings, n);
		copy[n] = '\0';
		c->strings = own(c, copy);
		if (!c->strings)
			return -ENOMEM;
		c->strings_len = n;
	}
	c->nodes = np_recording_records(rec, NP_BLK_STACK_NODES, &c->n_nodes);
	/* nodes are numbered 1..n in file order; anything else is damage */
	for (size_t i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].id != i + 1) {
			c->n_nodes = i;
			break;
		}
	c->lost_samples = c->stats.lost;
	c->lost_sched_events = c->sched_stats.drops[NP_SDROP_RINGBUF] + c->sched_stats.writer_drops;
	c->lost_stacks = c->sched_stats.drops[NP_SDROP_STACK];
	c->lost_threads = c->sched_stats.drops[NP_SDROP_THREADS] +
			  c->sched_stats.drops[NP_SDROP_OFFCPU];
	rc = decode_frames(rec, c);
	if (!rc)
		rc = build_profile(rec, c);
	if (!rc)
		rc = build_offcpu(rec, c);
	if (!rc)
		rc = build_sched_threads(rec, c);
	return rc;
}

void np_cpu_report_free(struct np_cpu_report *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_owned; i++)
		free(c->owned[i]);
	free(c->owned);
	free(c->frames);
	free(c->pc_first);
	free(c->pc_count);
	free(c->fns);
	for (size_t i = 0; i < c->n_threads; i++)
		free(c->threads[i].top);
	free(c->threads);
	free(c->offcpu);
	free(c->sched_threads);
	free(c);
}

/* ---- folded ---- */

/* A frame name as one folded field: no ';' (the separator) and no line
 * breaks; the trailing space-count is added by the caller. */
static void put_field(FILE *f, const char *s)
{
	char buf[1024];

	np_sanitize(s, buf, sizeof(buf), true);
	for (char *p = buf; *p; p++)
		if (*p == ';')
			*p = ':';
	fputs(buf, f);
}

struct folded_line {
	char *text;
	uint64_t n;
};

static int by_text(const void *a, const void *b)
{
	return strcmp(((const struct folded_line *)a)->text, ((const struct folded_line *)b)->text);
}

/* One node's stack as a folded line, root first.  `skip` innermost frames
 * are left out. */
static char *fold_from(const struct np_cpu_report *c, uint32_t node, const struct np_cpu_frame **st,
		       size_t skip)
{
	size_t n = np_cpu_stack(c, node, st, MAX_DEPTH), len = 0;
	char *buf = NULL;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	if (n <= skip)
		fputs("[no stack]", m);
	for (size_t k = n; k-- > skip;) {
		put_field(m, st[k]->name);
		if (st[k]->flags & NP_FR_KERNEL)
			fputs("_[k]", m);
		else if (st[k]->flags & NP_FR_INLINE)
			fputs("_[i]", m);
		if (k > skip)
			fputc(';', m);
	}
	if (fclose(m)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *fold(const struct np_cpu_report *c, uint32_t node, const struct np_cpu_frame **st)
{
	return fold_from(c, node, st, 0);
}

/* Merges lines that fold to the same text (different pcs of one
 * function) and adds them to `out`. */
static int add_merged(struct folded_line *lines, size_t n_lines, struct np_folded *out)
{
	int rc = 0;

	qsort(lines, n_lines, sizeof(*lines), by_text);
	for (size_t i = 0; i < n_lines && !rc; i++) {
		uint64_t n = lines[i].n;

		while (i + 1 < n_lines && !strcmp(lines[i].text, lines[i + 1].text))
			n += lines[++i].n;
		rc = np_folded_add(out, lines[i].text, n);
	}
	return rc;
}

int np_cpu_folded_oncpu(const struct np_report *r, struct np_folded *out)
{
	const struct np_cpu_report *c = r->cpu;
	const struct np_cpu_frame **st;
	const struct np_rec_cpu_sample *s;
	struct folded_line *lines;
	size_t n_samples, n_lines = 0;
	uint64_t *per_node;
	int rc = 0;

	out->unit = "samples";
	if (!c)
		return 0;
	s = np_recording_records(r->rec, NP_BLK_CPU_SAMPLES, &n_samples);
	per_node = calloc(c->n_nodes + 1, sizeof(*per_node));
	lines = calloc(c->n_nodes + 1, sizeof(*lines));
	st = malloc(MAX_DEPTH * sizeof(*st));
	if (!per_node || !lines || !st) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_samples; i++)
		per_node[s[i].node <= c->n_nodes ? s[i].node : 0]++;
	for (size_t node = 0; node <= c->n_nodes; node++) {
		if (!per_node[node])
			continue;
		lines[n_lines].text = fold(c, (uint32_t)node, st);
		if (!lines[n_lines].text) {
			rc = -ENOMEM;
			goto out;
		}
		lines[n_lines++].n = per_node[node];
	}
	rc = add_merged(lines, n_lines, out);
out:
	for (size_t i = 0; lines && i < n_lines; i++)
		free(lines[i].text);
	free(lines);
	free(per_node);
	free(st);
	return rc;
}

/* The scheduler tracer's own frames, which sit above __schedule in the
 * stacks it takes (the tracepoint's iterator and the BPF program). */
bool np_cpu_frame_is_tracer(const char *name)
{
	return !strncmp(name, "bpf_", 4) || !strncmp(name, "__bpf", 5) ||
	       !strncmp(name, "__traceiter", 11);
}

/* An off-CPU wait as a folded line, root first: the reason, the system
 * call, then the kernel stack from its outermost frame to __schedule. */
static char *fold_wait(const struct np_cpu_report *c, const struct np_offcpu_row *w,
		       const struct np_cpu_frame **st)
{
	char *buf = NULL, *stack;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	put_field(m, reason_names[w->reason < NP_OFF_COUNT ? w->reason : NP_OFF_OTHER]);
	fputc(';', m);
	if (w->sys_name)
		put_field(m, w->sys_name);
	else if (w->sys >= 0)
		fprintf(m, "syscall %d", w->sys);
	else
		fputs("[no syscall]", m);
	if (w->node) {
		/* the tracer's own frames sit above __schedule: leave them out */
		const struct np_cpu_frame *top[8];
		size_t n = np_cpu_stack(c, w->node, top, 8), skip = 0;

		while (skip < n && np_cpu_frame_is_tracer(top[skip]->name))
			skip++;
		stack = fold_from(c, w->node, st, skip);
		if (!stack) {
			fclose(m);
			free(buf);
			return NULL;
		}
		fprintf(m, ";%s", stack);
		free(stack);
	} else {
		fputs(w->unsampled ? ";[stack not sampled]" : ";[no kernel stack]", m);
	}
	if (fclose(m)) {
		free(buf);
		return NULL;
	}
	return buf;
}

int np_cpu_folded_offcpu(const struct np_report *r, struct np_folded *out)
{
	const struct np_cpu_report *c = r->cpu;
	const struct np_cpu_frame **st;
	struct folded_line *lines;
	size_t n_lines = 0;
	int rc = 0;

	out->unit = "ns";
	if (!c || !c->n_offcpu)
		return 0;
	lines = calloc(c->n_offcpu, sizeof(*lines));
	st = malloc(MAX_DEPTH * sizeof(*st));
	if (!lines || !st) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->n_offcpu; i++) {
		if (!c->offcpu[i].total_ns)
			continue;
		lines[n_lines].text = fold_wait(c, &c->offcpu[i], st);
		if (!lines[n_lines].text) {
			rc = -ENOMEM;
			goto out;
		}
		lines[n_lines++].n = c->offcpu[i].total_ns;
	}
	rc = add_merged(lines, n_lines, out);
out:
	for (size_t i = 0; lines && i < n_lines; i++)
		free(lines[i].text);
	free(lines);
	free(st);
	return rc;
}

/* Scheduler internals say nothing about why: skip them. */
static bool sched_core(const char *name)
{
	static const char *const core[] = {"__schedule",
					   "schedule",
					   "preempt_schedule",
					   "__traceiter_sched_switch",
					   "bpf_",
					   "__bpf_",
					   "io_schedule",
					   "schedule_timeout",
					   "schedule_hrtimeout",
					   "__cond_resched",
					   "__x64_sys_",
					   "x64_sys_call",
					   "do_syscall_64",
					   "entry_SYSCALL_64"};

	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++)
		if (!strncmp(name, core[i], strlen(core[i])))
			return true;
	return false;
}

void np_cpu_stack_summary(const struct np_cpu_report *c, uint32_t node, char *out, size_t len)
{
	const struct np_cpu_frame *st[64];
	size_t n = np_cpu_stack(c, node, st, 64), used = 0, shown = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && shown < 4; i++) {
		int w;

		if (sched_core(st[i]->name))
			continue;
		w = snprintf(out + used, len - used, "%s%s", shown ? " < " : "", st[i]->name);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
		shown++;
	}
}

const char *np_off_reason_key(unsigned int reason)
{
	return reason < NP_OFF_COUNT ? reason_keys[reason] : "other_ns";
}
