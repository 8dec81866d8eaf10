/* np_html_fixture.c - writes the HTML report of a recording with synthetic
 * on-CPU and off-CPU folded stacks, for the Chromium test of the flame
 * graph before the CPU source exists.  The symbol names include markup and
 * quotes on purpose: they must show as text and never run.
 *
 *   np_html_fixture IN.nprof OUT.html
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/format/recording.h"
#include "report/report.h"

static const struct {
	const char *stack;
	unsigned long long count;
} oncpu[] = {
	{"main;serve;handle_request;compute_response;burn_cpu", 620},
	{"main;serve;handle_request;parse_request", 90},
	{"main;serve;handle_request;write_response;__libc_write;entry_SYSCALL_64;tcp_sendmsg", 140},
	{"main;serve;epoll_wait;entry_SYSCALL_64;do_epoll_wait", 30},
	{"main;serve;handle_request;</script><script>alert(1)</script>", 25},
	{"main;serve;std::operator<< <char, std::char_traits<char> >;\"quoted\" & 'apos'", 12},
	{"main;serve;handle_request;\xe2\x80\xa8line-separator\xe2\x80\xa9", 3},
};

static const struct {
	const char *stack;
	unsigned long long ns;
} offcpu[] = {
	{"main;serve;epoll_wait;schedule", 2500000000ull},
	{"main;serve;handle_request;pthread_mutex_lock;futex_wait;schedule", 400000000ull},
	{"main;serve;handle_request;<img src=x onerror=alert(2)>;schedule", 10000000ull},
};

int main(int argc, char **argv)
{
	struct np_recording *rec;
	struct np_report r;
	char err[256];
	FILE *f;
	int rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: np_html_fixture IN.nprof OUT.html\n");
		return 2;
	}
	if (np_recording_read(argv[1], &rec, err, sizeof(err))) {
		fprintf(stderr, "np_html_fixture: %s\n", err);
		return 1;
	}
	if (np_report_build(rec, &r, NP_REPORT_MAX_SLOW)) {
		np_recording_free(rec);
		return 1;
	}
	/* the fixture's stacks replace the recording's */
	np_folded_fini(r.oncpu);
	np_folded_fini(r.offcpu);
	free(r.oncpu);
	free(r.offcpu);
	r.oncpu = calloc(1, sizeof(*r.oncpu));
	r.offcpu = calloc(1, sizeof(*r.offcpu));
	if (!r.oncpu || !r.offcpu)
		rc = 1;
	for (size_t i = 0; !rc && i < sizeof(oncpu) / sizeof(oncpu[0]); i++)
		rc = np_folded_add(r.oncpu, oncpu[i].stack, oncpu[i].count);
	for (size_t i = 0; !rc && i < sizeof(offcpu) / sizeof(offcpu[0]); i++)
		rc = np_folded_add(r.offcpu, offcpu[i].stack, offcpu[i].ns);
	if (!rc) {
		r.oncpu->unit = "samples";
		r.offcpu->unit = "ns";
		f = fopen(argv[2], "w");
		rc = !f || np_report_html(&r, f) || fclose(f);
	}
	np_report_fini(&r);
	np_recording_free(rec);
	return rc ? 1 : 0;
}
