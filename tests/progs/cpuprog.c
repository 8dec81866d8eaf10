/* cpuprog.c - a target for the CPU tests, built -O2 -fomit-frame-pointer
 * so that only DWARF CFI can unwind it (tests/meson.build).
 *
 *   cpuprog hot SECS       main -> outer_level -> middle_level -> hot_function,
 *                          whose work is an always-inlined mix_step()
 *   cpuprog halfsleep SECS one thread: 10 ms of CPU, 10 ms asleep, repeat
 *   cpuprog spin SECS      one thread spinning (pin it with taskset)
 *   cpuprog jit SECS       spins in anonymous executable memory (no CFI,
 *                          no symbols): the unwinder must cope
 *   cpuprog spawn SECS     on SIGUSR1 starts a thread "np-late" that spins SECS
 *   cpuprog pingpong SECS  two threads pass a byte back and forth over pipes
 *                          (two context switches and wakeups per round trip)
 *                          and print round trips and CPU time per round trip
 *
 * Prints "cpuprog: ready pid PID" once running.  Exits after SECS.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline __attribute__((always_inline)) uint64_t mix_step(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	return x;
}

__attribute__((noinline)) static uint64_t hot_function(uint64_t seed)
{
	for (int i = 0; i < 200000; i++)
		seed = mix_step(seed + (uint64_t)i);
	return seed;
}

/* The extra work around each call keeps them real calls, not tail calls. */
__attribute__((noinline)) static uint64_t middle_level(uint64_t seed)
{
	uint64_t r = hot_function(seed);

	sink += r;
	return r ^ seed;
}

__attribute__((noinline)) static uint64_t outer_level(uint64_t seed)
{
	uint64_t r = middle_level(seed * 3);

	sink += r;
	return r + 1;
}

static void spin_for(double secs)
{
	double end = now_s() + secs;
	uint64_t x = 1;

	while (now_s() < end)
		for (int i = 0; i < 10000; i++)
			x = mix_step(x);
	sink += x;
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 10 ms of CPU (not of wall time: a busy machine may preempt us), then
 * 10 ms asleep. */
static void *halfsleep(void *arg)
{
	double end = now_s() + *(double *)arg;
	struct timespec ten_ms = {0, 10000000};
	uint64_t x = 1;

	while (now_s() < end) {
		double until = thread_cpu_s() + 0.010;

		while (thread_cpu_s() < until)
			for (int i = 0; i < 1000; i++)
				x = mix_step(x);
		nanosleep(&ten_ms, NULL);
	}
	sink += x;
	return NULL;
}

static void *late_spinner(void *arg)
{
	spin_for(*(double *)arg);
	return NULL;
}

/* dec rdi; jnz .-3; ret */
static const unsigned char jit_loop[] = {0x48, 0xff, 0xcf, 0x75, 0xfb, 0xc3};

__attribute__((noinline)) static void run_jit(double secs)
{
	void (*fn)(uint64_t);
	void *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double end = now_s() + secs;

	if (mem == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memcpy(mem, jit_loop, sizeof(jit_loop));
	fn = (void (*)(uint64_t))mem;
	while (now_s() < end)
		fn(10000000);
}

static int ping[2], pong[2];
static volatile int stop_pingpong;

static void *ponger(void *arg)
{
	char c;

	(void)arg;
	while (read(ping[0], &c, 1) == 1 && !stop_pingpong)
		if (write(pong[1], &c, 1) != 1)
			break;
	return NULL;
}

static double process_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for "go" on stdin first, so a tracer can attach before counting. */
static void pingpong(double secs)
{
	char c = 'x', line[16];
	uint64_t n = 0;
	pthread_t t;
	double t0, c0, end;

	if (pipe(ping) || pipe(pong)) {
		perror("pipe");
		exit(1);
	}
	pthread_create(&t, NULL, ponger, NULL);
	if (!fgets(line, sizeof(line), stdin))
		exit(1);
	t0 = now_s();
	c0 = process_cpu_s();
	end = t0 + secs;
	while (now_s() < end) {
		for (int i = 0; i < 100; i++, n++)
			if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
				exit(1);
	}
	printf("pingpong: %llu round trips in %.3f s, %.3f us CPU per round trip\n",
	       (unsigned long long)n, now_s() - t0, (process_cpu_s() - c0) * 1e6 / (double)n);
	stop_pingpong = 1;
	write(ping[1], &c, 1);
	pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	double secs;
	pthread_t t;

	if (argc != 3) {
		fprintf(stderr, "usage: cpuprog hot|halfsleep|spin|jit|spawn|pingpong SECS\n");
		return 2;
	}
	secs = atof(argv[2]);
	printf("cpuprog: ready pid %d\n", (int)getpid());
	fflush(stdout);
	if (!strcmp(argv[1], "hot")) {
		double end = now_s() + secs;
		uint64_t seed = 1;

		while (now_s() < end)
			seed = outer_level(seed);
		sink += seed;
	} else if (!strcmp(argv[1], "halfsleep")) {
		pthread_create(&t, NULL, halfsleep, &secs);
		pthread_setname_np(t, "np-half");
		pthread_join(t, NULL);
	} else if (!strcmp(argv[1], "spin")) {
		spin_for(secs);
	} else if (!strcmp(argv[1], "jit")) {
		run_jit(secs);
	} else if (!strcmp(argv[1], "pingpong")) {
		pingpong(secs);
	} else if (!strcmp(argv[1], "spawn")) {
		double rest = secs;
		sigset_t usr1;
		int sig;

		/* The profiler tells us when it is attached: a thread started
		 * after a fixed delay might be born before the window opens. */
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, NULL);
		sigwait(&usr1, &sig);
		pthread_create(&t, NULL, late_spinner, &rest);
		pthread_setname_np(t, "np-late");
		pthread_join(t, NULL);
	} else {
		return 2;
	}
	return 0;
}
