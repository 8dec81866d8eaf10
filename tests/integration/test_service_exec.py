"""A process of the service that execs while recording (issue 12): its
samples from then on are unwound and symbolized in the new image, not in
the address space read before the exec.

Both programs are built here as static non-PIE executables, so both load
at 0x400000 and neither maps a library: every pc of the new image falls
inside the old image's module, the case a refresh of the maps on unknown
pcs cannot catch.  Every process a test
starts is stopped in a finally block."""
import subprocess

from conftest import Recording, report

FREQ = 199

PARENT = r"""
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

/* Half a second on the CPU in the old image, so that its module is opened
 * and named before the exec. */
__attribute__((noinline)) void old_image_spin(void)
{
	struct timespec ts;
	double end;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + ts.tv_nsec / 1e9 + 0.5;
	do {
		for (int i = 0; i < 100000; i++)
			sink += i;
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while (ts.tv_sec + ts.tv_nsec / 1e9 < end);
}

/* A child that waits for a line on stdin, spins, then execs argv[1]; the
 * parent prints the child's pid and waits for it. */
int old_image_waits(const char *next)
{
	char line[16];
	pid_t pid = fork();

	if (pid == 0) {
		if (!fgets(line, sizeof(line), stdin))
			_exit(1);
		old_image_spin();
		execl(next, next, (char *)0);
		_exit(127);
	}
	printf("%d\n", (int)pid);
	fflush(stdout);
	waitpid(pid, NULL, 0);
	printf("done\n");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	return argc > 1 ? old_image_waits(argv[1]) : 2;
}
"""

BURNER = r"""
static volatile unsigned long sink;

/* The new image: a second or so on the CPU, in this function, without a
 * call into the vdso (whose new address would give the new image away). */
__attribute__((noinline)) void burn_after_exec(void)
{
	for (unsigned long i = 0; i < 800000000ul; i++)
		sink += i;
}

int main(void)
{
	burn_after_exec();
	return 0;
}
"""


def build(tmp_path, name, source):
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    exe = tmp_path / name
    subprocess.run(["cc", "-O1", "-g", "-fno-pie", "-no-pie", "-static", "-o", str(exe), str(src)],
                   check=True)
    return str(exe)


def functions_of(rep, pid):
    return {f["function"] for t in rep["cpu_profile"]["threads"] if t["pid"] == pid
            for f in t["top"]}


def test_samples_after_exec_are_named_in_the_new_image(tmp_path):
    parent = build(tmp_path, "old_image", PARENT)
    burner = build(tmp_path, "new_image", BURNER)
    srv = subprocess.Popen([parent, burner], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    try:
        child = int(srv.stdout.readline())
        path = str(tmp_path / "exec.nprof")
        # the child is there at attach: its address space is the old image's
        rec = Recording.of(path, 4, "--max-overhead", "50", "-F", str(FREQ), "-p",
                           str(srv.pid))
        srv.stdin.write("go\n")
        srv.stdin.flush()
        assert srv.stdout.readline().strip() == "done"
        rc, err = rec.wait()
        assert rc == 0, err
        rep = report(path)
        procs = {p["pid"]: p for p in rep["target"]["processes"]}
        assert child in procs and not procs[child]["new"], procs
        names = functions_of(rep, child)
        print(child, names)
        # named in the old image's space, the new pcs would be the old code
        assert "burn_after_exec" in names, names
        # and the samples before the exec keep the old image's names
        assert "old_image_spin" in names, names
        assert procs[child]["cpu_samples"] >= FREQ // 2, procs[child]
    finally:
        srv.kill()
        srv.wait()
