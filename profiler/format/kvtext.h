/* kvtext.h - the key=value text codec of the recording: "key=value\n"
 * lines whose values are escaped, so that one value is always one line.
 * The recording's metadata (NP_BLK_META) and the network configuration
 * snapshot (NP_BLK_NET_CONFIG) are such text; both are written and read
 * here, and nowhere else.
 *
 * Keys are written as given (callers use fixed names and interface names,
 * which hold neither '=' nor a newline).  The text is untrusted when read:
 * np_kvtext_parse checks every length and is fuzzed (tests/fuzz/fuzz_meta.c).
 */
#ifndef NP_KVTEXT_H
#define NP_KVTEXT_H

#include <stddef.h>

struct np_meta_kv {
	char *key;
	char *value;
};

/* Escaping of values: "\\", "\n" and bytes outside 0x20..0x7e become
 * escapes ("\\\\", "\\n", "\\xHH").  np_meta_escape writes at most outlen
 * bytes with the NUL and returns the length the whole escape needs (so
 * out may be NULL with outlen 0).  np_meta_unescape returns the length
 * written, -EINVAL on a bad escape, -ENOSPC when out is too small. */
size_t np_meta_escape(const char *in, char *out, size_t outlen);
int np_meta_unescape(const char *in, size_t inlen, char *out, size_t outlen);

/* Text being written: a growing buffer of lines. */
struct np_kvtext {
	char *buf;
	size_t len, cap;
};

/* Appends "key=escaped value\n".  Returns 0 or -ENOMEM (the text is then
 * unchanged). */
int np_kvtext_put(struct np_kvtext *t, const char *key, const char *value);
/* Frees the buffer of an embedded np_kvtext and empties it. */
void np_kvtext_fini(struct np_kvtext *t);

/* Appends the pairs of text[0..len) to the array *kv of *n pairs and
 * capacity *cap, key and value malloc'd, the value unescaped.  Lines
 * without '=' are skipped; an empty key is kept (as META always kept it:
 * test_recording pins it); a value with a bad escape (only a crafted file
 * has one) is read as "", its key kept.  Returns 0 or -ENOMEM
 * (the pairs appended so far stay the caller's to free). */
int np_kvtext_parse(const char *text, size_t len, struct np_meta_kv **kv, size_t *n, size_t *cap);

#endif /* NP_KVTEXT_H */
