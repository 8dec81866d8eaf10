/* ksyms.c - kernel text symbols from /proc/kallsyms (see ksyms.h). */
#include "profiler/base/ksyms.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* /proc/kallsyms is ~10 MB on a distribution kernel with modules. */
#define MAX_KALLSYMS_BYTES (256u << 20)
#define MAX_NAME 128

struct ksym {
	uint64_t addr;
	uint32_t name;   /* offset into names */
	uint32_t module; /* offset into names, 0 = core kernel */
};

struct np_ksyms {
	struct ksym *v;
	size_t n, cap;
	char *names; /* NUL-separated; offset 0 is "" */
	size_t names_len, names_cap;
};

static int add_name(struct np_ksyms *ks, const char *s, size_t len, uint32_t *off)
{
	if (len > MAX_NAME)
		len = MAX_NAME;
	if (ks->names_len + len + 1 > ks->names_cap) {
		size_t cap = ks->names_cap ? ks->names_cap * 2 : 1 << 16;
		char *p;

		while (cap < ks->names_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -ENOMEM;
		p = realloc(ks->names, cap);
		if (!p)
			return -ENOMEM;
		ks->names = p;
		ks->names_cap = cap;
	}
	memcpy(ks->names + ks->names_len, s, len);
	ks->names[ks->names_len + len] = '\0';
	*off = (uint32_t)ks->names_len;
	ks->names_len += len + 1;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool visible(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return n > 0;
}

/* One line: "ffffffff81000000 T _stext" or "... t name\t[module]". */
static int parse_line(struct np_ksyms *ks, const char *p, const char *end, uint32_t *last_module,
		      const char **last_module_s, size_t *last_module_len)
{
	uint64_t addr = 0;
	const char *name, *mod = NULL;
	size_t name_len, mod_len = 0, digits = 0;
	struct ksym *k;
	char type;
	int rc;

	while (p < end && hexval(*p) >= 0 && digits < 17) {
		addr = addr << 4 | (uint64_t)hexval(*p++);
		digits++;
	}
	if (digits == 0 || digits > 16 || end - p < 4 || *p != ' ' || p[2] != ' ')
		return 0;
	type = p[1];
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return 0;
	if (!addr)
		return 0; /* hidden addresses (kptr_restrict): nothing to map */
	name = p + 3;
	name_len = 0;
	while (name + name_len < end && name[name_len] != '\t' && name[name_len] != ' ')
		name_len++;
	if (!visible(name, name_len))
		return 0;
	p = name + name_len;
	while (p < end && (*p == '\t' || *p == ' '))
		p++;
	if (p < end && *p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (close && visible(p + 1, (size_t)(close - p - 1))) {
			mod = p + 1;
			mod_len = (size_t)(close - p - 1);
		}
	}
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 4096;
		struct ksym *v = reallocarray(ks->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		ks->v = v;
		ks->cap = cap;
	}
	k = &ks->v[ks->n];
	k->addr = addr;
	k->module = 0;
	if (mod) {
		/* Module symbols come in runs: share the module's name. */
		if (*last_module && *last_module_len == mod_len &&
		    !memcmp(*last_module_s, mod, mod_len)) {
			k->module = *last_module;
		} else {
			rc = add_name(ks, mod, mod_len, &k->module);
			if (rc)
				return rc;
			*last_module = k->module;
			*last_module_s = mod;
			*last_module_len = mod_len;
		}
	}
	rc = add_name(ks, name, name_len, &k->name);
	if (rc)
		return rc;
	ks->n++;
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int np_ksyms_parse(const char *text, size_t len, struct np_ksyms **out)
{
	struct np_ksyms *ks = calloc(1, sizeof(*ks));
	const char *p = text, *end = text + len, *last_s = NULL;
	uint32_t last_mod = 0, empty;
	size_t last_len = 0;
	int rc;

	if (!ks)
		return -ENOMEM;
	rc = add_name(ks, "", 0, &empty); /* offset 0 */
	while (!rc && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;

		rc = parse_line(ks, p, line_end, &last_mod, &last_s, &last_len);
		p = nl ? nl + 1 : end;
	}
	if (rc) {
		np_ksyms_free(ks);
		return rc;
	}
	if (ks->n)
		qsort(ks->v, ks->n, sizeof(*ks->v), by_addr);
	*out = ks;
	return 0;
}

int np_ksyms_load(const char *path, struct np_ksyms **out)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0 || !buf) {
		rc = fd < 0 ? -errno : -ENOMEM;
		free(buf);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb;

			if (cap >= MAX_KALLSYMS_BYTES)
				break;
			nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	rc = np_ksyms_parse(buf, n, out);
	free(buf);
	return rc;
}

size_t np_ksyms_count(const struct np_ksyms *ks)
{
	return ks ? ks->n : 0;
}

char *np_ksyms_name(const struct np_ksyms *ks, uint64_t addr, char *out, size_t outlen)
{
	size_t lo = 0, hi = ks ? ks->n : 0;
	const struct ksym *k;

	if (!outlen)
		return out;
	out[0] = '\0';
	/* the last symbol at or below addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || !addr)
		return out;
	k = &ks->v[lo - 1];
	/* Past a megabyte from its symbol an address is not inside it. */
	if (addr - k->addr >= (1u << 20))
		return out;
	if (k->module)
		snprintf(out, outlen, "%s+0x%" PRIx64 " [%s]", ks->names + k->name, addr - k->addr,
			 ks->names + k->module);
	else
		snprintf(out, outlen, "%s+0x%" PRIx64, ks->names + k->name, addr - k->addr);
	return out;
}

void np_ksyms_free(struct np_ksyms *ks)
{
	if (!ks)
		return;
	free(ks->v);
	free(ks->names);
	free(ks);
}
