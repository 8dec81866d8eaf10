/* stacktab.c - stack tree, pc table and string table (see stacktab.h). */
#include "profiler/cpu/stacktab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/base/hashtab.h"
#include "profiler/base/array.h"
#include "profiler/cpu/classify.h"
#include "profiler/format/timeline.h"

/* The id of key in m, or 0; with new_id, stores it when absent (0 when
 * that fails). */
static uint32_t idmap_get(struct np_hashtab *m, uint64_t key, uint32_t new_id)
{
	uint32_t id = np_hashtab_get(m, key);

	if (id || !new_id)
		return id;
	return np_hashtab_put(m, key, new_id) ? 0 : new_id;
}

struct pc {
	uint64_t addr;
	struct np_module *mod; /* user pcs: the module at the time, borrowed from as */
	uint32_t space;        /* user pcs: the index of its address space in spaces */
	bool kernel;
};

/* Address spaces keyed into the top bits of a user pc's key (below). */
#define MAX_SPACES 0x7ffe

struct np_stacktab {
	struct np_addrspace **spaces; /* borrowed from the CPU collector, in order of use */
	size_t n_spaces, cap_spaces;
	size_t max_nodes;
	struct np_hashtab pc_ids; /* pc_key() -> pc id */
	struct pc *pcs;           /* by id - 1 */
	size_t n_pcs, cap_pcs;
	struct np_hashtab node_ids; /* parent << 32 | pc -> node id */
	struct np_rec_stack_node *nodes;
	size_t n_nodes, cap_nodes, flushed;
	/* string table */
	struct np_hashtab str_ids; /* hash of a string -> its offset (chained by probing) */
	char *strings;
	size_t str_len, str_cap;
};

int np_stacktab_new(size_t max_nodes, struct np_stacktab **out)
{
	struct np_stacktab *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->max_nodes = max_nodes;
	*out = st;
	return 0;
}

void np_stacktab_free(struct np_stacktab *st)
{
	if (!st)
		return;
	np_hashtab_fini(&st->pc_ids);
	np_hashtab_fini(&st->node_ids);
	np_hashtab_fini(&st->str_ids);
	free(st->spaces);
	free(st->pcs);
	free(st->nodes);
	free(st->strings);
	free(st);
}

/* The index of `as` in st->spaces, added on first use; -1 when full. */
static int space_index(struct np_stacktab *st, struct np_addrspace *as)
{
	/* the last one used first: samples come in runs of one process */
	for (size_t i = st->n_spaces; i-- > 0;)
		if (st->spaces[i] == as)
			return (int)i;
	if (st->n_spaces >= MAX_SPACES || NP_GROW(st->spaces, st->cap_spaces, st->n_spaces + 1))
		return -1;
	st->spaces[st->n_spaces] = as;
	return (int)st->n_spaces++;
}

/* A user pc is told apart by its address space in bits 48..62, above any
 * user address of a 4-level page table and below the kernel's half, which
 * keeps kernel pcs (keyed by their address) apart too.  A user address
 * above 2^48 (5-level paging, mapped there on request only) keeps its own
 * bits: the same such address in two processes would share one pc. */
static uint64_t pc_key(uint64_t addr, int space)
{
	if (space < 0 || addr >> 48)
		return addr;
	return (uint64_t)(space + 1) << 48 | addr;
}

static uint32_t pc_id(struct np_stacktab *st, uint64_t addr, struct np_addrspace *as)
{
	int space = as ? space_index(st, as) : -1;
	uint64_t key = pc_key(addr, space);
	uint32_t id = idmap_get(&st->pc_ids, key, 0);

	if (id)
		return id;
	if (NP_GROW(st->pcs, st->cap_pcs, st->n_pcs + 1))
		return 0;
	id = (uint32_t)st->n_pcs + 1;
	if (idmap_get(&st->pc_ids, key, id) != id)
		return 0;
	st->pcs[st->n_pcs++] = (struct pc){
		.addr = addr,
		.mod = space < 0 ? NULL : np_addrspace_find(as, addr),
		.space = space < 0 ? 0 : (uint32_t)space,
		.kernel = !as,
	};
	return id;
}

static uint32_t node_id(struct np_stacktab *st, uint32_t parent, uint32_t pc, bool *full)
{
	uint64_t key = (uint64_t)parent << 32 | pc;
	uint32_t id = idmap_get(&st->node_ids, key, 0);

	if (id)
		return id;
	if (st->n_nodes >= st->max_nodes) {
		*full = true;
		return 0;
	}
	if (NP_GROW(st->nodes, st->cap_nodes, st->n_nodes + 1)) {
		*full = true;
		return 0;
	}
	id = (uint32_t)st->n_nodes + 1;
	if (idmap_get(&st->node_ids, key, id) != id) {
		*full = true;
		return 0;
	}
	st->nodes[st->n_nodes++] = (struct np_rec_stack_node){.id = id, .parent = parent, .pc = pc};
	return id;
}

uint32_t np_stacktab_add(struct np_stacktab *st, struct np_addrspace *as, const uint64_t *user,
			 size_t n_user, const uint64_t *kernel, size_t n_kernel, bool *full)
{
	uint32_t node = 0;

	*full = false;
	if (!as)
		n_user = 0;
	for (size_t i = n_user; i-- > 0;) {
		uint32_t pc = pc_id(st, user[i], as), next;

		next = pc ? node_id(st, node, pc, full) : 0;
		if (!next)
			return node;
		node = next;
	}
	for (size_t i = n_kernel; i-- > 0;) {
		uint32_t pc = pc_id(st, kernel[i], NULL), next;

		next = pc ? node_id(st, node, pc, full) : 0;
		if (!next)
			return node;
		node = next;
	}
	return node;
}

size_t np_stacktab_nodes(const struct np_stacktab *st)
{
	return st->n_nodes;
}

int np_stacktab_flush_nodes(struct np_stacktab *st, struct np_writer *w)
{
	int rc;

	if (st->flushed == st->n_nodes)
		return 0;
	rc = np_writer_block(w, NP_BLK_STACK_NODES, sizeof(*st->nodes), st->nodes + st->flushed,
			     (uint32_t)(st->n_nodes - st->flushed));
	if (!rc)
		st->flushed = st->n_nodes;
	return rc;
}

/* ---- strings ---- */

static uint64_t str_hash(const char *s)
{
	return np_hash_bytes(NP_HASH_BYTES_INIT, s, strlen(s));
}

/* The offset of s in the string table (0 for NULL or ""); 0 on failure. */
static uint32_t intern(struct np_stacktab *st, const char *s)
{
	uint64_t h;
	size_t len;

	if (!s || !*s)
		return 0;
	if (!st->str_len) { /* offset 0 is "" */
		st->strings = malloc(1 << 16);
		if (!st->strings)
			return 0;
		st->str_cap = 1 << 16;
		st->strings[0] = '\0';
		st->str_len = 1;
	}
	/* Linear probing on the hash itself: collisions of 64-bit hashes are
	 * resolved by comparing the strings. */
	for (h = str_hash(s);; h++) {
		uint32_t off = idmap_get(&st->str_ids, h, 0);

		if (!off)
			break;
		if (!strcmp(st->strings + off, s))
			return off;
	}
	len = strlen(s) + 1;
	if (st->str_len + len > UINT32_MAX)
		return 0;
	if (NP_GROW(st->strings, st->str_cap, st->str_len + len))
		return 0;
	memcpy(st->strings + st->str_len, s, len);
	if (idmap_get(&st->str_ids, h, (uint32_t)st->str_len) != st->str_len)
		return 0;
	st->str_len += len;
	return (uint32_t)(st->str_len - len);
}

/* ---- symbols ---- */

#define FRAMES_STAGING 4096

struct emitter {
	struct np_stacktab *st; /* borrowed: the table being written */
	struct np_writer *w;    /* borrowed from the caller */
	struct np_rec_frame staging[FRAMES_STAGING];
	size_t staged;
	int rc;
	/* the pc being symbolized */
	struct np_rec_frame proto;
	struct np_rec_frame chain[32];
	size_t n_chain;
	/* the id of module 1 of each address space, less one */
	uint32_t *mod_base;
};

static void stage(struct emitter *e, const struct np_rec_frame *f)
{
	e->staging[e->staged++] = *f;
	if (e->staged == FRAMES_STAGING) {
		if (!e->rc)
			e->rc = np_writer_block(e->w, NP_BLK_STACK_FRAMES, sizeof(*f), e->staging,
						(uint32_t)e->staged);
		e->staged = 0;
	}
}

static void on_user_frame(void *arg, const struct np_sym_frame *sf)
{
	struct emitter *e = arg;
	struct np_rec_frame *f;

	if (e->n_chain >= sizeof(e->chain) / sizeof(e->chain[0]))
		return;
	f = &e->chain[e->n_chain++];
	*f = e->proto;
	f->function = intern(e->st, sf->function);
	f->file = intern(e->st, sf->file);
	f->line = sf->line;
	if (sf->inlined)
		f->flags |= NP_FR_INLINE;
}

static void flush_chain(struct emitter *e)
{
	for (size_t i = 0; i < e->n_chain; i++) {
		e->chain[i].index = (uint16_t)i;
		e->chain[i].count = (uint16_t)e->n_chain;
		stage(e, &e->chain[i]);
	}
	e->n_chain = 0;
}

/* Kernel modules get ids after the user modules, in order of appearance. */
struct kmods {
	char names[256][80];
	uint32_t n;
};

static uint32_t kmod_id(struct kmods *km, const char *name, uint32_t first_id)
{
	for (uint32_t i = 0; i < km->n; i++)
		if (!strcmp(km->names[i], name))
			return first_id + i;
	if (km->n == 256)
		return first_id - 1; /* the kernel's own id: better than none */
	snprintf(km->names[km->n], sizeof(km->names[0]), "%s", name);
	return first_id + km->n++;
}

static void symbolize_kernel(struct emitter *e, const struct pc *pc, const struct np_ksyms *ks,
			     struct kmods *km, uint32_t kernel_id)
{
	struct np_rec_frame *f = &e->chain[e->n_chain++];
	const char *name, *module;
	uint64_t off;

	*f = e->proto;
	f->flags |= NP_FR_KERNEL;
	f->module = kernel_id;
	if (!np_ksyms_lookup(ks, pc->addr, &name, &module, &off)) {
		f->flags |= NP_FR_NOSYM;
		f->cls = NP_CLS_KERNEL;
		return;
	}
	f->function = intern(e->st, name);
	f->offset = off;
	if (module[0]) {
		char label[80];

		snprintf(label, sizeof(label), "[%s]", module);
		f->module = kmod_id(km, label, kernel_id + 1);
	}
	f->cls = np_classify_kernel(name, module, &f->flags);
}

static void symbolize_user(struct emitter *e, const struct pc *pc)
{
	uint64_t elf_addr = 0;

	e->proto.module = pc->mod ? e->mod_base[pc->space] + pc->mod->id : 0;
	e->proto.cls = np_classify_user(pc->mod ? pc->mod->flags : 0);
	if (!pc->mod) {
		e->proto.flags |= NP_FR_NOSYM | NP_FR_UNMAPPED;
	} else if (pc->mod->flags & NP_MOD_ANON) {
		e->proto.flags |= NP_FR_NOSYM | NP_FR_JIT;
		e->proto.offset = pc->addr - pc->mod->start;
	} else if (np_symbolize_user(pc->mod, pc->addr, on_user_frame, e, &elf_addr) > 0) {
		for (size_t i = 0; i < e->n_chain; i++)
			e->chain[i].offset = elf_addr;
		return;
	} else {
		e->proto.flags |= NP_FR_NOSYM;
		e->proto.offset = elf_addr;
	}
	e->chain[e->n_chain++] = e->proto;
}

/* The modules of every address space, in the order the spaces were first
 * used, numbered on from each other's: their ids in the recording are
 * mod_base[space] + their id in their space. */
static struct np_rec_module *user_modules(struct np_stacktab *st, uint32_t *mod_base, size_t *n_out)
{
	struct np_rec_module *recs = NULL;
	size_t n = 0, cap = 0;

	for (size_t s = 0; s < st->n_spaces; s++) {
		size_t n_mods;
		struct np_module *const *mods = np_addrspace_modules(st->spaces[s], &n_mods);

		mod_base[s] = (uint32_t)n;
		if (NP_GROW(recs, cap, n + n_mods + 1)) {
			free(recs);
			return NULL;
		}
		for (size_t i = 0; i < n_mods; i++) {
			char build_id[64] = "";
			/* Looking for debug information costs: only where it is used. */
			uint32_t info = mods[i]->used ? np_module_info(mods[i], build_id,
								       sizeof(build_id))
						      : 0;

			recs[n++] = (struct np_rec_module){
				.id = mod_base[s] + mods[i]->id,
				.flags = mods[i]->flags | info,
				.name = intern(st, mods[i]->path),
				.build_id = intern(st, build_id),
				.start = mods[i]->start,
				.end = mods[i]->end,
			};
		}
	}
	*n_out = n;
	return recs ? recs : calloc(1, sizeof(*recs));
}

int np_stacktab_write_symbols(struct np_stacktab *st, struct np_writer *w,
			      const struct np_ksyms *ks, uint64_t *pcs)
{
	struct emitter *e = calloc(1, sizeof(*e));
	struct kmods *km = calloc(1, sizeof(*km));
	uint32_t *mod_base = calloc(st->n_spaces + 1, sizeof(*mod_base));
	struct np_rec_module *recs = NULL;
	size_t n_mods = 0;
	uint32_t kernel_id;
	int rc = 0;

	if (!e || !km || !mod_base) {
		free(e);
		free(km);
		free(mod_base);
		return -ENOMEM;
	}
	for (size_t i = 0; i < st->n_pcs; i++)
		if (st->pcs[i].mod)
			st->pcs[i].mod->used = true;
	/* The user modules are numbered (and their debug information
	 * looked up) before any frame names them. */
	recs = user_modules(st, mod_base, &n_mods);
	if (!recs)
		rc = -ENOMEM;
	e->st = st;
	e->w = w;
	e->mod_base = mod_base;
	e->rc = rc;
	kernel_id = (uint32_t)n_mods + 1;
	for (size_t i = 0; !rc && i < st->n_pcs; i++) {
		const struct pc *pc = &st->pcs[i];

		memset(&e->proto, 0, sizeof(e->proto));
		e->proto.pc = (uint32_t)i + 1;
		e->proto.addr = pc->addr;
		if (pc->kernel)
			symbolize_kernel(e, pc, ks, km, kernel_id);
		else
			symbolize_user(e, pc);
		flush_chain(e);
	}
	if (e->staged && !e->rc)
		e->rc = np_writer_block(w, NP_BLK_STACK_FRAMES, sizeof(e->staging[0]), e->staging,
					(uint32_t)e->staged);
	rc = e->rc;
	*pcs = st->n_pcs;

	/* modules: the user ones, then the kernel and its modules */
	if (!rc) {
		struct np_rec_module *all = realloc(recs, (n_mods + 1 + km->n) * sizeof(*recs));

		if (!all)
			rc = -ENOMEM;
		else
			recs = all;
	}
	if (!rc) {
		recs[n_mods] = (struct np_rec_module){.id = kernel_id,
						      .flags = NP_MOD_KERNEL,
						      .name = intern(st, "[kernel]")};
		for (uint32_t i = 0; i < km->n; i++)
			recs[n_mods + 1 + i] = (struct np_rec_module){
				.id = kernel_id + 1 + i,
				.flags = NP_MOD_KERNEL | NP_MOD_KMOD,
				.name = intern(st, km->names[i]),
			};
		rc = np_writer_block(w, NP_BLK_MODULES, sizeof(*recs), recs,
				     (uint32_t)(n_mods + 1 + km->n));
	}
	if (!rc && st->str_len)
		rc = np_writer_block(w, NP_BLK_STRINGS, 1, st->strings, (uint32_t)st->str_len);
	free(recs);
	free(mod_base);
	free(km);
	free(e);
	return rc;
}
