/* main.c - the netprof command line, and nothing else.
 *
 *   netprof record -p PID [-d SECONDS] [-o FILE.nprof] [options]
 *   netprof report FILE.nprof [--format text|json|html|perfetto|folded|pprof|otlp] [-o OUT]
 *   netprof diff BEFORE.nprof AFTER.nprof [--format text|json|html] [-o OUT]
 *   netprof report A.nprof B.nprof [C.nprof ...] [--format text|json] [-o OUT]   (joined)
 *   netprof -p PID [-d SECONDS] [--html FILE] [--json FILE] [options]   (record + report)
 *
 * Exit status: 0 success, 1 runtime failure, 2 usage error.  Every failure
 * is one line on stderr that says what is wrong and what to do.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profiler/collect/config.h"
#include "profiler/session/governor.h"
#include "profiler/format/recording.h"
#include "report/report.h"
#include "profiler/session/session.h"
#include "profiler/cli/status.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: netprof record -p PID [-d SECONDS] [-o FILE.nprof] [options]\n"
	"       netprof report FILE.nprof [-o OUT]\n"
	"                      [--format text|json|html|perfetto|folded|pprof|otlp]\n"
	"       netprof diff BEFORE.nprof AFTER.nprof [--format text|json|html] [-o OUT]\n"
	"       netprof report A.nprof B.nprof [C.nprof ...] [--format text|json] [-o OUT]\n"
	"       netprof -p PID [-d SECONDS] [--html FILE] [--json FILE] [-o FILE.nprof] [options]\n"
	"\n"
	"Attach to a running process for a few seconds, trace its network and epoll\n"
	"system calls with BPF, and report where its time went.  Needs root or\n"
	"CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN.\n"
	"\n"
	"record / one-shot options:\n"
	"  -p, --pid PID[,PID..]  processes to profile (all threads, also new ones) and\n"
	"                         their descendants; may be repeated\n"
	"      --no-children      only the processes named, not their descendants\n"
	"      --cgroup PATH      every process of a cgroup v2 subtree (PATH under the\n"
	"                         v2 mount, or absolute), also ones that enter it\n"
	"      --unit NAME        a systemd unit's cgroup (system.slice/NAME.service or\n"
	"                         a user slice)\n"
	"      --container ID     the cgroup whose path holds a container id\n"
	"      --max-processes N  refuse a target of more than N processes (default 256)\n"
	"  -d, --duration SECS    how long to record (default 10; Ctrl-C ends early)\n"
	"  -o, --output FILE      recording to write (record: default netprof-PID.nprof;\n"
	"                         one-shot: kept only when given)\n"
	"      --threshold TIME   keep every call slower than TIME (default 1ms;\n"
	"                         units ns, us, ms, s; plain numbers are ms)\n"
	"      --sample N         also keep 1 in N calls of any latency for the timeline\n"
	"                         (default 64; 0 = none)\n"
	"      --ringbuf-kb KB    kernel-to-user event buffer (default 4096)\n"
	"      --poll-ms MS       polling period of /proc and the buffers (default 100)\n"
	"  -F, --freq HZ          CPU samples per second per thread (default 99; 0 = off)\n"
	"      --stack-kb KB      user stack copied per CPU sample for unwinding\n"
	"                         (default 16, 4 to 60)\n"
	"      --unwinder LIB     library that unwinds the user stacks: libdw (default)\n"
	"                         or libunwind\n"
	"      --no-cpu           no CPU samples and no scheduler tracer (thread times\n"
	"                         then come from /proc schedstat polls)\n"
	"      --no-payload       never read request or response bytes (no HTTP labels)\n"
	"      --no-exchanges     do not time requests per connection\n"
	"      --tls              uprobes on the target's libssl: labels, status and\n"
	"                         handshake time of TLS exchanges (each SSL call then\n"
	"                         traps into the kernel: see TLS in the README)\n"
	"      --no-tls           no uprobes on libssl (the default)\n"
	"      --no-netstack      no kernel stack events (drops, retransmits, softirq)\n"
	"      --max-overhead PCT budget for netprof's own cost, in percent of one CPU\n"
	"                         (default 5; 0.01 to 100; 0 = no governor): above it,\n"
	"                         detail is shed step by step and the report says so\n"
	"  -v, --verbose          progress and libbpf messages, verifier log on failure\n"
	"                         (instead of the status line)\n"
	"one-shot only:\n"
	"      --json FILE        also write the JSON report to FILE\n"
	"      --html FILE        also write the HTML report to FILE\n"
	"report options:\n"
	"  -f, --format FMT       text (default), json, html (one self-contained page),\n"
	"                         perfetto (Chrome JSON trace for ui.perfetto.dev),\n"
	"                         folded (on-CPU stacks for flame graph tools),\n"
	"                         pprof (gzipped profile.proto: go tool pprof, Pyroscope,\n"
	"                         Parca) or otlp (OTLP/JSON traces of the exchanges)\n"
	"  -o, --output OUT       write the report to OUT instead of standard output\n"
	"diff: compares two recordings (before and after a change) per second and per\n"
	"request, marks each change significant or within noise, and lists what changed\n"
	"in the configuration; --format text (default), json, or html (one page with\n"
	"the latency distributions and a differential flame graph), -o as for report.\n"
	"Recordings of different format versions are refused (exit 1).\n"
	"report with several recordings: joins recordings made at the same time on\n"
	"several hosts or namespaces (record each with --sample 1) by TCP 4-tuple,\n"
	"estimates their clock offsets, splits each hop's peer time into network and\n"
	"the callee's own time; --format text (default) or json.\n"
	"\n"
	"  -h, --help             this text\n"
	"  -V, --version          print the version\n"
	"\n"
	"On a terminal, one status line on stderr shows the recording's progress\n"
	"(elapsed/total seconds, events, losses, netprof's own CPU); not with -v.\n"
	"Exit status: 0 success, 1 runtime failure, 2 usage error.\n"
	"\n"
	"EXAMPLES:\n"
	"    netprof -p 1234\n"
	"        record pid 1234 for 10 s (root) and print the report\n"
	"    netprof -p 1234 -d 30 --html web.html\n"
	"        30 s, and also write a self-contained HTML report\n"
	"    netprof record -p 1234 -o web.nprof\n"
	"        record only; report later, on any machine\n"
	"    netprof report web.nprof\n"
	"        the text report of a recording (no root needed)\n"
	"    netprof report web.nprof -f json -o web.json\n"
	"        the same report as JSON, into web.json\n"
	"    netprof report web.nprof -f folded > cpu.folded\n"
	"        on-CPU stacks for flamegraph.pl\n"
	"    netprof report web.nprof -f pprof -o cpu.pb.gz\n"
	"        the CPU profile for go tool pprof -http=: cpu.pb.gz\n"
	"    netprof diff before.nprof after.nprof\n"
	"        what changed between two recordings, and whether it is more than noise\n"
	"    netprof diff before.nprof after.nprof -f json -o diff.json\n"
	"        the same comparison as JSON\n"
	"    netprof diff before.nprof after.nprof -f html -o diff.html\n"
	"        the comparison as a page, with a differential flame graph\n"
	"    netprof report client.nprof proxy.nprof api.nprof\n"
	"        recordings made at once (each with --sample 1) joined across hosts\n"
	"    netprof -p 1234 --threshold 200us --sample 0\n"
	"        keep every call slower than 200 us, and no samples\n"
	"    netprof record -p 1234 -F 0 --no-payload --max-overhead 1\n"
	"        the lightest touch: no CPU samples, no payload, 1% budget\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("netprof: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; see netprof --help\n", stderr);
	return EXIT_USAGE;
}

__attribute__((format(printf, 1, 2))) static int runtime_error(const char *fmt, ...)
{
	va_list ap;

	fputs("netprof: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_RUNTIME;
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "5", "0.5" or "5%": percent of one CPU, 0 or 0.01..100, as a share. */
static bool parse_percent(const char *s, double *out_share)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !(v >= 0) || v > 100)
		return false;
	if (*end == '%')
		end++;
	if (*end || (v > 0 && v < 0.01))
		return false;
	*out_share = v / 100.0;
	return true;
}

/* "2", "0.5", "1.5s" -> ns */
static bool parse_seconds(const char *s, uint64_t *out_ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || (*end && strcmp(end, "s")) || !isfinite(v) || v < 0.05 ||
	    v > 86400)
		return false;
	*out_ns = (uint64_t)(v * 1e9);
	return true;
}

/* "1ms", "500us", "250000ns", "0.5s", "2" (ms) -> ns, within 1 us .. 60 s */
static bool parse_time(const char *s, uint64_t *out_ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {{"", 1e6}, {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		v *= units[i].ns;
		if (v < 1e3 || v > 60e9)
			return false;
		*out_ns = (uint64_t)v;
		return true;
	}
	return false;
}

enum {
	OPT_THRESHOLD = 256,
	OPT_SAMPLE,
	OPT_RINGBUF_KB,
	OPT_POLL_MS,
	OPT_JSON,
	OPT_HTML,
	OPT_STACK_KB,
	OPT_UNWINDER,
	OPT_NO_CPU,
	OPT_NO_PAYLOAD,
	OPT_TLS,
	OPT_NO_TLS,
	OPT_NO_EXCHANGES,
	OPT_NO_NETSTACK,
	OPT_MAX_OVERHEAD,
	OPT_NO_CHILDREN,
	OPT_CGROUP,
	OPT_UNIT,
	OPT_CONTAINER,
	OPT_MAX_PROCESSES,
};

static const struct option long_options[] = {
	{"pid", required_argument, NULL, 'p'},
	{"duration", required_argument, NULL, 'd'},
	{"output", required_argument, NULL, 'o'},
	{"format", required_argument, NULL, 'f'},
	{"threshold", required_argument, NULL, OPT_THRESHOLD},
	{"sample", required_argument, NULL, OPT_SAMPLE},
	{"ringbuf-kb", required_argument, NULL, OPT_RINGBUF_KB},
	{"poll-ms", required_argument, NULL, OPT_POLL_MS},
	{"json", required_argument, NULL, OPT_JSON},
	{"html", required_argument, NULL, OPT_HTML},
	{"freq", required_argument, NULL, 'F'},
	{"stack-kb", required_argument, NULL, OPT_STACK_KB},
	{"unwinder", required_argument, NULL, OPT_UNWINDER},
	{"no-cpu", no_argument, NULL, OPT_NO_CPU},
	{"no-payload", no_argument, NULL, OPT_NO_PAYLOAD},
	{"no-exchanges", no_argument, NULL, OPT_NO_EXCHANGES},
	{"tls", no_argument, NULL, OPT_TLS},
	{"no-tls", no_argument, NULL, OPT_NO_TLS},
	{"no-netstack", no_argument, NULL, OPT_NO_NETSTACK},
	{"max-overhead", required_argument, NULL, OPT_MAX_OVERHEAD},
	{"no-children", no_argument, NULL, OPT_NO_CHILDREN},
	{"cgroup", required_argument, NULL, OPT_CGROUP},
	{"unit", required_argument, NULL, OPT_UNIT},
	{"container", required_argument, NULL, OPT_CONTAINER},
	{"max-processes", required_argument, NULL, OPT_MAX_PROCESSES},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

enum mode { MODE_ONESHOT, MODE_RECORD, MODE_REPORT, MODE_DIFF };

static int render_text(const struct np_report *r, FILE *f, bool color)
{
	return np_report_text(r, f, color);
}

static int render_json(const struct np_report *r, FILE *f, bool color)
{
	(void)color;
	return np_report_json(r, f);
}

static int render_html(const struct np_report *r, FILE *f, bool color)
{
	(void)color;
	return np_report_html(r, f);
}

static int render_folded(const struct np_report *r, FILE *f, bool color)
{
	(void)color;
	return np_report_folded(r, f);
}

static int render_perfetto(const struct np_report *r, FILE *f, bool color)
{
	(void)color;
	return np_report_perfetto(r, f);
}

static int render_pprof(const struct np_report *r, FILE *f, bool color)
{
	(void)color;
	return np_report_pprof(r, f);
}

static int render_otlp(const struct np_report *r, FILE *f, bool color)
{
	(void)color;
	return np_report_otlp(r, f);
}

/* The report formats; a new one is one line here and one in usage_text. */
static const struct report_format {
	const char *name;
	int (*render)(const struct np_report *r, FILE *f, bool color);
} formats[] = {
	{"text", render_text},         {"json", render_json},     {"html", render_html},
	{"perfetto", render_perfetto}, {"folded", render_folded}, {"pprof", render_pprof},
	{"otlp", render_otlp},
};

static const struct report_format *find_format(const char *name)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}

/* One report to write: a format and a path (NULL or "-": standard output). */
struct output {
	const struct report_format *format;
	const char *path;
};

struct args {
	enum mode mode;
	struct np_config cfg;
	const char *output;
	const struct report_format *format;
	const char *json;
	const char *html;
	const char *input;
	const char *input2; /* diff: the AFTER recording */
	/* report A B [C ...]: recordings to join (inputs[0] == input) */
	const char *inputs[NP_JOIN_MAX_RECORDINGS];
	size_t n_inputs;
	const char *diff_format;
	bool pid_given;
	int targets_given; /* --cgroup, --unit, --container */
};

static int parse_args(int argc, char **argv, struct args *a)
{
	int c;
	uint64_t v;

	int idx = -1;

	while ((c = getopt_long(argc, argv, "p:d:o:f:F:vhV", long_options, &idx)) != -1) {
		bool is_report = a->mode == MODE_REPORT || a->mode == MODE_DIFF;
		bool recording_opt = c == 'p' || c == 'd' || c == OPT_THRESHOLD ||
				     c == OPT_SAMPLE || c == OPT_RINGBUF_KB || c == OPT_POLL_MS ||
				     c == 'F' || c == OPT_STACK_KB || c == OPT_UNWINDER ||
				     c == OPT_NO_CPU || c == OPT_NO_PAYLOAD ||
				     c == OPT_NO_EXCHANGES || c == OPT_NO_NETSTACK ||
				     c == OPT_TLS || c == OPT_NO_TLS || c == OPT_MAX_OVERHEAD ||
				     c == OPT_NO_CHILDREN || c == OPT_CGROUP || c == OPT_UNIT ||
				     c == OPT_CONTAINER || c == OPT_MAX_PROCESSES;

		if (is_report && recording_opt) {
			/* Not argv[optind - 1]: after "--threshold 1ms" that is the
			 * value.  getopt_long sets idx only for a long option. */
			char shortname[3] = {'-', (char)c, '\0'};
			const char *name = idx >= 0 ? long_options[idx].name : shortname;

			return usage_error("%s%s is an option of record, not of %s",
					   idx >= 0 ? "--" : "", name,
					   a->mode == MODE_DIFF ? "diff" : "report");
		}
		idx = -1;
		switch (c) {
		case 'p':
			if (!np_parse_pid_list(optarg, a->cfg.spec.pids, &a->cfg.spec.n_pids,
					       NP_MAX_PID_ARGS))
				return usage_error("invalid pid list '%s' (PID[,PID...], at most "
						   "%d)",
						   optarg, NP_MAX_PID_ARGS);
			a->cfg.pid = a->cfg.spec.pids[0];
			a->pid_given = true;
			break;
		case OPT_NO_CHILDREN:
			a->cfg.spec.no_children = true;
			break;
		case OPT_CGROUP:
			a->cfg.spec.cgroup = optarg;
			a->targets_given++;
			break;
		case OPT_UNIT:
			a->cfg.spec.unit = optarg;
			a->targets_given++;
			break;
		case OPT_CONTAINER:
			a->cfg.spec.container = optarg;
			a->targets_given++;
			break;
		case OPT_MAX_PROCESSES:
			if (!parse_u64(optarg, 1, 65536, &v))
				return usage_error("invalid --max-processes '%s' (1 to 65536)",
						   optarg);
			a->cfg.spec.max_processes = (uint32_t)v;
			break;
		case 'd':
			if (!parse_seconds(optarg, &a->cfg.duration_ns))
				return usage_error("invalid duration '%s' (seconds, 0.05 to 86400)",
						   optarg);
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'f':
			if (!is_report)
				return usage_error("--format applies to 'netprof report'");
			if (a->mode == MODE_DIFF) {
				if (strcmp(optarg, "text") && strcmp(optarg, "json") &&
				    strcmp(optarg, "html"))
					return usage_error("unknown diff format '%s' (text, json "
							   "or html)",
							   optarg);
				a->diff_format = optarg;
				break;
			}
			a->format = find_format(optarg);
			if (!a->format)
				return usage_error("unknown format '%s' (text, json, html, "
						   "perfetto, folded, pprof or otlp)",
						   optarg);
			break;
		case OPT_THRESHOLD:
			if (!parse_time(optarg, &a->cfg.threshold_ns))
				return usage_error("invalid threshold '%s' (1us to 60s, e.g. 1ms)",
						   optarg);
			break;
		case OPT_SAMPLE:
			if (!parse_u64(optarg, 0, 1000000, &v))
				return usage_error("invalid --sample '%s' (0 to 1000000)", optarg);
			a->cfg.sample_every = (uint32_t)v;
			break;
		case OPT_RINGBUF_KB:
			if (!parse_u64(optarg, 64, 1048576, &v))
				return usage_error("invalid --ringbuf-kb '%s' (64 to 1048576)",
						   optarg);
			a->cfg.ringbuf_bytes = (uint32_t)v * 1024;
			break;
		case OPT_POLL_MS:
			if (!parse_u64(optarg, 10, 10000, &v))
				return usage_error("invalid --poll-ms '%s' (10 to 10000)", optarg);
			a->cfg.poll_ms = (uint32_t)v;
			break;
		case 'F':
			if (!parse_u64(optarg, 0, 10000, &v))
				return usage_error("invalid -F '%s' (0 to 10000 Hz)", optarg);
			a->cfg.freq_hz = (uint32_t)v;
			break;
		case OPT_STACK_KB:
			if (!parse_u64(optarg, 4, 60, &v))
				return usage_error("invalid --stack-kb '%s' (4 to 60)", optarg);
			a->cfg.stack_bytes = (uint32_t)v * 1024;
			break;
		case OPT_UNWINDER: {
			int b = 0;

			while (b < NP_UNWIND_NBACKENDS && strcmp(optarg, np_unwind_backend_name(b)))
				b++;
			if (b == NP_UNWIND_NBACKENDS)
				return usage_error("unknown --unwinder '%s' (libdw or libunwind)",
						   optarg);
			a->cfg.unwinder = (enum np_unwind_backend)b;
			break;
		}
		case OPT_NO_CPU:
			a->cfg.no_cpu = 1;
			break;
		case OPT_MAX_OVERHEAD:
			if (!parse_percent(optarg, &a->cfg.max_overhead))
				return usage_error("invalid --max-overhead '%s' (percent of one "
						   "CPU, "
						   "0.01 to 100, or 0 for no governor)",
						   optarg);
			break;
		case OPT_JSON:
			if (a->mode != MODE_ONESHOT)
				return usage_error("--json applies to the one-shot form; use "
						   "'netprof report --format json'");
			a->json = optarg;
			break;
		case OPT_HTML:
			if (a->mode != MODE_ONESHOT)
				return usage_error("--html applies to the one-shot form; use "
						   "'netprof report --format html'");
			a->html = optarg;
			break;
		case OPT_NO_PAYLOAD:
			a->cfg.no_payload = true;
			break;
		case OPT_NO_EXCHANGES:
			a->cfg.no_exchanges = true;
			break;
		case OPT_TLS:
			a->cfg.tls = true;
			break;
		case OPT_NO_TLS:
			a->cfg.tls = false;
			break;
		case OPT_NO_NETSTACK:
			a->cfg.no_netstack = true;
			break;
		case 'v':
			a->cfg.verbose++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			printf("netprof %s\n", NETPROF_VERSION);
			exit(0);
		default:
			return usage_error("unknown or incomplete option");
		}
	}
	if (a->mode == MODE_REPORT) {
		if (optind >= argc)
			return usage_error("'netprof report' needs a recording file");
		a->input = argv[optind];
		while (optind < argc && a->n_inputs < NP_JOIN_MAX_RECORDINGS)
			a->inputs[a->n_inputs++] = argv[optind++];
		if (optind < argc)
			return usage_error("'netprof report' joins at most %d recordings",
					   NP_JOIN_MAX_RECORDINGS);
		if (a->n_inputs > 1 && a->format && strcmp(a->format->name, "text") &&
		    strcmp(a->format->name, "json"))
			return usage_error("recordings joined are reported as text or json, not %s",
					   a->format->name);
	}
	if (a->mode == MODE_DIFF) {
		if (argc - optind < 2)
			return usage_error("'netprof diff' needs two recordings: BEFORE AFTER");
		a->input = argv[optind++];
		a->input2 = argv[optind++];
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (a->mode != MODE_REPORT && a->mode != MODE_DIFF &&
	    a->targets_given + (a->pid_given ? 1 : 0) > 1)
		return usage_error("give one kind of target: -p, --cgroup, --unit or --container");
	if (a->mode != MODE_REPORT && a->mode != MODE_DIFF && !a->pid_given && !a->targets_given)
		return usage_error("which process? give -p PID (or --cgroup, --unit, --container)");
	return 0;
}

/* Writes with fn(arg, f, color) to `path` ("-" or NULL: standard output)
 * via a 0600 temporary file and a rename, so a reader never sees half a
 * report and no existing file is followed. */
typedef int (*write_fn)(const void *arg, FILE *f, bool color);

static int write_atomically(const char *path, write_fn fn, const void *arg)
{
	char *tmp = NULL;
	FILE *f;
	int fd, rc;

	if (!path || !strcmp(path, "-")) {
		/* The one place that decides on colour: on a terminal, unless
		 * NO_COLOR is set (https://no-color.org) or TERM=dumb; only the
		 * text report uses it. */
		const char *nc = getenv("NO_COLOR");
		const char *term = getenv("TERM");
		bool color = isatty(STDOUT_FILENO) && !(nc && *nc) &&
			     !(term && !strcmp(term, "dumb"));

		rc = fn(arg, stdout, color);
		if (fflush(stdout) || rc)
			return runtime_error("cannot write to standard output");
		return 0;
	}
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return runtime_error("out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = runtime_error("cannot write %s: %s", path, strerror(errno));
		free(tmp);
		return rc;
	}
	f = fdopen(fd, "w");
	rc = f ? fn(arg, f, false) : -1;
	if (f && (fflush(f) || fsync(fd)))
		rc = -1;
	if (f)
		fclose(f);
	else
		close(fd);
	if (rc || rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		free(tmp);
		return runtime_error("cannot write %s: %s", path, strerror(e ? e : EIO));
	}
	free(tmp);
	return 0;
}

struct report_out {
	const struct np_report *r;
	const struct output *out;
};

static int report_out(const void *arg, FILE *f, bool color)
{
	const struct report_out *ro = arg;

	return ro->out->format->render(ro->r, f, color);
}

static int render_to(const struct np_report *r, const struct output *out)
{
	struct report_out ro = {r, out};

	return write_atomically(out->path, report_out, &ro);
}

/* Reads the recording once and writes every requested report from it. */
static int report_file(const char *input, const struct output *outs, size_t n_outs)
{
	struct np_recording *rec;
	struct np_report r;
	char err[512];
	int rc = 0;

	if (np_recording_read(input, &rec, err, sizeof(err)))
		return runtime_error("%s: %s", input, err);
	if (rec->truncated)
		fprintf(stderr,
			"netprof: %s is incomplete (the recorder stopped before finishing); "
			"reporting what it holds\n",
			input);
	if (np_report_build(rec, &r, NP_REPORT_MAX_SLOW)) {
		np_recording_free(rec);
		return runtime_error("out of memory building the report");
	}
	for (size_t i = 0; i < n_outs && !rc; i++)
		rc = render_to(&r, &outs[i]);
	np_report_fini(&r);
	np_recording_free(rec);
	return rc;
}

/* A diff's page also draws from both reports. */
struct diff_out {
	const struct np_diff *d;
	const struct np_report *r; /* [2] */
	const char *format;
};

static int diff_out(const void *arg, FILE *f, bool color)
{
	const struct diff_out *o = arg;

	(void)color;
	if (!strcmp(o->format, "json"))
		return np_diff_json(o->d, f);
	if (!strcmp(o->format, "html"))
		return np_diff_html(o->d, &o->r[0], &o->r[1], f);
	return np_diff_text(o->d, f);
}

/* netprof diff: both recordings read and reported, then compared.  Format
 * versions must match: a figure may change meaning between versions. */
static int diff_files(const char *before, const char *after, const char *output, const char *format)
{
	struct np_recording *rec[2] = {NULL, NULL};
	struct np_report r[2];
	struct np_diff d;
	const char *paths[2] = {before, after};
	char err[512];
	int rc = 0, built = 0;

	for (int i = 0; i < 2 && !rc; i++) {
		if (np_recording_read(paths[i], &rec[i], err, sizeof(err)))
			rc = runtime_error("%s: %s", paths[i], err);
		else if (rec[i]->truncated)
			fprintf(stderr,
				"netprof: %s is incomplete (the recorder stopped before "
				"finishing); "
				"comparing what it holds\n",
				paths[i]);
	}
	if (!rc && rec[0]->version != rec[1]->version)
		rc = runtime_error("%s is recording format version %u and %s version %u: only "
				   "recordings of one format version can be compared",
				   before, rec[0]->version, after, rec[1]->version);
	for (int i = 0; i < 2 && !rc; i++) {
		if (np_report_build(rec[i], &r[i], NP_REPORT_MAX_SLOW))
			rc = runtime_error("out of memory building the report of %s", paths[i]);
		else
			built++;
	}
	if (!rc) {
		if (np_diff_compute(&r[0], &r[1], &d))
			rc = runtime_error("out of memory comparing the recordings");
		else {
			struct diff_out o = {&d, r, format};

			rc = write_atomically(output, diff_out, &o);
			np_diff_fini(&d);
		}
	}
	for (int i = 0; i < built; i++)
		np_report_fini(&r[i]);
	for (int i = 0; i < 2; i++)
		if (rec[i])
			np_recording_free(rec[i]);
	return rc;
}

static int join_text_out(const void *j, FILE *f, bool color)
{
	(void)color;
	return np_join_text(j, f);
}

static int join_json_out(const void *j, FILE *f, bool color)
{
	(void)color;
	return np_join_json(j, f);
}

/* Each recording's own verdict, for the joined verdict to name the cause
 * of a hop's layer (np_join_set_causes). */
static int join_causes(struct np_join *j, struct np_recording *const *rec, size_t n)
{
	const char *causes[NP_JOIN_MAX_RECORDINGS] = {NULL};
	struct np_report r;

	for (size_t i = 0; i < n; i++) {
		if (np_report_build(rec[i], &r, NP_REPORT_MAX_SLOW))
			return runtime_error("out of memory building the report of recording %zu",
					     i + 1);
		causes[i] = np_report_verdict_cause(&r);
		np_report_fini(&r);
	}
	np_join_set_causes(j, causes);
	return 0;
}

/* netprof report A B [C ...]: the recordings joined by 4-tuple (join.h).
 * Made at the same time on several hosts, so of one format version. */
static int join_files(const char *const *paths, size_t n, const char *output, bool json)
{
	struct np_recording *rec[NP_JOIN_MAX_RECORDINGS] = {NULL};
	struct np_join j;
	char err[512];
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		if (np_recording_read(paths[i], &rec[i], err, sizeof(err)))
			rc = runtime_error("%s: %s", paths[i], err);
		else if (rec[i]->truncated)
			fprintf(stderr,
				"netprof: %s is incomplete (the recorder stopped before "
				"finishing); joining what it holds\n",
				paths[i]);
		else if (i && rec[i]->version != rec[0]->version)
			rc = runtime_error("%s is recording format version %u and %s version %u: "
					   "only recordings of one format version can be joined",
					   paths[0], rec[0]->version, paths[i], rec[i]->version);
	}
	if (!rc) {
		if (np_join_compute((const struct np_recording *const *)rec, paths, n, &j))
			rc = runtime_error("out of memory joining the recordings");
		else if ((rc = join_causes(&j, rec, n))) {
			np_join_fini(&j);
		} else {
			rc = write_atomically(output, json ? join_json_out : join_text_out, &j);
			np_join_fini(&j);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (rec[i])
			np_recording_free(rec[i]);
	return rc;
}

/* The live status line (status.h), redrawn in place on stderr once a
 * second.  Only on a terminal that understands "\033[K", and not with -v,
 * whose progress lines would land in the middle of it. */
struct status_line {
	bool shown;
	bool have_prev;
	uint64_t prev_elapsed_ns, prev_cpu_ns;
};

static bool status_wanted(const struct np_config *cfg)
{
	const char *term = getenv("TERM");

	return !cfg->verbose && isatty(STDERR_FILENO) && !(term && !strcmp(term, "dumb"));
}

static void status_progress(const struct np_session_progress *p, void *arg)
{
	struct status_line *sl = arg;
	struct np_status st = {
		.elapsed_ns = p->elapsed_ns,
		.total_ns = p->duration_ns,
		.events = p->events,
		.lost = p->lost,
		.cpu_share = -1,
	};
	char line[160];

	if (sl->have_prev && p->elapsed_ns > sl->prev_elapsed_ns)
		st.cpu_share = np_status_cpu_share(sl->prev_cpu_ns, p->self_cpu_ns,
						   p->elapsed_ns - sl->prev_elapsed_ns);
	sl->prev_elapsed_ns = p->elapsed_ns;
	sl->prev_cpu_ns = p->self_cpu_ns;
	sl->have_prev = true;
	np_status_format(&st, line, sizeof(line));
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	sl->shown = true;
}

/* Leaves no trace of the line: the cursor back at the start of an empty
 * line, for whatever is printed next. */
static void status_clear(struct status_line *sl)
{
	if (!sl->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	sl->shown = false;
}

/* The processes of the target; a bad one is the command line's fault. */
static int resolve_targets(struct np_config *cfg, struct np_targetset *ts)
{
	char err[512];
	int rc = np_targets_resolve(cfg->proc_root, &cfg->spec, ts, err, sizeof(err));

	if (rc == -ESRCH)
		return runtime_error("%s", err);
	if (rc == -EINVAL || rc == -E2BIG) {
		fprintf(stderr, "netprof: %s\n", err);
		return EXIT_USAGE;
	}
	if (rc)
		return runtime_error("%s", err);
	for (size_t i = 0; i < ts->n; i++)
		if (ts->v[i].flags & NP_PROC_GONE_AT_START)
			fprintf(stderr, "netprof: no process with pid %d; profiling the others\n",
				(int)ts->v[i].pid);
	cfg->pid = np_targets_primary(ts);
	cfg->targets = ts;
	return 0;
}

static int record(struct np_config *cfg)
{
	struct status_line sl = {.shown = false};
	struct np_session_hooks hooks = {.progress = status_progress, .arg = &sl};
	struct np_session_result res;
	struct np_targetset ts;
	char err[512];
	int rc;

	rc = resolve_targets(cfg, &ts);
	if (rc) {
		np_targets_fini(&ts);
		return rc;
	}
	rc = np_session_record(cfg, status_wanted(cfg) ? &hooks : NULL, &res, err, sizeof(err));
	status_clear(&sl);
	for (size_t i = 0; i < ts.n; i++)
		if ((ts.v[i].flags & NP_PROC_EXITED) && ts.n > 1)
			fprintf(stderr, "netprof: pid %d (%s) exited while recording\n",
				(int)ts.v[i].pid, ts.v[i].comm);
	np_targets_fini(&ts);
	if (rc)
		return runtime_error("%s", err);
	if (res.reason == NP_END_TARGET_EXITED)
		fprintf(stderr, "netprof: pid %d exited after %.1f s; wrote what was collected\n",
			(int)cfg->pid, (double)res.duration_ns / 1e9);
	if (res.reason == NP_END_ERROR)
		fprintf(stderr, "netprof: recording stopped early by an error; wrote what was "
				"collected\n");
	if (res.lost)
		fprintf(stderr, "netprof: %llu events could not be recorded (see the report)\n",
			(unsigned long long)res.lost);
	if (cfg->verbose)
		fprintf(stderr, "netprof: wrote %s (%.1f s, %llu events)\n", cfg->output,
			(double)res.duration_ns / 1e9, (unsigned long long)res.events);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = {
		.mode = MODE_ONESHOT,
		.cfg = {.duration_ns = NP_DEFAULT_DURATION_NS,
			.threshold_ns = NP_DEFAULT_THRESHOLD_NS,
			.sample_every = NP_DEFAULT_SAMPLE_EVERY,
			.ringbuf_bytes = NP_DEFAULT_RINGBUF_BYTES,
			.poll_ms = NP_DEFAULT_POLL_MS,
			.freq_hz = NP_DEFAULT_FREQ_HZ,
			.stack_bytes = NP_DEFAULT_STACK_BYTES,
			.unwinder = NP_UNWIND_LIBDW,
			.sched_ringbuf_bytes = NP_DEFAULT_SCHED_RINGBUF_BYTES,
			.max_overhead = NP_DEFAULT_MAX_OVERHEAD,
			.proc_root = ""},
	};
	char default_out[64], tmpdir[] = "/tmp/netprof.XXXXXX", tmpfile[64];
	int rc;

	if (argc > 1 && !strcmp(argv[1], "record"))
		a.mode = MODE_RECORD;
	else if (argc > 1 && !strcmp(argv[1], "report"))
		a.mode = MODE_REPORT;
	else if (argc > 1 && !strcmp(argv[1], "diff"))
		a.mode = MODE_DIFF;
	if (a.mode != MODE_ONESHOT) {
		argv[1] = argv[0];
		argv++;
		argc--;
	} else if (argc > 1 && argv[1][0] != '-') {
		return usage_error("unknown command '%s' (record, report or diff)", argv[1]);
	}
	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	umask(077);

	switch (a.mode) {
	case MODE_REPORT: {
		struct output out = {a.format ? a.format : find_format("text"), a.output};

		if (a.n_inputs > 1)
			return join_files(a.inputs, a.n_inputs, a.output,
					  !strcmp(out.format->name, "json"));
		return report_file(a.input, &out, 1);
	}
	case MODE_DIFF:
		return diff_files(a.input, a.input2, a.output,
				  a.diff_format ? a.diff_format : "text");
	case MODE_RECORD:
		if (!a.output) {
			if (a.pid_given)
				snprintf(default_out, sizeof(default_out), "netprof-%d.nprof",
					 (int)a.cfg.pid);
			else
				snprintf(default_out, sizeof(default_out), "netprof-service.nprof");
			a.output = default_out;
		}
		a.cfg.output = a.output;
		return record(&a.cfg);
	case MODE_ONESHOT:
		if (!a.output) {
			if (!mkdtemp(tmpdir))
				return runtime_error("cannot create a temporary directory: %s",
						     strerror(errno));
			snprintf(tmpfile, sizeof(tmpfile), "%s/recording.nprof", tmpdir);
		}
		a.cfg.output = a.output ? a.output : tmpfile;
		rc = record(&a.cfg);
		if (!rc) {
			struct output outs[3] = {{find_format("text"), NULL}};
			size_t n = 1;

			if (a.json)
				outs[n++] = (struct output){find_format("json"), a.json};
			if (a.html)
				outs[n++] = (struct output){find_format("html"), a.html};
			rc = report_file(a.cfg.output, outs, n);
		}
		if (!a.output) {
			unlink(tmpfile);
			rmdir(tmpdir);
		}
		return rc;
	}
	return EXIT_USAGE;
}
