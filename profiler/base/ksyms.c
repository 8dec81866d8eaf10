/* ksyms.c - kernel text symbols from /proc/kallsyms (see ksyms.h).
 *
 * One pass over the text, in place: names stay where they are in the
 * buffer (their ends overwritten with NULs), since the kernel's table has
 * over 100,000 lines and is read at the end of every recording.
 */
#include "profiler/base/ksyms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/base/array.h"
#include "profiler/base/hex.h"
#include "profiler/base/procfs.h"

/* /proc/kallsyms is ~10 MB on a distribution kernel with modules. */
#define MAX_KALLSYMS_BYTES (256u << 20)
/* A kernel function is smaller than this; an address further past the
 * last symbol is not in it. */
#define KSYM_MAX_SIZE (1u << 20)

struct ksym {
	uint64_t addr;
	uint32_t name;   /* offset into names */
	uint32_t module; /* offset into names; the final NUL ("") for the kernel image */
};

struct np_ksyms {
	struct ksym *v;
	size_t n, cap;
	char *names; /* the text read, names NUL-terminated in place */
};

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool visible(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return n > 0;
}

/* One line [p, le): "ffffffff81000000 T _stext" or "... t name\t[module]".
 * On a text symbol at a non-zero address, NUL-terminates its name (and
 * module) in place and returns true.  Sets *any_text for every text
 * symbol, hidden or not. */
static bool parse_line(char *p, char *le, uint64_t *addr, char **name, char **module,
		       bool *any_text)
{
	char *q;
	int digits = 0, d;
	char type;

	*addr = 0;
	*module = NULL;
	while (p < le && (d = np_hexval(*p)) >= 0 && digits < 17) {
		*addr = *addr << 4 | (uint64_t)d;
		p++;
		digits++;
	}
	if (!digits || digits > 16 || le - p < 4 || p[0] != ' ' || p[2] != ' ')
		return false;
	type = p[1];
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return false;
	*name = p + 3;
	for (q = *name; q < le && *q != ' ' && *q != '\t'; q++)
		;
	if (!visible(*name, (size_t)(q - *name)))
		return false;
	*any_text = true;
	if (!*addr)
		return false; /* hidden (kptr_restrict): nothing to map */
	if (q == le) {
		*q = '\0'; /* the newline, or the final NUL */
		return true;
	}
	*q++ = '\0';
	while (q < le && (*q == ' ' || *q == '\t'))
		q++;
	if (q < le && *q == '[') {
		char *close = memchr(q, ']', (size_t)(le - q));

		if (close && visible(q + 1, (size_t)(close - q - 1))) {
			*close = '\0';
			*module = q + 1;
		}
	}
	return true;
}

/* Parses buf (len bytes and a NUL after them) in place; takes ownership of
 * buf. */
static int parse_inplace(char *buf, size_t len, struct np_ksyms **out)
{
	struct np_ksyms *ks;
	char *p = buf, *end = buf + len;
	bool any_text = false, sorted = true;
	uint64_t prev = 0;

	*out = NULL;
	if (len >= UINT32_MAX) {
		free(buf);
		return -E2BIG;
	}
	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		free(buf);
		return -ENOMEM;
	}
	ks->names = buf;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		char *name, *module;
		uint64_t addr;

		if (parse_line(p, le, &addr, &name, &module, &any_text)) {
			if (NP_GROW(ks->v, ks->cap, ks->n + 1)) {
				np_ksyms_free(ks);
				return -ENOMEM;
			}
			sorted &= addr >= prev;
			prev = addr;
			/* offset len (the final NUL) is "" */
			ks->v[ks->n++] = (struct ksym){
				.addr = addr,
				.name = (uint32_t)(name - buf),
				.module = module ? (uint32_t)(module - buf) : (uint32_t)len,
			};
		}
		p = nl ? nl + 1 : end;
	}
	if (!ks->n && any_text) {
		np_ksyms_free(ks);
		return -EPERM; /* kptr_restrict: every address reads as zero */
	}
	if (!sorted)
		qsort(ks->v, ks->n, sizeof(*ks->v), by_addr);
	*out = ks;
	return 0;
}

int np_ksyms_parse(const char *text, size_t len, struct np_ksyms **out)
{
	char *buf;

	*out = NULL;
	if (len >= UINT32_MAX)
		return -E2BIG;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return parse_inplace(buf, len, out);
}

int np_ksyms_load(const char *proc_root, struct np_ksyms **out)
{
	char path[4096], *buf;
	size_t len;
	int rc;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/proc/kallsyms", proc_root);
	rc = np_read_file(path, MAX_KALLSYMS_BYTES, &buf, &len);
	if (rc)
		return rc;
	return parse_inplace(buf, len, out);
}

size_t np_ksyms_count(const struct np_ksyms *ks)
{
	return ks ? ks->n : 0;
}

bool np_ksyms_lookup(const struct np_ksyms *ks, uint64_t addr, const char **name,
		     const char **module, uint64_t *offset)
{
	size_t lo = 0, hi = ks ? ks->n : 0;
	const struct ksym *k;

	/* the last symbol at or below addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	k = &ks->v[lo - 1];
	if (addr - k->addr >= KSYM_MAX_SIZE)
		return false;
	*name = ks->names + k->name;
	*module = ks->names + k->module;
	*offset = addr - k->addr;
	return true;
}

char *np_ksyms_name(const struct np_ksyms *ks, uint64_t addr, char *out, size_t outlen)
{
	const char *name, *module;
	uint64_t off;

	if (!outlen)
		return out;
	out[0] = '\0';
	if (!np_ksyms_lookup(ks, addr, &name, &module, &off))
		return out;
	if (module[0])
		snprintf(out, outlen, "%s+0x%" PRIx64 " [%s]", name, off, module);
	else
		snprintf(out, outlen, "%s+0x%" PRIx64, name, off);
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
