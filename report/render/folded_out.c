/* folded_out.c - --format folded: the on-CPU stacks the model folded
 * (report/model/folded.h), one "a;b;c COUNT" per line. */
#include <inttypes.h>
#include <stdio.h>

#include "report/model/report_model.h"
#include "report/render/render.h"

int np_report_folded(const struct np_report *r, FILE *f)
{
	/* none without CPU samples (the model leaves r->oncpu NULL then) */
	for (size_t i = 0; r->oncpu && i < r->oncpu->n; i++)
		fprintf(f, "%s %" PRIu64 "\n", r->oncpu->v[i].stack, r->oncpu->v[i].count);
	return ferror(f) ? -1 : 0;
}
