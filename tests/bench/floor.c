/* floor.c - attaches floor.bpf.c to one process for a while: the cost
 * floor of tests/bench/overhead.sh.
 *
 * usage: np_floor PID SECONDS    (root; prints "attached" once the hooks
 * are in, detaches after SECONDS or on SIGINT/SIGTERM) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct np_floor_bpf *skel;
	struct sigaction sa = {.sa_handler = on_signal};
	struct timespec end, now;
	long pid, secs;
	int rc;

	if (argc != 3 || (pid = strtol(argv[1], NULL, 10)) <= 0 ||
	    (secs = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: np_floor PID SECONDS\n");
		return 2;
	}
	skel = np_floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "np_floor: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->target_tgid = (__u32)pid;
	rc = np_floor_bpf__load(skel);
	if (!rc)
		rc = np_floor_bpf__attach(skel);
	if (rc) {
		fprintf(stderr, "np_floor: cannot load and attach: %s\n", strerror(-rc));
		np_floor_bpf__destroy(skel);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("attached\n");
	fflush(stdout);
	/* A sleeping loader costs nothing the measurement would see. */
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	do {
		struct timespec tick = {.tv_sec = 0, .tv_nsec = 100000000};

		nanosleep(&tick, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (!stop && (now.tv_sec < end.tv_sec ||
			   (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec)));
	np_floor_bpf__destroy(skel);
	return 0;
}
