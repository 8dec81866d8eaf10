/* addrspace.c - the target's mappings as Dwfl modules (see addrspace.h). */
#include "profiler/cpu/addrspace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profiler/base/array.h"
#include "profiler/base/procfs.h"
#include "profiler/format/timeline.h"

/* A process with more modules than this is refused more (JIT heavy
 * runtimes map thousands of small regions; the first ones are enough). */
#define NP_MAX_MODULES 65536

struct np_addrspace {
	char proc_root[PATH_MAX];
	pid_t pid;
	Dwfl *dwfl;
	struct np_module **mods; /* by id - 1 */
	size_t n, cap;
	struct np_module **sorted; /* by start, for lookups */
	size_t n_sorted;
	uint64_t last_refresh_ns;
	char exe[PATH_MAX];
};

static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		    char **file_name, Elf **elfp);

static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/* The vdso is not a file: copy its image out of the process. */
static int read_vdso(struct np_addrspace *as, struct np_module *m)
{
	char path[PATH_MAX];
	size_t len = m->end - m->start;
	ssize_t got;
	int fd;

	if (len == 0 || len > (16u << 20))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/proc/%d/mem", as->proc_root, (int)as->pid) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	m->image = malloc(len);
	if (!m->image) {
		close(fd);
		return -ENOMEM;
	}
	got = pread(fd, m->image, len, (off_t)m->start);
	close(fd);
	if (got != (ssize_t)len) {
		free(m->image);
		m->image = NULL;
		return -EIO;
	}
	m->image_bytes = len;
	return 0;
}

static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct np_module *m = *userdata;
	struct np_addrspace *as = m ? m->as : NULL;
	char path[PATH_MAX];
	struct stat st;
	int fd;

	(void)mod;
	(void)modname;
	(void)base;
	if (!m || !as)
		return -1;
	if (m->flags & NP_MOD_VDSO) {
		if (!m->image && read_vdso(as, m))
			return -1;
		*elfp = elf_memory(m->image, m->image_bytes);
		return -1;
	}
	/* map_files: the file really mapped, even if deleted or replaced. */
	fd = -1;
	if (snprintf(path, sizeof(path), "%s/proc/%d/map_files/%llx-%llx", as->proc_root,
		     (int)as->pid, (unsigned long long)m->map_start,
		     (unsigned long long)m->map_end) < (int)sizeof(path))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	/* Opened late (ELF files open at first use), for a process that has
	 * exec'd since: the range may now map the new image's file. */
	if (fd >= 0 && (fstat(fd, &st) || (uint64_t)st.st_ino != m->inode)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0 && !(m->flags & NP_MOD_DELETED)) {
		/* Inside the target's mount namespace, then ours. */
		if (snprintf(path, sizeof(path), "%s/proc/%d/root%s", as->proc_root, (int)as->pid,
			     m->path) < (int)sizeof(path))
			fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fd = open(m->path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -1;
	/* The name libdwfl looks for .gnu_debuglink files next to. */
	*file_name = strdup(m->path);
	return fd;
}

static bool is_exec(const struct np_map *mp)
{
	return mp->perms[2] == 'x';
}

static struct np_module *add_module(struct np_addrspace *as, const char *path, uint32_t flags,
				    const struct np_map *mp)
{
	struct np_module *m;

	if (as->n >= NP_MAX_MODULES)
		return NULL;
	if (NP_GROW(as->mods, as->cap, as->n + 1))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->path = strdup(path);
	if (!m->path) {
		free(m);
		return NULL;
	}
	m->id = (uint32_t)as->n + 1;
	m->as = as;
	m->flags = flags;
	m->start = mp->start;
	m->end = mp->end;
	m->map_start = mp->start;
	m->map_end = mp->end;
	m->inode = mp->inode;
	as->mods[as->n++] = m;
	return m;
}

/* A module already known for this mapping group, or NULL. */
static struct np_module *known(struct np_addrspace *as, const char *path, uint64_t start,
			       uint64_t inode)
{
	for (size_t i = 0; i < as->n_sorted; i++) {
		struct np_module *m = as->sorted[i];

		if (m->start == start && m->inode == inode && !strcmp(m->path, path))
			return m;
	}
	return NULL;
}

static int by_start(const void *a, const void *b)
{
	const struct np_module *x = *(struct np_module *const *)a;
	const struct np_module *y = *(struct np_module *const *)b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int rebuild_index(struct np_addrspace *as)
{
	void *p = reallocarray(as->sorted, as->n ? as->n : 1, sizeof(*as->sorted));

	if (!p)
		return -ENOMEM;
	as->sorted = p;
	memcpy(as->sorted, as->mods, as->n * sizeof(*as->mods));
	as->n_sorted = as->n;
	qsort(as->sorted, as->n_sorted, sizeof(*as->sorted), by_start);
	return 0;
}

static void report(struct np_addrspace *as, struct np_module *m)
{
	void **userdata = NULL;

	if (m->flags & NP_MOD_ANON)
		return;
	m->dwmod = dwfl_report_module(as->dwfl, m->path, m->start, m->end);
	if (m->dwmod && dwfl_module_info(m->dwmod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL) &&
	    userdata)
		*userdata = m;
}

/* One group of mappings of the same file, being collected. */
struct group {
	struct np_map first;
	uint64_t end;
	bool exec;
	bool open;
};

static void close_group(struct np_addrspace *as, struct group *g, struct np_module **fresh,
			size_t *n_fresh)
{
	char path[sizeof(g->first.path)];
	uint32_t flags = 0;
	struct np_module *m;
	size_t len;

	if (!g->open || !g->exec)
		goto out;
	snprintf(path, sizeof(path), "%s", g->first.path);
	len = strlen(path);
	if (len > 10 && !strcmp(path + len - 10, " (deleted)")) {
		path[len - 10] = '\0';
		flags |= NP_MOD_DELETED;
	}
	if (!strcmp(path, "[vdso]"))
		flags |= NP_MOD_VDSO;
	else if (path[0] != '/')
		goto out; /* [vsyscall], [stack], ... */
	if (!strcmp(path, as->exe))
		flags |= NP_MOD_MAIN;
	if (known(as, path, g->first.start, g->first.inode))
		goto out;
	m = add_module(as, path, flags, &g->first);
	if (m) {
		m->end = g->end;
		fresh[(*n_fresh)++] = m;
	}
out:
	g->open = false;
}

static int read_maps(struct np_addrspace *as)
{
	char path[PATH_MAX], *line = NULL;
	struct np_module **fresh = NULL;
	size_t n_fresh = 0, fresh_cap = 0, cap = 0;
	struct group g = {.open = false};
	ssize_t len;
	FILE *f;
	int rc = 0;

	if (snprintf(path, sizeof(path), "%s/proc/%d/maps", as->proc_root, (int)as->pid) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while ((len = getline(&line, &cap, f)) > 0) {
		struct np_map mp;

		if (np_parse_maps_line(line, (size_t)len, &mp))
			continue;
		if (NP_GROW(fresh, fresh_cap, n_fresh + 2)) {
			rc = -ENOMEM;
			break;
		}
		if (g.open && mp.inode == g.first.inode && !strcmp(mp.path, g.first.path) &&
		    mp.inode != 0) {
			g.end = mp.end;
			g.exec |= is_exec(&mp);
			continue;
		}
		close_group(as, &g, fresh, &n_fresh);
		if (mp.path[0] == '/' || !strcmp(mp.path, "[vdso]")) {
			g = (struct group){.first = mp,
					   .end = mp.end,
					   .exec = is_exec(&mp),
					   .open = true};
			/* a file mapped from a non-zero offset first: not an ELF
			 * load we can place */
			if (mp.offset != 0 && mp.path[0] == '/')
				g.open = false;
		} else if (is_exec(&mp) && (mp.path[0] == '\0' || !strncmp(mp.path, "[anon", 5) ||
					    !strncmp(mp.path, "/memfd:", 7))) {
			/* anonymous executable memory: JIT code */
			if (!known(as, "[anon]", mp.start, 0)) {
				struct np_module *m = add_module(as, "[anon]", NP_MOD_ANON, &mp);

				if (m)
					fresh[n_fresh++] = m;
			}
		}
	}
	close_group(as, &g, fresh, &n_fresh);
	free(line);
	fclose(f);
	if (n_fresh) {
		dwfl_report_begin_add(as->dwfl);
		for (size_t i = 0; i < n_fresh; i++)
			report(as, fresh[i]);
		dwfl_report_end(as->dwfl, NULL, NULL);
		if (!rc)
			rc = rebuild_index(as);
	}
	free(fresh);
	return rc;
}

int np_addrspace_new(const char *proc_root, pid_t pid, struct np_addrspace **out)
{
	struct np_addrspace *as = calloc(1, sizeof(*as));
	char link[PATH_MAX];
	ssize_t n;
	int rc;

	if (!as)
		return -ENOMEM;
	snprintf(as->proc_root, sizeof(as->proc_root), "%s", proc_root);
	as->pid = pid;
	snprintf(link, sizeof(link), "%s/proc/%d/exe", proc_root, (int)pid);
	n = readlink(link, as->exe, sizeof(as->exe) - 1);
	as->exe[n > 0 ? n : 0] = '\0';
	if (n > 10 && !strcmp(as->exe + n - 10, " (deleted)"))
		as->exe[n - 10] = '\0';
	as->dwfl = dwfl_begin(&callbacks);
	if (!as->dwfl) {
		free(as);
		return -ENOMEM;
	}
	rc = read_maps(as);
	if (rc) {
		np_addrspace_free(as);
		return rc;
	}
	*out = as;
	return 0;
}

int np_addrspace_refresh(struct np_addrspace *as, uint64_t now_ns, uint64_t min_interval_ns)
{
	if (as->last_refresh_ns && now_ns - as->last_refresh_ns < min_interval_ns)
		return 0;
	as->last_refresh_ns = now_ns;
	return read_maps(as);
}

Dwfl *np_addrspace_dwfl(struct np_addrspace *as)
{
	return as->dwfl;
}

pid_t np_addrspace_pid(const struct np_addrspace *as)
{
	return as->pid;
}

struct np_module *np_addrspace_find(struct np_addrspace *as, uint64_t addr)
{
	size_t lo = 0, hi = as->n_sorted;

	/* the last module starting at or below addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (as->sorted[mid]->start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	return addr < as->sorted[lo - 1]->end ? as->sorted[lo - 1] : NULL;
}

struct np_module *const *np_addrspace_modules(const struct np_addrspace *as, size_t *n)
{
	*n = as->n;
	return as->mods;
}

void np_addrspace_free(struct np_addrspace *as)
{
	if (!as)
		return;
	if (as->dwfl)
		dwfl_end(as->dwfl);
	for (size_t i = 0; i < as->n; i++) {
		free(as->mods[i]->path);
		free(as->mods[i]->image);
		free(as->mods[i]);
	}
	free(as->mods);
	free(as->sorted);
	free(as);
}
