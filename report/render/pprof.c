/* pprof.c - --format pprof: the CPU profile as gzipped profile.proto
 * (report/render/proto/profile.proto, from github.com/google/pprof), the
 * format `go tool pprof`, Pyroscope and Parca read.
 *
 * Three sample types, each sample carrying all three values:
 *   samples/count        on-CPU samples (exact counts)
 *   cpu/nanoseconds      samples x the sampling period (1e9 / frequency)
 *   off_cpu/nanoseconds  off-CPU time of the scheduler tracer (exact)
 * On-CPU samples are merged by (stack, thread, exchange label); off-CPU
 * time is one sample per (reason, system call, kernel stack), as in the
 * JSON's off_cpu_waits.  Labels: pid and comm (process: each sample's
 * own in a service, whose processes are all sampled; none on the off-CPU
 * rows of a service, which sum over its processes), tid and
 * thread_comm (thread), exchange ("GET /path", the served exchange the
 * thread was in when sampled; only exchanges the recording holds
 * individually), off_cpu_reason and syscall.
 *
 * One location per pc of the stack tree; its lines are the logical frames,
 * innermost inlined first (pprof's order).  One mapping per module, with
 * its build id.  Kernel frames without a module get the "[kernel]" mapping.
 * The message is built with protobuf-c and gzipped with zlib.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "report/model/cpu_report.h"
#include "report/model/report_model.h"
#include "report/render/export.h"
#include "report/render/profile.pb-c.h"
#include "report/render/render.h"

#define MAX_DEPTH 512

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

/* Everything the message points to, freed together. */
struct pp {
	const struct np_report *r;
	const struct np_cpu_report *c;
	struct np_strtab st;
	Profile prof;
	ValueType types[3], period_type;
	ValueType *type_ptrs[3];
	/* mappings: by module id through map_of[] */
	Mapping *maps;
	Mapping **map_ptrs;
	size_t n_maps;
	uint32_t *map_of; /* module id -> mapping id, 0 none */
	size_t n_map_of;
	uint64_t kernel_map; /* mapping id of "[kernel]", 0 until needed */
	/* functions, deduplicated by (name, file) */
	Function *fns;
	Function **fn_ptrs;
	size_t n_fns, cap_fns;
	struct np_hashtab fn_ids;
	/* locations: one per pc (loc_of[pc]), plus pseudo ones */
	Location *locs;
	Location **loc_ptrs;
	size_t n_locs, cap_locs;
	uint64_t *loc_of; /* pc -> location id */
	Line *lines;
	Line **line_ptrs;
	size_t n_lines, cap_lines;
	/* samples */
	Sample *samples;
	Sample **sample_ptrs;
	size_t n_samples, cap_samples;
	uint64_t *ids; /* location ids of all samples */
	int64_t *vals; /* 3 values per sample */
	Label *labels; /* of all samples */
	Label **label_ptrs;
	size_t n_ids, cap_ids, n_labels, cap_labels;
	int64_t comment;
};

/* Grows an array of `size`-byte items to hold n + more. */
static int grow(void **v, size_t *cap, size_t n, size_t more, size_t size)
{
	size_t ncap = *cap ? *cap : 64;
	void *nv;

	if (n + more <= *cap)
		return 0;
	while (ncap < n + more)
		ncap *= 2;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static int64_t str(struct pp *p, const char *s)
{
	return np_strtab_id(&p->st, s);
}

static int value_type(struct pp *p, ValueType *vt, const char *type, const char *unit)
{
	perftools__profiles__value_type__init(vt);
	vt->type = str(p, type);
	vt->unit = str(p, unit);
	return vt->type < 0 || vt->unit < 0 ? -ENOMEM : 0;
}

static int add_mappings(struct pp *p)
{
	size_t n_mods, n_frames;
	const struct np_rec_module *mods = np_recording_records(p->r->rec, NP_BLK_MODULES, &n_mods);
	const struct np_rec_frame *fr = np_recording_records(p->r->rec, NP_BLK_STACK_FRAMES,
							     &n_frames);
	uint32_t max_mod = 0;

	for (size_t i = 0; i < n_mods; i++)
		if (mods[i].id > max_mod && mods[i].id < (1u << 20))
			max_mod = mods[i].id;
	/* one more for "[kernel]" */
	p->maps = calloc(n_mods + 1, sizeof(*p->maps));
	p->map_ptrs = calloc(n_mods + 1, sizeof(*p->map_ptrs));
	p->map_of = calloc((size_t)max_mod + 1, sizeof(*p->map_of));
	if (!p->maps || !p->map_ptrs || !p->map_of)
		return -ENOMEM;
	p->n_map_of = (size_t)max_mod + 1;
	for (size_t i = 0; i < n_mods; i++) {
		const struct np_rec_module *m = &mods[i];
		Mapping *mp = &p->maps[p->n_maps];
		const char *name, *bid;

		if (m->id == 0 || m->id > max_mod || p->map_of[m->id])
			continue;
		/* the string table is the CPU report's copy: offsets as recorded */
		name = m->name < p->c->strings_len ? p->c->strings + m->name : "";
		bid = m->build_id && m->build_id < p->c->strings_len ? p->c->strings + m->build_id
								     : "";
		perftools__profiles__mapping__init(mp);
		mp->id = p->n_maps + 1;
		mp->memory_start = m->start;
		mp->memory_limit = m->end;
		mp->filename = str(p, name);
		mp->build_id = str(p, bid);
		if (mp->filename < 0 || mp->build_id < 0)
			return -ENOMEM;
		mp->has_functions = !!(m->flags & (NP_MOD_SYMTAB | NP_MOD_DEBUG | NP_MOD_KERNEL));
		mp->has_filenames = mp->has_line_numbers = mp->has_inline_frames = !!(m->flags &
										      NP_MOD_DEBUG);
		/* the file offset of memory_start, from any frame in the module */
		for (size_t k = 0; k < n_frames; k++)
			if (fr[k].module == m->id && fr[k].addr >= m->start &&
			    fr[k].addr < m->end && fr[k].offset >= fr[k].addr - m->start) {
				mp->file_offset = fr[k].offset - (fr[k].addr - m->start);
				break;
			}
		p->map_ptrs[p->n_maps++] = mp;
		p->map_of[m->id] = (uint32_t)mp->id;
	}
	return 0;
}

static uint64_t kernel_mapping(struct pp *p)
{
	Mapping *mp;

	if (p->kernel_map)
		return p->kernel_map;
	mp = &p->maps[p->n_maps];
	perftools__profiles__mapping__init(mp);
	mp->id = p->n_maps + 1;
	mp->filename = str(p, "[kernel]");
	if (mp->filename < 0)
		return 0;
	mp->has_functions = true;
	p->map_ptrs[p->n_maps++] = mp;
	p->kernel_map = mp->id;
	return mp->id;
}

/* The function id of (name, file), added when new; 0 on ENOMEM. */
static uint64_t function(struct pp *p, const char *name, const char *file)
{
	int64_t n = str(p, name), fl = str(p, file ? file : "");
	uint64_t key;
	uint32_t v;
	Function *fn;

	if (n < 0 || fl < 0)
		return 0;
	/* np_hash64 is a bijection: distinct (name, file) pairs never collide */
	key = np_hash64(((uint64_t)n << 32) | (uint64_t)fl);
	v = np_hashtab_get(&p->fn_ids, key);
	if (v)
		return v;
	if (grow((void **)&p->fns, &p->cap_fns, p->n_fns, 1, sizeof(*p->fns)))
		return 0;
	fn = &p->fns[p->n_fns];
	perftools__profiles__function__init(fn);
	fn->id = p->n_fns + 1;
	fn->name = fn->system_name = n;
	fn->filename = fl;
	if (np_hashtab_put(&p->fn_ids, key, (uint32_t)fn->id))
		return 0;
	p->n_fns++;
	return fn->id;
}

/* A location made of the given lines, innermost first. */
static uint64_t location(struct pp *p, uint64_t mapping, uint64_t addr,
			 const struct np_cpu_frame *const *fr, size_t n)
{
	Location *loc;

	if (grow((void **)&p->locs, &p->cap_locs, p->n_locs, 1, sizeof(*p->locs)) ||
	    grow((void **)&p->lines, &p->cap_lines, p->n_lines, n, sizeof(*p->lines)))
		return 0;
	loc = &p->locs[p->n_locs];
	perftools__profiles__location__init(loc);
	loc->id = p->n_locs + 1;
	loc->mapping_id = mapping;
	loc->address = addr;
	loc->n_line = n;
	/* lines are pointed to by index until the arrays stop moving */
	loc->line = (Line **)(uintptr_t)p->n_lines;
	for (size_t k = 0; k < n; k++) {
		Line *ln = &p->lines[p->n_lines++];

		perftools__profiles__line__init(ln);
		ln->function_id = function(p, fr[k]->name, fr[k]->file);
		ln->line = fr[k]->line;
		if (!ln->function_id)
			return 0;
	}
	p->n_locs++;
	return loc->id;
}

/* The location of a pc (built on first use), or of "[unknown]". */
static uint64_t pc_location(struct pp *p, uint32_t pc)
{
	static const struct np_cpu_frame unknown = {.name = "[unknown]", .module = ""};
	const struct np_cpu_report *c = p->c;
	const struct np_cpu_frame *fr[64];
	size_t n = 0, slot = pc && pc <= c->n_pcs && c->pc_count[pc - 1] ? pc : 0;
	uint64_t mapping = 0, addr = 0;

	if (p->loc_of[slot])
		return p->loc_of[slot];
	if (slot) {
		size_t n_raw;
		const struct np_rec_frame *raw = np_recording_records(p->r->rec,
								      NP_BLK_STACK_FRAMES, &n_raw);
		uint32_t first = c->pc_first[pc - 1];

		/* innermost inlined frame first, as np_cpu_stack() */
		for (uint32_t k = c->pc_count[pc - 1]; k-- > 0 && n < 64;)
			fr[n++] = &c->frames[first + k];
		if (first < n_raw) {
			addr = raw[first].addr;
			if (raw[first].module && raw[first].module < p->n_map_of)
				mapping = p->map_of[raw[first].module];
		}
		if (!mapping && (c->frames[first].flags & NP_FR_KERNEL))
			mapping = kernel_mapping(p);
	} else {
		fr[n++] = &unknown;
	}
	p->loc_of[slot] = location(p, mapping, addr, fr, n);
	return p->loc_of[slot];
}

/* A location of one pseudo frame ("[no kernel stack]"). */
static uint64_t pseudo_location(struct pp *p, const char *name)
{
	const struct np_cpu_frame f = {.name = name, .module = ""};
	const struct np_cpu_frame *fr = &f;

	return location(p, 0, 0, &fr, 1);
}

/* True when every frame of the pc is the scheduler tracer's own. */
static bool tracer_pc(const struct np_cpu_report *c, uint32_t pc)
{
	if (!pc || pc > c->n_pcs || !c->pc_count[pc - 1])
		return false;
	for (uint32_t k = 0; k < c->pc_count[pc - 1]; k++)
		if (!np_cpu_frame_is_tracer(c->frames[c->pc_first[pc - 1] + k].name))
			return false;
	return true;
}

/* Labels are gathered by index first: their array moves as it grows. */
struct lbl {
	const char *key, *str;
	int64_t num;
	const char *unit;
};

/* One sample: the stack of `node` leaf first (tracer pcs left out when
 * asked), or the pseudo frame `none` when it has none. */
static int add_sample(struct pp *p, uint32_t node, bool skip_tracer, const char *none,
		      const int64_t val[3], const struct lbl *lb, size_t n_lb)
{
	const struct np_cpu_report *c = p->c;
	size_t depth = 0, first_id = p->n_ids;
	Sample *s;

	if (grow((void **)&p->samples, &p->cap_samples, p->n_samples, 1, sizeof(*p->samples)) ||
	    grow((void **)&p->labels, &p->cap_labels, p->n_labels, n_lb, sizeof(*p->labels)))
		return -ENOMEM;
	while (node && node <= c->n_nodes && depth++ < MAX_DEPTH) {
		const struct np_rec_stack_node *nd = &c->nodes[node - 1];
		uint64_t id;

		if (!(skip_tracer && p->n_ids == first_id && tracer_pc(c, nd->pc))) {
			id = pc_location(p, nd->pc);
			if (!id ||
			    grow((void **)&p->ids, &p->cap_ids, p->n_ids, 1, sizeof(*p->ids)))
				return -ENOMEM;
			p->ids[p->n_ids++] = id;
		}
		if (nd->parent >= node) /* parents are older: this is damage */
			break;
		node = nd->parent;
	}
	if (p->n_ids == first_id) {
		uint64_t id = pseudo_location(p, none);

		if (!id || grow((void **)&p->ids, &p->cap_ids, p->n_ids, 1, sizeof(*p->ids)))
			return -ENOMEM;
		p->ids[p->n_ids++] = id;
	}
	s = &p->samples[p->n_samples];
	perftools__profiles__sample__init(s);
	/* pointers are set once every array has its final place (finish()) */
	s->location_id = (uint64_t *)(uintptr_t)first_id;
	s->n_location_id = p->n_ids - first_id;
	s->label = (Label **)(uintptr_t)p->n_labels;
	s->n_label = n_lb;
	s->n_value = 3;
	{
		int64_t *nv = realloc(p->vals, (p->n_samples + 1) * 3 * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		p->vals = nv;
		memcpy(&p->vals[p->n_samples * 3], val, 3 * sizeof(*val));
	}
	for (size_t i = 0; i < n_lb; i++) {
		Label *l = &p->labels[p->n_labels++];

		perftools__profiles__label__init(l);
		l->key = str(p, lb[i].key);
		if (lb[i].str)
			l->str = str(p, lb[i].str);
		else
			l->num = lb[i].num;
		if (lb[i].unit)
			l->num_unit = str(p, lb[i].unit);
		if (l->key < 0 || l->str < 0 || l->num_unit < 0)
			return -ENOMEM;
	}
	p->n_samples++;
	return 0;
}

/* ---- on-CPU samples, merged by (node, tid, exchange) ---- */

struct skey {
	uint32_t node, tid;
	int64_t xch; /* index into the exchange labels, or -1 */
};

static int skey_order(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->xch < y->xch ? -1 : x->xch > y->xch;
}

static const char *thread_comm(const struct np_recording *rec, uint32_t tid, char out[16])
{
	out[0] = '\0';
	for (size_t i = 0; i < rec->n_threads; i++)
		if (rec->threads[i].tid == tid) {
			memcpy(out, rec->threads[i].comm, 16);
			out[15] = '\0';
			break;
		}
	return out;
}

/* The app interval of every labelled served exchange the recording holds,
 * with its "METHOD /path" in labels[value]. */
static int exchange_spans(const struct np_report *r, struct np_tspan **spans, size_t *n_spans,
			  char (**labels)[NP_HTTP_METHOD_MAX + NP_HTTP_PATH_MAX + 8])
{
	size_t n_ev, n = 0;
	const struct np_xch_event *ev = np_recording_records(r->rec, NP_BLK_XCH_EVENTS, &n_ev);

	*spans = NULL;
	*labels = NULL;
	*n_spans = 0;
	if (!n_ev)
		return 0;
	*spans = calloc(n_ev, sizeof(**spans));
	*labels = calloc(n_ev, sizeof(**labels));
	if (!*spans || !*labels)
		return -ENOMEM;
	for (size_t i = 0; i < n_ev; i++) {
		struct np_xch_row row = {.ev = ev[i]};
		uint64_t start, end;

		if (ev[i].flags & NP_XEV_OUTBOUND)
			continue;
		np_xch_row_fill(r->rec, &row);
		if (!row.labelled)
			continue;
		start = ev[i].read_start_ns > ev[i].start_ns ? ev[i].read_start_ns : ev[i].start_ns;
		end = ev[i].write_end_ns ? ev[i].write_end_ns : ev[i].start_ns + ev[i].total_ns;
		if (end <= start)
			continue;
		/* as the JSON report's exchange label */
		np_label_format(&row.label, (*labels)[n], sizeof((*labels)[n]));
		(*spans)[n] = (struct np_tspan){.tid = ev[i].tid,
						.value = (uint32_t)n,
						.start_ns = start,
						.end_ns = end};
		n++;
	}
	np_tspan_sort(*spans, n);
	*n_spans = n;
	return 0;
}

/* The process of thread tid, in a recording of a service (each of whose
 * processes is sampled); the recording's pid and comm otherwise. */
static void proc_of(const struct np_report *r, uint32_t tid, int64_t *pid, const char **comm)
{
	uint32_t p = r->procs.have ? np_proc_report_pid_of(&r->procs, tid) : 0;

	if (!p)
		return;
	for (size_t i = 0; i < r->procs.n; i++)
		if (r->procs.v[i].pid == p) {
			*pid = p;
			*comm = r->procs.v[i].comm;
			return;
		}
}

static int add_oncpu(struct pp *p, uint64_t period_ns, int64_t main_pid, const char *main_comm)
{
	const struct np_report *r = p->r;
	size_t n_s, n_spans;
	const struct np_rec_cpu_sample *s = np_recording_records(r->rec, NP_BLK_CPU_SAMPLES, &n_s);
	struct np_tspan *spans;
	char(*xl)[NP_HTTP_METHOD_MAX + NP_HTTP_PATH_MAX + 8];
	struct skey *keys = NULL;
	int rc;

	rc = exchange_spans(r, &spans, &n_spans, &xl);
	if (!rc && n_s && !(keys = calloc(n_s, sizeof(*keys))))
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < n_s; i++) {
		const struct np_tspan *sp = np_tspan_find(spans, n_spans, s[i].tid, s[i].ts_ns);

		/* the same node as the folded output counts it under */
		keys[i] = (struct skey){s[i].node <= p->c->n_nodes ? s[i].node : 0, s[i].tid,
					sp ? (int64_t)sp->value : -1};
	}
	if (!rc && n_s)
		qsort(keys, n_s, sizeof(*keys), skey_order);
	for (size_t i = 0; !rc && i < n_s;) {
		size_t j = i;
		char tcomm[16];
		struct lbl lb[5];
		size_t n_lb = 0;
		int64_t val[3], pid = main_pid;
		const char *comm = main_comm;

		while (j < n_s && !skey_order(&keys[i], &keys[j]))
			j++;
		val[0] = (int64_t)(j - i);
		val[1] = (int64_t)((j - i) * period_ns);
		val[2] = 0;
		proc_of(r, (uint32_t)keys[i].tid, &pid, &comm);
		lb[n_lb++] = (struct lbl){"pid", NULL, pid, NULL};
		lb[n_lb++] = (struct lbl){"comm", comm, 0, NULL};
		lb[n_lb++] = (struct lbl){"tid", NULL, keys[i].tid, NULL};
		lb[n_lb++] = (struct lbl){"thread_comm", thread_comm(r->rec, keys[i].tid, tcomm), 0,
					  NULL};
		if (keys[i].xch >= 0)
			lb[n_lb++] = (struct lbl){"exchange", xl[keys[i].xch], 0, NULL};
		rc = add_sample(p, keys[i].node, false, "[no stack]", val, lb, n_lb);
		i = j;
	}
	free(keys);
	free(spans);
	free(xl);
	return rc;
}

static int add_offcpu(struct pp *p, int64_t pid, const char *comm)
{
	const struct np_cpu_report *c = p->c;
	bool service = p->r->procs.have && p->r->procs.n > 1;
	int rc = 0;

	for (size_t i = 0; !rc && i < c->n_offcpu; i++) {
		const struct np_offcpu_row *w = &c->offcpu[i];
		int64_t val[3] = {0, 0, (int64_t)w->total_ns};
		struct lbl lb[5];
		size_t n_lb = 0;
		char sys[32];

		if (!w->total_ns)
			continue;
		if (w->sys_name)
			snprintf(sys, sizeof(sys), "%s", w->sys_name);
		else if (w->sys >= 0)
			snprintf(sys, sizeof(sys), "syscall %d", w->sys);
		else
			snprintf(sys, sizeof(sys), "[no syscall]");
		/* a row sums the waits of every thread: of one process only
		 * when the recording has one */
		if (!service) {
			lb[n_lb++] = (struct lbl){"pid", NULL, pid, NULL};
			lb[n_lb++] = (struct lbl){"comm", comm, 0, NULL};
		}
		lb[n_lb++] = (struct lbl){"off_cpu_reason", np_off_reason_name(w->reason), 0, NULL};
		lb[n_lb++] = (struct lbl){"syscall", sys, 0, NULL};
		lb[n_lb++] = (struct lbl){"threads", NULL, w->threads, NULL};
		rc = add_sample(p, w->node, true,
				w->unsampled ? "[stack not sampled]" : "[no kernel stack]", val, lb,
				n_lb);
	}
	return rc;
}

/* Turns the index placeholders into pointers, once no array moves. */
static int finish(struct pp *p)
{
	Profile *pr = &p->prof;

	p->fn_ptrs = calloc(p->n_fns + 1, sizeof(*p->fn_ptrs));
	p->loc_ptrs = calloc(p->n_locs + 1, sizeof(*p->loc_ptrs));
	p->line_ptrs = calloc(p->n_lines + 1, sizeof(*p->line_ptrs));
	p->sample_ptrs = calloc(p->n_samples + 1, sizeof(*p->sample_ptrs));
	p->label_ptrs = calloc(p->n_labels + 1, sizeof(*p->label_ptrs));
	if (!p->fn_ptrs || !p->loc_ptrs || !p->line_ptrs || !p->sample_ptrs || !p->label_ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_fns; i++)
		p->fn_ptrs[i] = &p->fns[i];
	for (size_t i = 0; i < p->n_lines; i++)
		p->line_ptrs[i] = &p->lines[i];
	for (size_t i = 0; i < p->n_labels; i++)
		p->label_ptrs[i] = &p->labels[i];
	for (size_t i = 0; i < p->n_locs; i++) {
		p->loc_ptrs[i] = &p->locs[i];
		p->locs[i].line = p->line_ptrs + (uintptr_t)p->locs[i].line;
	}
	for (size_t i = 0; i < p->n_samples; i++) {
		Sample *s = &p->samples[i];

		p->sample_ptrs[i] = s;
		s->location_id = p->ids + (uintptr_t)s->location_id;
		s->label = p->label_ptrs + (uintptr_t)s->label;
		s->value = &p->vals[i * 3];
	}
	pr->function = p->fn_ptrs;
	pr->n_function = p->n_fns;
	pr->location = p->loc_ptrs;
	pr->n_location = p->n_locs;
	pr->sample = p->sample_ptrs;
	pr->n_sample = p->n_samples;
	pr->mapping = p->map_ptrs;
	pr->n_mapping = p->n_maps;
	pr->string_table = p->st.v;
	pr->n_string_table = p->st.n;
	return 0;
}

static void pp_fini(struct pp *p)
{
	np_strtab_fini(&p->st);
	np_hashtab_fini(&p->fn_ids);
	free(p->maps);
	free(p->map_ptrs);
	free(p->map_of);
	free(p->fns);
	free(p->fn_ptrs);
	free(p->locs);
	free(p->loc_ptrs);
	free(p->loc_of);
	free(p->lines);
	free(p->line_ptrs);
	free(p->samples);
	free(p->sample_ptrs);
	free(p->ids);
	free(p->vals);
	free(p->labels);
	free(p->label_ptrs);
}

static int build(struct pp *p)
{
	const struct np_report *r = p->r;
	const char *comm = np_recording_meta(r->rec, "comm");
	int64_t pid = (int64_t)np_recording_meta_u64(r->rec, "pid", 0);
	uint64_t hz = p->c && p->c->have_samples ? p->c->stats.frequency_hz : 0;
	uint64_t period_ns = hz ? (1000000000ull + hz / 2) / hz : 0;
	Profile *pr = &p->prof;
	int rc;

	perftools__profiles__profile__init(pr);
	if (np_strtab_init(&p->st) || value_type(p, &p->types[0], "samples", "count") ||
	    value_type(p, &p->types[1], "cpu", "nanoseconds") ||
	    value_type(p, &p->types[2], "off_cpu", "nanoseconds") ||
	    value_type(p, &p->period_type, "cpu", "nanoseconds"))
		return -ENOMEM;
	for (size_t i = 0; i < 3; i++)
		p->type_ptrs[i] = &p->types[i];
	pr->sample_type = p->type_ptrs;
	pr->n_sample_type = 3;
	pr->period_type = &p->period_type;
	pr->period = (int64_t)period_ns;
	pr->default_sample_type = p->types[1].type;
	pr->time_nanos = (int64_t)r->realtime_start_ns;
	pr->duration_nanos = (int64_t)r->duration_ns;
	p->comment = str(p, "netprof: cpu = samples x period; off_cpu from the scheduler tracer");
	if (p->comment < 0)
		return -ENOMEM;
	pr->comment = &p->comment;
	pr->n_comment = 1;
	if (!p->c)
		return finish(p);
	p->loc_of = calloc(p->c->n_pcs + 1, sizeof(*p->loc_of));
	if (!p->loc_of)
		return -ENOMEM;
	rc = add_mappings(p);
	if (!rc && p->c->have_samples)
		rc = add_oncpu(p, period_ns, pid, comm ? comm : "");
	if (!rc)
		rc = add_offcpu(p, pid, comm ? comm : "");
	return rc ? rc : finish(p);
}

/* buf[0..len) gzipped into f. */
static int gzip_to(const uint8_t *buf, size_t len, FILE *f)
{
	z_stream zs;
	uint8_t out[16384];
	int zrc;

	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: a gzip wrapper (header with mtime 0: the output is
	 * reproducible) rather than zlib's */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)buf;
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		zrc = deflate(&zs, Z_FINISH);
		if (zrc == Z_STREAM_ERROR)
			break;
		fwrite(out, 1, sizeof(out) - zs.avail_out, f);
	} while (zrc != Z_STREAM_END);
	deflateEnd(&zs);
	return zrc == Z_STREAM_END && !ferror(f) ? 0 : -EIO;
}

int np_report_pprof(const struct np_report *r, FILE *f)
{
	struct pp p = {.r = r, .c = r->cpu};
	uint8_t *buf = NULL;
	size_t len;
	int rc = build(&p);

	if (!rc) {
		len = perftools__profiles__profile__get_packed_size(&p.prof);
		/* a uInt length for zlib: 4 GiB of profile is not one to write */
		buf = len < UINT32_MAX ? malloc(len ? len : 1) : NULL;
		if (!buf)
			rc = -ENOMEM;
	}
	if (!rc) {
		perftools__profiles__profile__pack(&p.prof, buf);
		rc = gzip_to(buf, len, f);
	}
	free(buf);
	pp_fini(&p);
	return rc ? -1 : 0;
}
