/* folded_out.c - --format folded: the on-CPU stacks the model folded
 * (report/model/folded.h), one "a;b;c COUNT" per line. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report/model/cpu_report.h"
#include "report/model/report_model.h"
#include "report/render/format.h"
#include "report/render/sections.h"

int np_report_folded(const struct np_report *r, FILE *f)
{
	struct np_folded fo = {0};
	int rc;

	if (r->oncpu) {
		for (size_t i = 0; i < r->oncpu->n; i++)
			fprintf(f, "%s %" PRIu64 "\n", r->oncpu->v[i].stack, r->oncpu->v[i].count);
		return ferror(f) ? -1 : 0;
	}
	rc = np_cpu_folded_oncpu(r, &fo);
	for (size_t i = 0; !rc && i < fo.n; i++)
		fprintf(f, "%s %" PRIu64 "\n", fo.v[i].stack, fo.v[i].count);
	np_folded_fini(&fo);
	return rc || ferror(f) ? -1 : 0;
}
