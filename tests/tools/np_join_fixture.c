/* np_join_fixture.c - writes the synthetic recordings of
 * tests/unit/joinfix.h into a directory, for tests that run the netprof
 * binary on them (tests/tools/join_schema.py).
 *
 *   np_join_fixture DIR [SHIFT_NS] [nat|plain] [REQUESTS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/joinfix.h"

int main(int argc, char **argv)
{
	struct joinfix fx = {.requests = 60};
	int rc;

	if (argc < 2) {
		fputs("usage: np_join_fixture DIR [SHIFT_NS] [nat|plain] [REQUESTS]\n", stderr);
		return 2;
	}
	if (argc > 2)
		fx.shift_ns = strtoll(argv[2], NULL, 10);
	fx.nat = argc > 3 && !strcmp(argv[3], "nat");
	if (argc > 4)
		fx.requests = (unsigned)strtoul(argv[4], NULL, 10);
	rc = joinfix_write(argv[1], &fx);
	if (rc)
		fprintf(stderr, "np_join_fixture: cannot write %s: %s\n", argv[1], strerror(-rc));
	return rc ? 1 : 0;
}
