/* testutil.h - helpers the unit tests share: temporary directories, whole
 * file reads and writes, copies of the fixture tree, UTF-8 checks.
 *
 * Not a test framework: criterion is.  Every helper aborts the current test
 * (cr_assert) on failure, so callers need no error paths.
 */
#ifndef NP_TESTUTIL_H
#define NP_TESTUTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* tests/fixtures in the source tree ($NP_FIXTURES overrides). */
const char *t_fixtures(void);
/* A fresh directory under $TMPDIR (or /tmp); `out` holds PATH_MAX bytes. */
void t_mkdtemp(char *out);
/* rm -rf; a missing path is fine. */
void t_rmtree(const char *path);
/* cp -a of a tree of directories, regular files and symlinks. */
void t_copytree(const char *src, const char *dst);
/* snprintf into a PATH_MAX buffer; a path that does not fit fails the test. */
void t_pathf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* mkdir -p */
void t_mkdirs(const char *path);
/* Whole file into a malloc'd buffer (NUL-terminated beyond *len). */
uint8_t *t_read_file(const char *path, size_t *len);
void t_write_file(const char *path, const void *data, size_t len);
bool t_valid_utf8(const char *s, size_t len);
/* Offsets of the block boundaries of a well-formed recording: out[0] is the
 * end of the file header, out[i] the end of block i.  Returns the count. */
size_t t_block_ends(const uint8_t *data, size_t len, size_t *out, size_t max);

#endif /* NP_TESTUTIL_H */
