/* test_findings.c - the rules table and the breakdown, on synthetic
 * struct np_signals: one fixture per cause must give that verdict, a
 * healthy service none above info, unknown inputs nothing, software-only
 * faults no nic.* finding; the breakdown always adds up to the window. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/attribution/findings.h"
#include "report/attribution/signals.h"
#include "testutil.h"

#define S 1000000000ull
#define MS 1000000ull

static struct np_signals *sig;
static struct np_analysis an;

static void setup(void)
{
	sig = calloc(1, sizeof(*sig));
	cr_assert_not_null(sig);
	memset(&an, 0, sizeof(an));
}

static void teardown(void)
{
	np_analysis_fini(&an);
	np_signals_fini(sig);
	free(sig);
}

TestSuite(findings, .init = setup, .fini = teardown);

static uint64_t lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return *x >> 11;
}

static void thread(struct np_signals *s, uint32_t tid, uint64_t on, uint64_t runq, uint64_t ready,
		   uint64_t io, uint64_t blocked)
{
	struct np_sig_thread *t = &s->threads[s->n_threads++];

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	snprintf(t->comm, sizeof(t->comm), "worker-%u", tid);
	t->window_ns = s->duration_ns;
	t->have_sched = true;
	t->on_cpu_ns = on;
	t->runnable_ns = runq;
	t->off_cpu_ns = s->duration_ns - on - runq;
	t->have_syscalls = true;
	t->calls = 10000;
	t->ready_wait_ns = ready;
	t->io_ns = io;
	t->io_blocked_ns = blocked;
}

/* A service at about 10% CPU with every source present and nothing wrong. */
static void healthy(struct np_signals *s)
{
	cr_assert_eq(np_signals_init_windows(s, 1000 * S, 10 * S), 0);
	s->threshold_ns = MS;
	s->host_cpus = 2;
	s->target_pid = 4242;
	snprintf(s->target_comm, sizeof(s->target_comm), "svc");
	for (uint32_t i = 0; i < 4; i++)
		thread(s, 100 + i, 1 * S, 50 * MS, 8500 * MS, 200 * MS, 0);

	s->have_cpu_samples = true;
	s->cpu_samples = 4000;
	s->n_hot = 1;
	snprintf(s->hot[0].function, sizeof(s->hot[0].function), "parse_request");
	s->hot[0].share = 0.1;

	s->have_exchanges = true;
	s->exch_count = 100000;
	s->exch_p50_ns = 200000;
	s->exch_p99_ns = MS;
	s->exch_total_ns = 30 * S;
	s->exch_queued_ns = 300 * MS;
	s->exch_app_ns = 24 * S;
	s->exch_tx_ns = 600 * MS;
	s->exch_peer_ns = 0;
	/* arrival and departure seen for every exchange */
	s->exch_queued_seen_ns = s->exch_queued_ns;
	s->exch_tx_seen_ns = s->exch_tx_ns;

	s->have_sockets = true;
	s->n_sockets = 50;
	s->recvq_peak_bytes = 1000;
	s->recvq_rcvbuf_bytes = 131072;
	s->recvq_polls = 20;
	s->busy_ns = 10 * S;
	s->have_listen = true;
	s->acceptq_peak = 2;
	s->acceptq_limit = 4096;
	snprintf(s->listen_where, sizeof(s->listen_where), "0.0.0.0:8080");
	s->have_backlog_config = true;
	s->backlog_limit = 511;
	s->somaxconn = 4096;
	snprintf(s->backlog_where, sizeof(s->backlog_where), "0.0.0.0:8080");

	s->have_tcp_counters = true;
	s->out_segs = 200000;
	s->retrans_segs = 10;
	s->have_drop_reasons = true;
	s->have_conntrack = true;
	s->conntrack_peak = 100;
	s->conntrack_max = 65536;

	s->have_softirq = true;
	s->have_softirq_time = true;
	s->n_cpus = 2;
	s->cpus[0] = (struct np_sig_cpu){.cpu = 0, .net_rx_ns = 500 * MS, .processed_pkts = 500000};
	s->cpus[1] = (struct np_sig_cpu){.cpu = 1, .net_rx_ns = 400 * MS, .processed_pkts = 400000};

	s->n_ifaces = 1;
	struct np_sig_iface *f = &s->ifaces[0];

	snprintf(f->name, sizeof(f->name), "eth0");
	f->hardware = true;
	f->nic_layer = true;
	f->have_link = true;
	f->rx_pkts = f->tx_pkts = 1000000;
	f->have_driver = true;
	f->have_qdisc = true;
	snprintf(f->qdisc_kind, sizeof(f->qdisc_kind), "fq_codel");
	f->have_offloads = true;
	f->tso = f->gso = f->gro = f->rx_csum = f->tx_csum = true;
	f->have_rps = true;
	f->rps_on = false;
	f->rx_queues = 4;
}

static const struct np_finding *find(const struct np_analysis *a, const char *cause)
{
	for (size_t i = 0; i < a->n_findings; i++)
		if (!strcmp(a->findings[i].cause, cause))
			return &a->findings[i];
	return NULL;
}

static const struct np_evidence *evidence(const struct np_finding *f, const char *metric)
{
	for (size_t i = 0; f && i < f->n_ev; i++)
		if (!strcmp(f->ev[i].metric, metric))
			return &f->ev[i];
	return NULL;
}

static void analyze(void)
{
	np_analysis_fini(&an);
	cr_assert_eq(np_analyze(sig, &an), 0);
}

static void expect_verdict(const char *cause)
{
	analyze();
	cr_assert_not_null(an.verdict, "no verdict; expected %s", cause);
	cr_assert_str_eq(an.verdict->cause, cause, "verdict %s (%s), expected %s",
			 an.verdict->cause, an.verdict->summary, cause);
	cr_assert_str_eq(an.verdict->layer, np_cause_layer(cause));
	cr_assert(an.verdict->severity >= NP_SEV_WARNING);
	cr_assert(an.verdict->summary[0] && an.verdict->advice[0]);
	cr_assert(an.verdict->n_ev > 0);
}

Test(findings, healthy_service_has_no_verdict_and_nothing_above_info)
{
	healthy(sig);
	analyze();
	cr_assert_null(an.verdict, "verdict %s: %s", an.verdict ? an.verdict->cause : "",
		       an.verdict ? an.verdict->summary : "");
	for (size_t i = 0; i < an.n_findings; i++)
		cr_assert(an.findings[i].severity <= NP_SEV_INFO, "%s is %s", an.findings[i].cause,
			  np_severity_name(an.findings[i].severity));
	cr_assert(an.breakdown.known);
	cr_assert(an.breakdown.idle_ns > an.breakdown.application_ns);
}

Test(findings, app_cpu)
{
	healthy(sig);
	for (size_t i = 0; i < sig->n_threads; i++) {
		struct np_sig_thread *t = &sig->threads[i];

		t->on_cpu_ns = 9 * S;
		t->runnable_ns = 100 * MS;
		t->off_cpu_ns = 900 * MS;
		t->ready_wait_ns = 500 * MS;
	}
	sig->hot[0].share = 0.7;
	snprintf(sig->hot[0].function, sizeof(sig->hot[0].function), "compute_response");
	expect_verdict("app.cpu");
	cr_assert_eq(an.verdict->severity, NP_SEV_CRITICAL);
	cr_assert(strstr(an.verdict->summary, "compute_response"), "%s", an.verdict->summary);
	cr_assert(strstr(an.verdict->advice, "perf top -p 4242"), "%s", an.verdict->advice);
	cr_assert(an.breakdown.application_ns > an.breakdown.idle_ns);
}

/* The app.cpu fixture above, with the hot code of a handshake-bound TLS
 * server as Debian's stripped libcrypto shows it (the report groups the
 * addresses without a symbol by the named function above them). */
static void tls_hot(struct np_signals *s, double crypto_share, double ssl_share)
{
	for (size_t i = 0; i < s->n_threads; i++) {
		struct np_sig_thread *t = &s->threads[i];

		t->on_cpu_ns = 9 * S;
		t->runnable_ns = 100 * MS;
		t->off_cpu_ns = 900 * MS;
		t->ready_wait_ns = 500 * MS;
	}
	s->n_hot = 3;
	snprintf(s->hot[0].function, sizeof(s->hot[0].function),
		 "[libcrypto.so.3 under BN_mod_exp_mont_consttime]");
	snprintf(s->hot[0].module, sizeof(s->hot[0].module), "libcrypto.so.3");
	s->hot[0].share = crypto_share;
	snprintf(s->hot[1].function, sizeof(s->hot[1].function), "ngx_http_parse_request_line");
	snprintf(s->hot[1].module, sizeof(s->hot[1].module), "nginx");
	s->hot[1].share = 0.04;
	snprintf(s->hot[2].function, sizeof(s->hot[2].function), "[libssl.so.3 without symbol]");
	snprintf(s->hot[2].module, sizeof(s->hot[2].module), "libssl.so.3");
	s->hot[2].share = ssl_share;
}

Test(findings, app_cpu_in_tls_libraries_advises_on_tls)
{
	const struct np_evidence *e;

	healthy(sig);
	tls_hot(sig, 0.80, 0.03);
	expect_verdict("app.cpu");
	cr_assert(strstr(an.verdict->summary, "BN_mod_exp_mont_consttime"), "%s",
		  an.verdict->summary);
	cr_assert(strstr(an.verdict->summary, "83% in TLS libraries"), "%s", an.verdict->summary);
	e = evidence(an.verdict, "tls_library_cpu_share");
	cr_assert_not_null(e);
	cr_expect_float_eq(e->value, 0.83, 1e-9);
	cr_expect_str_eq(e->where, "libcrypto.so.3, libssl.so.3");
	e = evidence(an.verdict, "hot_function_share");
	cr_assert_not_null(e);
	cr_expect_str_eq(e->where, "[libcrypto.so.3 under BN_mod_exp_mont_consttime]");
	/* TLS remedies instead of "optimise it", and still the pid to confirm */
	cr_assert(strstr(an.verdict->advice, "The CPU goes to TLS (libcrypto.so.3, libssl.so.3)"),
		  "%s", an.verdict->advice);
	cr_expect(strstr(an.verdict->advice, "Resume sessions"), "%s", an.verdict->advice);
	cr_expect(strstr(an.verdict->advice, "ECDSA P-256"), "%s", an.verdict->advice);
	cr_expect(strstr(an.verdict->advice, "keep connections alive"), "%s", an.verdict->advice);
	cr_expect(strstr(an.verdict->advice, "perf top -p 4242"), "%s", an.verdict->advice);
	cr_expect(!strstr(an.verdict->advice, "Optimise it"), "%s", an.verdict->advice);
}

Test(findings, app_cpu_mostly_outside_tls_keeps_the_profiling_advice)
{
	/* some TLS on the way, but the hot code is the service's own */
	healthy(sig);
	tls_hot(sig, 0.15, 0.05);
	sig->hot[1] = sig->hot[0];
	snprintf(sig->hot[0].function, sizeof(sig->hot[0].function), "compute_response");
	snprintf(sig->hot[0].module, sizeof(sig->hot[0].module), "svc");
	sig->hot[0].share = 0.6;
	expect_verdict("app.cpu");
	cr_expect_null(evidence(an.verdict, "tls_library_cpu_share"));
	cr_expect(!strstr(an.verdict->summary, "TLS"), "%s", an.verdict->summary);
	cr_expect(strstr(an.verdict->advice, "Optimise it"), "%s", an.verdict->advice);
	cr_expect(!strstr(an.verdict->advice, "TLS"), "%s", an.verdict->advice);
}

Test(findings, app_cpu_tls_advice_only_for_openssl_libraries)
{
	/* a library merely named like one is not OpenSSL's */
	healthy(sig);
	tls_hot(sig, 0.8, 0.0);
	snprintf(sig->hot[0].module, sizeof(sig->hot[0].module), "libcryptsetup.so.12");
	expect_verdict("app.cpu");
	cr_expect_null(evidence(an.verdict, "tls_library_cpu_share"));
	cr_expect(strstr(an.verdict->advice, "Optimise it"), "%s", an.verdict->advice);
}

Test(findings, off_cpu_of_unknown_reason_is_only_info)
{
	/* off CPU outside network calls, reason unknown: could be a worker
	 * waiting for work, so no verdict from it */
	healthy(sig);
	for (size_t i = 0; i < sig->n_threads; i++)
		sig->threads[i].ready_wait_ns = 1 * S;
	analyze();
	cr_assert_null(an.verdict);
	cr_assert_not_null(find(&an, "app.blocked"));
	cr_assert_eq(find(&an, "app.blocked")->severity, NP_SEV_INFO);
}

Test(findings, app_blocked_with_offcpu_reasons)
{
	healthy(sig);
	for (size_t i = 0; i < sig->n_threads; i++) {
		struct np_sig_thread *t = &sig->threads[i];

		t->have_offcpu_reasons = true;
		t->off_net_ns = 2 * S;
		t->off_lock_ns = t->off_cpu_ns - 2 * S;
	}
	expect_verdict("app.blocked");
	cr_assert(strstr(an.verdict->summary, "locks"), "%s", an.verdict->summary);
}

Test(findings, app_backpressure)
{
	healthy(sig);
	sig->recvq_peak_bytes = 125000;
	snprintf(sig->recvq_where, sizeof(sig->recvq_where), "10.0.0.1:8080 -> 10.0.0.2:40000");
	sig->exch_queued_ns = 18 * S;
	sig->exch_queued_seen_ns = 18 * S;
	sig->to_zero_window_adv = 40;
	expect_verdict("app.backpressure");
	cr_assert_eq(an.verdict->severity, NP_SEV_CRITICAL);
	bool zw = false;

	for (size_t i = 0; i < an.verdict->n_ev; i++)
		zw |= !strcmp(an.verdict->ev[i].metric, "zero_window_adv") &&
		      an.verdict->ev[i].value == 40;
	cr_assert(zw);
}

Test(findings, host_cpu_contention)
{
	healthy(sig);
	for (size_t i = 0; i < sig->n_threads; i++) {
		struct np_sig_thread *t = &sig->threads[i];

		t->on_cpu_ns = 2 * S;
		t->runnable_ns = 4 * S;
		t->off_cpu_ns = 4 * S;
		t->ready_wait_ns = 3900 * MS;
	}
	expect_verdict("host.cpu_contention");
}

/* A proxy blocked on a slow upstream, on a busy host: its thread waits for
 * a CPU most of the little time it is busy (measured: 91% of it, 5.5% of
 * the thread's time, 319 ms against 5.8 s of request latency), but that is
 * not why its requests are slow: the upstream is. */
Test(findings, run_queue_wait_small_against_request_latency_is_not_the_verdict)
{
	const struct np_finding *f;

	healthy(sig);
	sig->exch_count = 129;
	sig->exch_total_ns = 5830 * MS;
	sig->exch_peer_ns = 5500 * MS;
	sig->exch_app_ns = 300 * MS;
	for (size_t i = 0; i < sig->n_threads; i++) {
		struct np_sig_thread *t = &sig->threads[i];

		t->on_cpu_ns = 30 * MS;
		t->runnable_ns = 319 * MS / sig->n_threads;
		t->ready_wait_ns = t->runnable_ns;
		t->runnable_waits = 380 / sig->n_threads;
		t->off_cpu_ns = 10 * S - t->on_cpu_ns - t->runnable_ns;
	}
	expect_verdict("peer.slow");
	f = find(&an, "host.cpu_contention");
	cr_assert_not_null(f);
	cr_assert_eq(f->severity, NP_SEV_INFO);
	cr_assert(strstr(f->summary, "of the requests' latency (their time queued aside): not why"),
		  "%s", f->summary);
}

/* The same run-queue wait while NET_RX softirq ran as long on the CPUs: the
 * network stack holds them (a sender whose ACKs and peers' receive work land
 * on its CPU), not other work; the finding stays at info and says so. */
Test(findings, run_queue_wait_behind_network_softirq_is_not_contention)
{
	uint64_t waited = 0;

	healthy(sig);
	for (size_t i = 0; i < sig->n_threads; i++) {
		struct np_sig_thread *t = &sig->threads[i];

		t->on_cpu_ns = 2 * S;
		t->runnable_ns = 4 * S;
		t->off_cpu_ns = 4 * S;
		t->ready_wait_ns = 3900 * MS;
		waited += t->runnable_ns;
	}
	sig->cpus[1].net_rx_ns = waited;
	analyze();
	const struct np_finding *f = find(&an, "host.cpu_contention");

	cr_assert_not_null(f);
	cr_assert_eq(f->severity, NP_SEV_INFO);
	cr_assert(strstr(f->summary, "network softirq") && strstr(f->summary, "CPU 1"), "%s",
		  f->summary);
	cr_assert(!an.verdict || strcmp(an.verdict->cause, "host.cpu_contention"));
	/* a third as much softirq: the wait is other work's again */
	sig->cpus[1].net_rx_ns = waited / 3;
	expect_verdict("host.cpu_contention");
}

/* One of four workers does all the work while the others idle: the busy
 * one is named, and app.cpu (over all the workers' time) stays below it. */
Test(findings, app_imbalance)
{
	healthy(sig);
	sig->threads[0].on_cpu_ns = 9500 * MS;
	sig->threads[0].ready_wait_ns = 100 * MS;
	sig->threads[0].off_cpu_ns = 450 * MS;
	for (size_t i = 1; i < sig->n_threads; i++) {
		sig->threads[i].on_cpu_ns = 200 * MS;
		sig->threads[i].off_cpu_ns = 10 * S - 250 * MS;
	}
	expect_verdict("app.imbalance");
	cr_assert_eq(an.verdict->severity, NP_SEV_CRITICAL);
	cr_assert(strstr(an.verdict->summary, "thread 100 (worker-100)"), "%s",
		  an.verdict->summary);
	bool med = false;

	for (size_t i = 0; i < an.verdict->n_ev; i++)
		med |= !strcmp(an.verdict->ev[i].metric, "sibling_median_busy_share") &&
		       fabs(an.verdict->ev[i].value - 0.025) < 1e-9; /* 200 ms on CPU, 50 queued */
	cr_assert(med);
}

/* Two findings that could each be the verdict: the other says why not. */
Test(findings, runner_up_says_why_not)
{
	healthy(sig);
	sig->ifaces[0].qdisc_drops = 5000;
	sig->ifaces[0].qdisc_backlog_max_pkts = 900;
	snprintf(sig->ifaces[0].qdisc_kind, sizeof(sig->ifaces[0].qdisc_kind), "tbf");
	sig->retrans_segs = 16000;
	sig->tcp_timeouts = 30;
	analyze();
	cr_assert_not_null(an.verdict);
	cr_assert_not_null(an.runner_up);
	cr_assert_neq(an.verdict, an.runner_up);
	cr_assert(an.runner_up->severity >= NP_SEV_WARNING);
	cr_assert(strncmp(an.runner_up_why, "not ", 4) == 0, "%s", an.runner_up_why);
	cr_assert(strstr(an.runner_up_why, an.runner_up->cause), "%s", an.runner_up_why);
	cr_assert(strstr(an.runner_up_why, "score"), "%s", an.runner_up_why);
}

/* High when the target's own signals moved with latency, medium when they
 * did not; a runner-up that is not related says its score and backing. */
Test(findings, confidence_follows_latency)
{
	struct np_finding f;

	memset(&f, 0, sizeof(f));
	f.owner = NP_OWNER_TARGET;
	f.latency_rose = 1;
	cr_assert_eq(np_finding_confidence(&f), NP_CONF_HIGH);
	f.latency_rose = 0;
	cr_assert_eq(np_finding_confidence(&f), NP_CONF_MEDIUM);
	f.steady = true;
	cr_assert_eq(np_finding_confidence(&f), NP_CONF_HIGH);
	f.owner = NP_OWNER_UNKNOWN;
	cr_assert_eq(np_finding_confidence(&f), NP_CONF_MEDIUM);
	f.owner = NP_OWNER_ELSEWHERE;
	cr_assert_eq(np_finding_confidence(&f), NP_CONF_LOW);
	cr_assert(strstr(f.confidence_why, "none of the target's own signals"), "%s",
		  f.confidence_why);
}

/* The strongest fact against a finding, in order: shared counters the
 * target's own signals do not match, latency that did not rise, a rival
 * of another layer nearly as strong as the verdict, a brief signal. */
Test(findings, counter_evidence_is_the_strongest_fact_against)
{
	struct np_finding all[2], *f = &all[0], *g = &all[1];

	memset(all, 0, sizeof(all));
	f->cause = "stack.qdisc";
	f->layer = "stack";
	f->severity = NP_SEV_CRITICAL;
	f->score = 0.80;
	f->owner = NP_OWNER_TARGET;
	f->latency_rose = 1;
	f->windows_moved = 8;
	f->windows_latency_rose = 7;
	f->windows_total = 10;
	g->cause = "app.cpu";
	g->layer = "application";
	g->severity = NP_SEV_WARNING;
	g->score = 0.60;
	g->owner = NP_OWNER_TARGET;
	g->latency_rose = -1;

	np_finding_counter(f, f, all, 2);
	cr_assert_str_empty(f->counter, "nothing against: %s", f->counter);
	np_finding_counter(g, f, all, 2);
	cr_assert(strstr(g->counter, "stack.qdisc (stack) explains more"), "%s", g->counter);

	g->score = 0.75; /* within 0.10 of the verdict */
	np_finding_counter(f, f, all, 2);
	cr_assert(strstr(f->counter, "app.cpu (application) is nearly as strong: score 0.75 "
				     "against 0.80"),
		  "%s", f->counter);

	f->windows_latency_rose = 3; /* rose in under half: weaker than a close rival */
	np_finding_counter(f, f, all, 2);
	cr_assert(strstr(f->counter, "nearly as strong"), "%s", f->counter);
	g->score = 0.40;
	np_finding_counter(f, f, all, 2);
	cr_assert(strstr(f->counter, "rose in only 3 of the 8 windows"), "%s", f->counter);

	f->latency_rose = 0;
	f->latency_metric = "exchange_p99_ns";
	np_finding_counter(f, f, all, 2);
	cr_assert(strstr(f->counter, "request p99 did not rise in any of the 8 windows"), "%s",
		  f->counter);

	f->steady = true; /* no quieter window: not counted against it */
	f->windows_moved = 10;
	np_finding_counter(f, f, all, 2);
	cr_assert_str_empty(f->counter, "%s", f->counter);

	f->steady = false;
	f->latency_rose = 1;
	f->windows_moved = 1;
	f->windows_latency_rose = 1;
	f->windows_total = 20;
	np_finding_counter(f, f, all, 2);
	cr_assert(strstr(f->counter, "moved in only 1 of the 20 windows"), "%s", f->counter);

	f->owner = NP_OWNER_UNKNOWN;
	np_finding_counter(f, f, all, 2);
	cr_assert(strstr(f->counter, "target's own side was not measured"), "%s", f->counter);
	f->owner = NP_OWNER_ELSEWHERE;
	np_finding_counter(f, NULL, all, 2);
	cr_assert(strstr(f->counter, "another process moved them"), "%s", f->counter);
}

/* A saturated worker on a shared host waits for a CPU part of the time:
 * it is no less saturated (measured: 68-80% on CPU for a worker that
 * never idled, under other work's load). */
Test(findings, app_imbalance_counts_run_queue_time_as_busy)
{
	bool on_cpu = false;

	healthy(sig);
	sig->threads[0].on_cpu_ns = 6500 * MS;
	sig->threads[0].runnable_ns = 3300 * MS;
	sig->threads[0].ready_wait_ns = 100 * MS;
	sig->threads[0].off_cpu_ns = 200 * MS;
	for (size_t i = 1; i < sig->n_threads; i++) {
		sig->threads[i].on_cpu_ns = 100 * MS;
		sig->threads[i].off_cpu_ns = 10 * S - 100 * MS;
	}
	expect_verdict("app.imbalance");
	cr_assert_eq(an.verdict->severity, NP_SEV_CRITICAL);
	cr_assert(strstr(an.verdict->summary, "on CPU or waiting for one 98%"), "%s",
		  an.verdict->summary);
	for (size_t i = 0; i < an.verdict->n_ev; i++)
		on_cpu |= !strcmp(an.verdict->ev[i].metric, "busiest_worker_on_cpu_share") &&
			  fabs(an.verdict->ev[i].value - 0.65) < 1e-9;
	cr_assert(on_cpu, "the on-CPU share is still shown");
}

/* Every worker busy is no imbalance; nor is a busy worker whose siblings
 * have another name, or whose only sibling served nothing (a master). */
Test(findings, app_imbalance_needs_idle_siblings_of_its_role)
{
	healthy(sig);
	for (size_t i = 0; i < sig->n_threads; i++) {
		sig->threads[i].on_cpu_ns = 9 * S;
		sig->threads[i].ready_wait_ns = 500 * MS;
		sig->threads[i].off_cpu_ns = 950 * MS;
	}
	analyze();
	cr_assert_null(find(&an, "app.imbalance"));

	for (size_t i = 1; i < sig->n_threads; i++) {
		sig->threads[i].on_cpu_ns = 100 * MS;
		sig->threads[i].off_cpu_ns = 10 * S - 150 * MS;
		snprintf(sig->threads[i].comm, sizeof(sig->threads[i].comm), "logger-%u",
			 (unsigned)(i % 100));
	}
	analyze();
	cr_assert_null(find(&an, "app.imbalance"));

	sig->n_threads = 2;
	snprintf(sig->threads[1].comm, sizeof(sig->threads[1].comm), "worker-100");
	sig->threads[1].have_syscalls = false;
	sig->threads[1].calls = 0;
	analyze();
	cr_assert_null(find(&an, "app.imbalance"));

	/* a thread pool of two, both serving */
	sig->threads[1].have_syscalls = true;
	sig->threads[1].calls = 10;
	analyze();
	cr_assert_not_null(find(&an, "app.imbalance"));
}

static void runnable_threads(struct np_signals *s)
{
	for (size_t i = 0; i < s->n_threads; i++) {
		struct np_sig_thread *t = &s->threads[i];

		t->on_cpu_ns = 2 * S;
		t->runnable_ns = 4 * S;
		t->off_cpu_ns = 4 * S;
		t->ready_wait_ns = 3900 * MS;
	}
}

static void waits(struct np_signals *s, uint64_t n)
{
	for (size_t i = 0; i < s->n_threads; i++)
		s->threads[i].runnable_waits = n;
}

Test(findings, host_cpu_contention_needs_long_waits)
{
	healthy(sig);
	runnable_threads(sig);
	/* 4 s of run-queue time in 100,000 waits: 40 us a time */
	waits(sig, 100000);
	analyze();
	cr_assert_not_null(find(&an, "host.cpu_contention"));
	cr_assert_eq(find(&an, "host.cpu_contention")->severity, NP_SEV_INFO);
	cr_assert(strstr(find(&an, "host.cpu_contention")->summary, "wakeup latency"), "%s",
		  find(&an, "host.cpu_contention")->summary);

	/* in 1,000 waits: 4 ms a time, a time slice behind other work */
	waits(sig, 1000);
	expect_verdict("host.cpu_contention");

	/* one thread's count unknown: no gate */
	waits(sig, 100000);
	sig->threads[0].runnable_waits = 0;
	expect_verdict("host.cpu_contention");
}

/* Throttled by its cgroup's quota in 80 of 82 periods: the run-queue time
 * is the quota's, not other work's (the case the issue reports). */
static void throttled(struct np_signals *s)
{
	runnable_threads(s);
	waits(s, 1000);
	s->have_cpu_quota = true;
	s->quota_version = 1;
	s->quota_us = 20000;
	s->quota_period_us = 100000;
	s->quota_periods = 82;
	s->quota_throttled = 80;
	s->quota_throttled_ns = 6400 * MS;
	snprintf(s->quota_cgroup, sizeof(s->quota_cgroup), "/netprof-test/svc");
}

Test(findings, host_cpu_quota)
{
	healthy(sig);
	throttled(sig);
	expect_verdict("host.cpu_quota");
	cr_assert_eq(an.verdict->severity, NP_SEV_CRITICAL);
	cr_assert(strstr(an.verdict->summary, "80 of 82 periods"), "%s", an.verdict->summary);
	cr_assert(strstr(an.verdict->advice, "cpu.cfs_quota_us"), "%s", an.verdict->advice);
	cr_assert(strstr(an.verdict->advice, "/netprof-test/svc"), "%s", an.verdict->advice);
	cr_assert_not_null(evidence(an.verdict, "nr_throttled"));
	cr_assert_eq(evidence(an.verdict, "cpu_quota_us")->value, 20000);
	cr_assert_eq(evidence(an.verdict, "throttled_ns_per_s")->value, 640 * MS);
	/* the contention finding stays, at info, pointing at the quota */
	cr_assert_not_null(find(&an, "host.cpu_contention"));
	cr_assert_eq(find(&an, "host.cpu_contention")->severity, NP_SEV_INFO);

	/* v2 names its own file */
	sig->quota_version = 2;
	expect_verdict("host.cpu_quota");
	cr_assert(strstr(an.verdict->advice, "cpu.max"), "%s", an.verdict->advice);
}

Test(findings, host_cpu_quota_needs_a_limit_that_bit_and_waiting_threads)
{
	healthy(sig);
	throttled(sig);
	/* no limit: other work it is */
	sig->quota_us = UINT64_MAX;
	expect_verdict("host.cpu_contention");
	cr_assert_null(find(&an, "host.cpu_quota"));

	/* a limit rarely reached */
	sig->quota_us = 20000;
	sig->quota_throttled = 2;
	expect_verdict("host.cpu_contention");

	/* throttled, but the service's threads hardly waited */
	np_signals_fini(sig);
	memset(sig, 0, sizeof(*sig));
	healthy(sig);
	throttled(sig);
	for (size_t i = 0; i < sig->n_threads; i++) {
		sig->threads[i].on_cpu_ns = 1 * S;
		sig->threads[i].runnable_ns = 10 * MS;
		sig->threads[i].off_cpu_ns = 9 * S - 10 * MS;
	}
	analyze();
	cr_assert_not_null(find(&an, "host.cpu_quota"));
	cr_assert_eq(find(&an, "host.cpu_quota")->severity, NP_SEV_INFO);
	cr_assert(!an.verdict || strcmp(an.verdict->cause, "host.cpu_quota"));
}

Test(findings, stack_listen_overflow)
{
	healthy(sig);
	sig->listen_overflows = 400;
	sig->listen_drops = 400;
	sig->acceptq_peak = 129;
	sig->acceptq_limit = 128;
	sig->backlog_limit = 128;
	expect_verdict("stack.listen_overflow");
	cr_assert(strstr(an.verdict->advice, "somaxconn"));
	/* ListenDrops include the overflows: not counted twice */
	cr_assert_float_eq(an.verdict->ev[0].value, 400, 1e-9);
}

Test(findings, backlog_clamped_by_somaxconn_is_a_configuration_note)
{
	healthy(sig);
	sig->backlog_limit = 4096; /* = somaxconn: the application asked for more */
	analyze();
	cr_assert_null(an.verdict);
	cr_assert_not_null(find(&an, "stack.listen_overflow"));
	cr_assert_eq(find(&an, "stack.listen_overflow")->severity, NP_SEV_INFO);
	cr_assert(strstr(find(&an, "stack.listen_overflow")->summary, "clamped"));
	/* and a warning once connections were dropped */
	sig->listen_overflows = 3;
	sig->listen_drops = 3;
	sig->listen_sock_drops = 3;
	analyze();
	cr_assert_not_null(an.verdict);
	cr_assert_str_eq(an.verdict->cause, "stack.listen_overflow");
	cr_assert_eq(an.verdict->severity, NP_SEV_WARNING);
	cr_assert(strstr(an.verdict->summary, "capped by net.core.somaxconn"), "%s",
		  an.verdict->summary);
}

/* A listen overflow names the effective backlog, min(listen() backlog,
 * somaxconn), and which of the two to raise. */
Test(findings, listen_overflow_names_the_effective_backlog)
{
	healthy(sig);
	sig->listen_overflows = 400;
	sig->listen_drops = 400;
	sig->acceptq_peak = 129;
	sig->acceptq_limit = 128;
	sig->backlog_limit = 128;
	expect_verdict("stack.listen_overflow");
	cr_assert(strstr(an.verdict->summary,
			 "effective backlog 128 (listen() asked for 128, somaxconn 4096)"),
		  "%s", an.verdict->summary);
	cr_assert(strstr(an.verdict->advice, "listen() backlog (128) is the limit"), "%s",
		  an.verdict->advice);
	cr_assert_null(strstr(an.verdict->summary, "capped by"), "%s", an.verdict->summary);
	/* the application asked for more than somaxconn: somaxconn binds */
	sig->somaxconn = 128;
	analyze();
	cr_assert(strstr(an.verdict->summary,
			 "effective backlog 128 (listen() asked for 128 or more, somaxconn 128)"),
		  "%s", an.verdict->summary);
	cr_assert(strstr(an.verdict->advice, "net.core.somaxconn (128) is the limit"), "%s",
		  an.verdict->advice);
	/* without the configuration snapshot: the limit, and no guess */
	sig->have_backlog_config = false;
	analyze();
	cr_assert(strstr(an.verdict->summary, "effective backlog 128 (somaxconn unknown)"), "%s",
		  an.verdict->summary);
}

Test(findings, stack_socket_buffers)
{
	healthy(sig);
	sig->prune_called = 80;
	sig->rcvq_drops = 300;
	sig->sock_drops_tcp = 380; /* the service's own connections dropped them */
	expect_verdict("stack.socket_buffers");
}

/* A UDP socket's buffer is SO_RCVBUF up to rmem_max; tcp_rmem is TCP's. */
Test(findings, socket_buffer_advice_fits_the_protocol)
{
	healthy(sig);
	sig->drops_rcvbuf = 500; /* kfree_skb SOCKET_RCVBUFF, any protocol */
	sig->have_udp_counters = true;
	sig->udp_rcvbuf_errors = 500;
	sig->sock_drops_udp = 500;
	snprintf(sig->udp_drops_where, sizeof(sig->udp_drops_where), "0.0.0.0:5353");
	expect_verdict("stack.socket_buffers");
	cr_assert(strstr(an.verdict->summary, "UDP sockets dropped datagrams"), "%s",
		  an.verdict->summary);
	cr_assert(strstr(an.verdict->advice, "SO_RCVBUF"), "%s", an.verdict->advice);
	cr_assert(strstr(an.verdict->advice, "net.core.rmem_max"), "%s", an.verdict->advice);
	cr_assert(strstr(an.verdict->advice, "net.core.rmem_default"), "%s", an.verdict->advice);
	cr_assert(strstr(an.verdict->advice, "ss -uamp"), "%s", an.verdict->advice);
	cr_assert(strstr(an.verdict->advice, "0.0.0.0:5353"), "%s", an.verdict->advice);
	cr_assert_null(strstr(an.verdict->advice, "tcp_rmem"), "%s", an.verdict->advice);
	cr_assert_not_null(evidence(an.verdict, "UdpRcvbufErrors"));
	/* the UDP counter, with the drops on the service's socket seen by the
	 * stack source and not by sock_diag: which socket is unknown */
	sig->sock_drops_udp = 0;
	sig->udp_drops_where[0] = '\0';
	sig->have_target_events = true;
	sig->target_buffer_drops = 500;
	analyze();
	cr_assert_null(strstr(an.verdict->advice, "tcp_rmem"), "%s", an.verdict->advice);
	cr_assert(strstr(an.verdict->advice, "the service's UDP sockets"), "%s",
		  an.verdict->advice);
	/* TCP keeps tcp_rmem */
	sig->have_udp_counters = false;
	sig->udp_rcvbuf_errors = 0;
	sig->prune_called = 80;
	sig->rcvq_drops = 300;
	analyze();
	cr_assert(strstr(an.verdict->advice, "net.ipv4.tcp_rmem"), "%s", an.verdict->advice);
	cr_assert_null(strstr(an.verdict->advice, "UdpRcvbufErrors"), "%s", an.verdict->advice);
	/* both: each protocol's setting */
	sig->sock_drops_udp = 40;
	analyze();
	cr_assert(strstr(an.verdict->advice, "net.ipv4.tcp_rmem"), "%s", an.verdict->advice);
	cr_assert(strstr(an.verdict->advice, "net.core.rmem_default"), "%s", an.verdict->advice);
}

Test(findings, stack_retransmits)
{
	healthy(sig);
	sig->retrans_segs = 16000;
	sig->tcp_timeouts = 30;
	expect_verdict("stack.retransmits");
	cr_assert_null(an.runner_up, "alone: no runner-up");
}

/* A loss finding says what the loss cost the requests it hit; a finding
 * of another kind does not. */
Test(findings, loss_findings_cite_the_requests_hit)
{
	const struct np_evidence *e;

	healthy(sig);
	sig->retrans_segs = 16000;
	sig->tcp_timeouts = 30;
	sig->have_exch_loss = true;
	sig->exch_loss_share = 0.042;
	sig->exch_loss_events = 37;
	sig->exch_loss_p50_ns = 212 * MS;
	sig->exch_loss_others_p50_ns = 1100000;
	snprintf(sig->exch_loss_reason, sizeof(sig->exch_loss_reason), "NETFILTER_DROP");
	expect_verdict("stack.retransmits");
	cr_assert(strstr(an.verdict->summary,
			 "4.2% of requests were hit by loss, p50 212.0 ms against 1.1 ms for the "
			 "others; the drop reason that hit most: NETFILTER_DROP"),
		  "%s", an.verdict->summary);
	e = evidence(an.verdict, "requests_hit_by_loss_share");
	cr_assert(e && fabs(e->value - 0.042) < 1e-12);
	e = evidence(an.verdict, "loss_hit_p50_ns");
	cr_assert(e && e->value == 212 * MS);

	/* the same loss figures beside a CPU-bound service: not app.cpu's */
	healthy(sig);
	sig->have_exch_loss = true;
	sig->exch_loss_share = 0.042;
	for (size_t i = 0; i < sig->n_threads; i++)
		sig->threads[i].on_cpu_ns = 9 * S;
	analyze();
	cr_assert_not_null(find(&an, "app.cpu"));
	cr_assert_null(evidence(find(&an, "app.cpu"), "requests_hit_by_loss_share"));
	cr_assert_null(strstr(find(&an, "app.cpu")->summary, "hit by loss"));
}

Test(findings, stack_qdisc)
{
	healthy(sig);
	sig->ifaces[0].qdisc_drops = 5000;
	sig->ifaces[0].qdisc_backlog_max_pkts = 900;
	snprintf(sig->ifaces[0].qdisc_kind, sizeof(sig->ifaces[0].qdisc_kind), "tbf");
	expect_verdict("stack.qdisc");
	cr_assert(strstr(an.verdict->advice, "tc -s qdisc show dev eth0"), "%s",
		  an.verdict->advice);
	cr_assert_null(find(&an, "nic.rx_drops"));
}

/* Counters that moved in (nearly) every window make a steady finding; a
 * fault in some windows only does not. */
Test(findings, steady_over_the_whole_window)
{
	const struct np_finding *f;

	cr_assert_not(np_finding_steady(1, 1));
	cr_assert(np_finding_steady(2, 2));
	cr_assert_not(np_finding_steady(1, 2));
	cr_assert_not(np_finding_steady(8, 9));
	cr_assert(np_finding_steady(9, 10));
	cr_assert_not(np_finding_steady(8, 10));
	healthy(sig);
	sig->retrans_segs = 20000;
	sig->wknown |= 1ull << NP_W_RETRANS_SEGS | 1ull << NP_W_EXCH_P99_NS;
	for (size_t w = 0; w < sig->n_windows; w++) {
		sig->windows[w].v[NP_W_EXCH_P99_NS] = MS;
		sig->windows[w].v[NP_W_RETRANS_SEGS] = w == 6 ? 0 : 2000;
	}
	analyze();
	f = find(&an, "stack.retransmits");
	cr_assert_not_null(f);
	cr_assert_eq(f->windows_total, 10);
	cr_assert_eq(f->windows_moved, 9);
	cr_assert(f->steady);
	/* in half of the windows: a correlation, not steady */
	for (size_t w = 0; w < sig->n_windows; w += 2)
		sig->windows[w].v[NP_W_RETRANS_SEGS] = 0;
	analyze();
	f = find(&an, "stack.retransmits");
	cr_assert_eq(f->windows_moved, 5);
	cr_assert_not(f->steady);
}

/* The stack_qdisc golden's numbers: the last segment was seen leaving for
 * 18 of 26 exchanges.  Their tx (12.09 s) is part of the 12.10 s of total
 * latency; scaled to all 26 it was 17.46 s, "144% of request latency". */
Test(findings, tx_share_is_a_part_of_request_latency)
{
	const struct np_evidence *e;

	healthy(sig);
	sig->exch_count = 26;
	sig->exch_total_ns = 12100 * MS;
	sig->exch_queued_ns = 7568 * MS / 1000;
	sig->exch_queued_seen_ns = 5240 * MS / 1000;
	sig->exch_app_ns = 2660 * MS / 1000;
	sig->exch_tx_ns = 17463 * MS;
	sig->exch_tx_seen_ns = 12090 * MS;
	sig->have_exch_qdisc = true;
	sig->exch_tx_qdisc_ns = 2456 * MS;
	sig->exch_tx_qdisc_seen_ns = 1700 * MS;
	expect_verdict("stack.qdisc");
	e = evidence(an.verdict, "tx_share");
	cr_assert_not_null(e);
	cr_assert_float_eq(e->value, 12090.0 / 12100.0, 1e-9);
	cr_assert_not_null(strstr(an.verdict->summary, "100% of request latency"), "%s",
			   an.verdict->summary);
	e = evidence(an.verdict, "tx_qdisc_share");
	cr_assert_not_null(e);
	cr_assert_float_eq(e->value, 1700.0 / 12090.0, 1e-9);
	/* and a share that is not near 100%: departure seen for half of the
	 * exchanges, whose tx is 3 s of the 10 s total (scaled: 6 s) */
	sig->exch_total_ns = 10 * S;
	sig->exch_tx_seen_ns = 3 * S;
	sig->exch_tx_ns = 6 * S;
	sig->have_exch_qdisc = false;
	analyze();
	e = evidence(find(&an, "stack.qdisc"), "tx_share");
	cr_assert_not_null(e);
	cr_assert_float_eq(e->value, 0.3, 1e-9);
}

/* Responses written in two small writes with TCP_NODELAY off: the second
 * waits for the client's delayed ACK of the first, ~40 ms, in tx. */
static void nagle_stalls(struct np_signals *s)
{
	healthy(s);
	s->exch_count = 500;
	s->exch_p50_ns = 44 * MS;
	s->exch_total_ns = 22500 * MS;
	s->exch_queued_ns = s->exch_queued_seen_ns = 100 * MS;
	s->exch_app_ns = 400 * MS;
	s->exch_tx_ns = s->exch_tx_seen_ns = 22000 * MS;
	s->have_exch_qdisc = true;
	s->exch_tx_qdisc_ns = s->exch_tx_qdisc_seen_ns = 2 * MS;
	s->exch_tx_known = 500;
	s->exch_tx_ack_delay = 495;
	s->exch_tx_p50_ns = 44 * MS;
	s->exch_nagle_held = 500;
}

Test(findings, stack_nagle)
{
	const struct np_finding *qd;
	const struct np_evidence *e;

	nagle_stalls(sig);
	expect_verdict("stack.nagle");
	cr_assert_eq(an.verdict->severity, NP_SEV_CRITICAL);
	e = evidence(an.verdict, "tx_ack_delay_share");
	cr_assert_not_null(e);
	cr_assert_float_eq(e->value, 0.99, 1e-9);
	e = evidence(an.verdict, "nagle_held_share");
	cr_assert_not_null(e);
	cr_assert_float_eq(e->value, 1.0, 1e-9);
	cr_assert(strstr(an.verdict->summary, "median 44.0 ms"), "%s", an.verdict->summary);
	cr_assert(strstr(an.verdict->advice, "TCP_NODELAY"), "%s", an.verdict->advice);
	/* The transmit time is TCP's, not a qdisc's, and says whose. */
	qd = find(&an, "stack.qdisc");
	cr_assert_not_null(qd);
	cr_assert_eq(qd->severity, NP_SEV_INFO);
	cr_assert(strstr(qd->summary, "see stack.nagle"), "%s", qd->summary);
}

/* Transmit times in the delayed-ACK band without writes held by Nagle (a
 * window, a slow link) are not Nagle's; nor are held writes whose wait is
 * a small part of slow requests. */
Test(findings, stack_nagle_needs_held_writes_and_a_large_tx)
{
	const struct np_finding *f;

	nagle_stalls(sig);
	sig->exch_nagle_held = 200; /* fewer than half of the 495 */
	analyze();
	f = find(&an, "stack.nagle");
	cr_assert_not_null(f);
	cr_assert_eq(f->severity, NP_SEV_INFO);
	cr_assert(strstr(f->summary, "not a delayed ACK"), "%s", f->summary);
	cr_assert(!an.verdict || strcmp(an.verdict->cause, "stack.nagle"));
	f = find(&an, "stack.qdisc");
	cr_assert(!f || !strstr(f->summary, "stack.nagle"));

	/* A shaped link (stack.qdisc's scenario): tx in the band, nothing held. */
	nagle_stalls(sig);
	sig->exch_nagle_held = 0;
	analyze();
	cr_assert_null(find(&an, "stack.nagle"));

	nagle_stalls(sig);
	sig->exch_app_ns = 500 * S; /* 1 s of application per request */
	sig->exch_total_ns = sig->exch_app_ns + sig->exch_tx_seen_ns + sig->exch_queued_seen_ns;
	analyze();
	f = find(&an, "stack.nagle");
	cr_assert_not_null(f);
	cr_assert_eq(f->severity, NP_SEV_INFO);
}

Test(findings, queued_share_is_a_part_of_request_latency)
{
	const struct np_evidence *e;

	healthy(sig);
	sig->exch_total_ns = 10 * S;
	sig->exch_queued_seen_ns = 4 * S; /* arrival seen for a third: 12 s scaled */
	sig->exch_queued_ns = 12 * S;
	analyze();
	e = evidence(find(&an, "app.backpressure"), "queued_share");
	cr_assert_not_null(e);
	cr_assert_float_eq(e->value, 0.4, 1e-9);
}

/* Polls a moment apart can make a thread's states add up to more than
 * its window: its time is then their sum, and on-CPU a part of it. */
Test(findings, thread_shares_are_of_the_threads_states)
{
	const struct np_evidence *e;

	healthy(sig);
	sig->n_threads = 0;
	thread(sig, 100, 9 * S, 0, 0, 0, 0);
	sig->threads[0].window_ns = 8 * S;
	sig->threads[0].off_cpu_ns = 1 * S;
	analyze();
	e = evidence(find(&an, "app.cpu"), "app_cpu_share");
	cr_assert_not_null(e);
	cr_assert_float_eq(e->value, 0.9, 1e-9);
	cr_assert_eq(an.breakdown.thread_ns, 10 * S);
}

/* RetransSegs are not in OutSegs: the segments sent are both. */
Test(findings, retrans_ratio_is_of_all_segments_sent)
{
	const struct np_evidence *e;

	healthy(sig);
	sig->out_segs = 300;
	sig->retrans_segs = 100;
	analyze();
	e = evidence(find(&an, "stack.retransmits"), "retrans_ratio");
	cr_assert_not_null(e);
	cr_assert_float_eq(e->value, 0.25, 1e-9);
	cr_assert_not_null(strstr(find(&an, "stack.retransmits")->summary,
				  "100 of the 400 TCP segments sent were retransmissions"),
			   "%s", find(&an, "stack.retransmits")->summary);
}

/* The kernel lets a full accept queue hold limit + 1 connections, and a
 * receive queue's memory pass its buffer by the last packet: full is 100%. */
Test(findings, queue_fill_never_exceeds_full)
{
	healthy(sig);
	sig->acceptq_peak = 129;
	sig->acceptq_limit = 128;
	sig->recvq_mem_peak_bytes = 140000;
	sig->recvq_rcvbuf_bytes = 131072;
	analyze();
	cr_assert_float_eq(evidence(find(&an, "app.backpressure"), "accept_q_fill")->value, 1.0,
			   1e-9);
	cr_assert_float_eq(evidence(find(&an, "app.backpressure"), "recv_q_fill")->value, 1.0,
			   1e-9);
	cr_assert(strstr(find(&an, "app.backpressure")->summary, "129 of 128") ||
			  strstr(find(&an, "app.backpressure")->summary, "100%"),
		  "%s", find(&an, "app.backpressure")->summary);
}

/* Whatever the inputs, no evidence of unit share is above 1. */
Test(findings, no_share_above_one)
{
	uint64_t seed = 7;

	for (int iter = 0; iter < 500; iter++) {
		np_signals_fini(sig);
		memset(sig, 0, sizeof(*sig));
		healthy(sig);
		for (size_t i = 0; i < sig->n_threads; i++) {
			sig->threads[i].on_cpu_ns = lcg(&seed) % (20 * S);
			sig->threads[i].runnable_ns = lcg(&seed) % (20 * S);
			sig->threads[i].off_cpu_ns = lcg(&seed) % (20 * S);
		}
		sig->exch_total_ns = 1 + lcg(&seed) % (20 * S);
		sig->exch_queued_seen_ns = lcg(&seed) % (sig->exch_total_ns / 2 + 1);
		sig->exch_tx_seen_ns = lcg(&seed) % (sig->exch_total_ns / 2 + 1);
		sig->exch_queued_ns = sig->exch_queued_seen_ns * (1 + lcg(&seed) % 4);
		sig->exch_tx_ns = sig->exch_tx_seen_ns * (1 + lcg(&seed) % 4);
		sig->have_exch_qdisc = true;
		sig->exch_tx_qdisc_seen_ns = lcg(&seed) % (sig->exch_tx_seen_ns + 1);
		sig->exch_tx_qdisc_ns = sig->exch_tx_qdisc_seen_ns * (1 + lcg(&seed) % 4);
		sig->acceptq_peak = lcg(&seed) % 5000;
		sig->retrans_segs = lcg(&seed) % 400000;
		sig->conntrack_peak = lcg(&seed) % 70000;
		analyze();
		for (size_t i = 0; i < an.n_findings; i++)
			for (size_t k = 0; k < an.findings[i].n_ev; k++) {
				const struct np_evidence *e = &an.findings[i].ev[k];

				if (!strcmp(e->unit, "share"))
					cr_assert(e->value <= 1.0, "iteration %d: %s %s = %f", iter,
						  an.findings[i].cause, e->metric, e->value);
			}
	}
}

Test(findings, stack_softirq)
{
	healthy(sig);
	sig->cpus[0].softnet_dropped = 400;
	sig->cpus[0].time_squeeze = 9000;
	sig->cpus[0].net_rx_ns = 8 * S;
	expect_verdict("stack.softirq");
	cr_assert(strstr(an.verdict->advice, "softnet_stat"), "%s", an.verdict->advice);
}

/* The service's CPU 1 does network softirq work an IRQ's affinity put
 * there: its wait behind it and the time it was interrupted are the
 * stack's, and the advice moves the IRQ or the service. */
static void softirq_steal(struct np_signals *s, uint64_t interrupted, uint64_t runq)
{
	for (size_t i = 0; i < s->n_threads; i++) {
		struct np_sig_thread *t = &s->threads[i];

		t->on_cpu_ns = 1 * S;
		t->runnable_ns = 1 * S;
		t->off_cpu_ns = 8 * S;
		t->ready_wait_ns = 7900 * MS;
	}
	s->have_softirq_steal = true;
	s->steal_cpu = 1;
	s->cpus[1].net_rx_ns = 4 * S;
	s->cpus[1].svc_on_cpu_ns = 4 * S;
	s->cpus[1].svc_runnable_ns = 4 * S;
	s->cpus[1].svc_interrupted_ns = interrupted;
	s->cpus[1].svc_runq_softirq_ns = runq;
	s->cpus[1].net_share_of_others = 0.6;
	s->steal_have_samples = true;
	s->steal_interrupted_ns = interrupted;
	s->steal_runq_ns = runq;
	s->n_steering = 1;
	snprintf(s->steering[0].what, sizeof(s->steering[0].what), "irq");
	snprintf(s->steering[0].where, sizeof(s->steering[0].where),
		 "IRQ 45 (eth0-rx-0) affinity 1");
	s->steering[0].value = 90000;
}

Test(findings, softirq_on_the_services_cpu_names_the_cpu_and_the_irq)
{
	healthy(sig);
	softirq_steal(sig, 400 * MS, 2 * S);
	expect_verdict("stack.softirq");
	const struct np_finding *f = an.verdict;
	const struct np_evidence *e = evidence(f, "service_softirq_share");

	cr_assert_not_null(e);
	cr_assert_str_eq(e->where, "CPU 1");
	/* 2.4 s of the threads' 8 s on CPU or runnable */
	cr_assert_float_eq(e->value, 0.3, 1e-3);
	cr_assert_eq(f->severity, NP_SEV_CRITICAL);
	cr_assert_not_null(evidence(f, "interrupted_ns"));
	cr_assert_not_null(evidence(f, "irq"));
	cr_assert(strstr(f->summary, "IRQ 45"), "%s", f->summary);
	cr_assert(strstr(f->advice, "smp_affinity_list") && strstr(f->advice, "taskset"), "%s",
		  f->advice);
}

Test(findings, softirq_on_the_services_cpu_needs_a_real_share_and_loss)
{
	healthy(sig);
	/* under 1% of the window lost: nothing to say */
	softirq_steal(sig, 10 * MS, 50 * MS);
	analyze();
	cr_assert_null(evidence(find(&an, "stack.softirq"), "service_softirq_share"));
	/* a large share of the service's time, but the CPU is mostly doing
	 * other work than network softirq: at most info */
	softirq_steal(sig, 400 * MS, 2 * S);
	sig->cpus[1].net_share_of_others = 0.05;
	analyze();
	const struct np_finding *f = find(&an, "stack.softirq");

	cr_assert_not_null(evidence(f, "service_softirq_share"));
	cr_assert_eq(f->severity, NP_SEV_INFO);
	/* unknown without the scheduler's switch events */
	sig->have_softirq_steal = false;
	analyze();
	cr_assert_null(evidence(find(&an, "stack.softirq"), "service_softirq_share"));
}

Test(findings, one_cpu_doing_net_rx_with_rps_off)
{
	healthy(sig);
	sig->cpus[0].net_rx_ns = 3 * S;
	sig->cpus[1].net_rx_ns = 50 * MS;
	analyze();
	const struct np_finding *f = find(&an, "stack.softirq");

	cr_assert_not_null(f);
	cr_assert_eq(f->severity, NP_SEV_WARNING);
	cr_assert(strstr(f->summary, "RPS is off") || strstr(f->summary, "NET_RX"), "%s",
		  f->summary);
	/* with RPS on, the imbalance is not this configuration problem */
	sig->ifaces[0].rps_on = true;
	sig->cpus[0].net_rx_ns = 1500 * MS;
	analyze();
	f = find(&an, "stack.softirq");
	cr_assert(!f || f->severity < NP_SEV_WARNING);
}

Test(findings, net_rx_imbalance_from_packets_without_softirq_time)
{
	/* the network source alone: packets processed per CPU and softirq
	 * time of any kind, no NET_RX time */
	healthy(sig);
	sig->have_softirq_time = false;
	sig->cpus[0].processed_pkts = 950000;
	sig->cpus[1].processed_pkts = 20000;
	sig->cpus[0].softirq_ns = 2 * S;
	analyze();
	const struct np_finding *f = find(&an, "stack.softirq");

	cr_assert_not_null(f);
	cr_assert_eq(f->severity, NP_SEV_WARNING);
	cr_assert(strstr(f->summary, "packets processed") &&
			  strstr(f->summary, "RPS is off on eth0"),
		  "%s", f->summary);
	/* a quiet CPU is no imbalance worth a finding */
	sig->cpus[0].softirq_ns = 100 * MS;
	analyze();
	cr_assert_null(find(&an, "stack.softirq"));
	/* nor is loopback traffic, whatever its RPS setting */
	sig->cpus[0].softirq_ns = 2 * S;
	sig->ifaces[0].nic_layer = false;
	analyze();
	cr_assert_null(find(&an, "stack.softirq"));
}

Test(findings, backpressure_seen_in_one_poll_is_only_info)
{
	healthy(sig);
	sig->recvq_peak_bytes = 125000;
	sig->recvq_polls = 1;
	analyze();
	cr_assert_null(an.verdict);
	cr_assert_eq(find(&an, "app.backpressure")->severity, NP_SEV_INFO);
	/* the queue's memory counts when it is above the payload */
	sig->recvq_polls = 5;
	sig->recvq_peak_bytes = 40000;
	sig->recvq_mem_peak_bytes = 125000;
	expect_verdict("app.backpressure");
}

Test(findings, stack_netfilter)
{
	healthy(sig);
	sig->drops_netfilter = 2000;
	sig->conntrack_peak = 65536;
	expect_verdict("stack.netfilter");
}

Test(findings, stack_kernel_cpu)
{
	healthy(sig);
	for (size_t i = 0; i < sig->n_threads; i++) {
		struct np_sig_thread *t = &sig->threads[i];

		t->on_cpu_ns = 8 * S;
		t->runnable_ns = 100 * MS;
		t->off_cpu_ns = 1900 * MS;
		t->ready_wait_ns = 1800 * MS;
		t->io_ns = 7 * S;
	}
	expect_verdict("stack.kernel_cpu");
}

Test(findings, offloads_off_is_noted)
{
	healthy(sig);
	sig->ifaces[0].tso = sig->ifaces[0].gro = false;
	analyze();
	cr_assert_null(an.verdict);
	cr_assert_not_null(find(&an, "stack.kernel_cpu"));
	cr_assert(strstr(find(&an, "stack.kernel_cpu")->advice, "ethtool -k eth0"));
}

Test(findings, nic_rx_drops)
{
	healthy(sig);
	sig->ifaces[0].rx_missed = 5000;
	sig->ifaces[0].driver_rx_drops = 300;
	expect_verdict("nic.rx_drops");
	cr_assert(strstr(an.verdict->advice, "ethtool -S eth0"), "%s", an.verdict->advice);
}

Test(findings, nic_errors)
{
	healthy(sig);
	sig->ifaces[0].rx_errors = 250;
	sig->ifaces[0].carrier_changes = 3;
	expect_verdict("nic.errors");
}

Test(findings, peer_slow_from_exchanges)
{
	healthy(sig);
	sig->exch_peer_ns = 24 * S;
	sig->exch_app_ns = 3 * S;
	snprintf(sig->outbound_peer, sizeof(sig->outbound_peer), "10.1.1.1:5432");
	expect_verdict("peer.slow");
	cr_assert(strstr(an.verdict->advice, "10.1.1.1:5432"), "%s", an.verdict->advice);
	cr_assert(an.breakdown.peer_ns > 0);
}

Test(findings, peer_slow_names_the_slowest_upstream_operation)
{
	const struct np_evidence *ev;

	healthy(sig);
	sig->exch_peer_ns = 24 * S;
	sig->exch_app_ns = 3 * S;
	snprintf(sig->outbound_peer, sizeof(sig->outbound_peer), "127.0.0.1:6379");
	/* as np_signals_from_exchanges() takes it from the outbound groups */
	sig->have_slowest_op = true;
	snprintf(sig->slowest_op, sizeof(sig->slowest_op), "redis DEBUG");
	snprintf(sig->slowest_op_peer, sizeof(sig->slowest_op_peer), "127.0.0.1:6379");
	sig->slowest_op_p99_ns = 35 * MS;
	sig->slowest_op_count = 50;
	expect_verdict("peer.slow");
	cr_assert(strstr(an.verdict->summary, "redis DEBUG p99 35 ms at 127.0.0.1:6379"), "%s",
		  an.verdict->summary);
	ev = evidence(an.verdict, "slowest_upstream_p99");
	cr_assert_not_null(ev);
	cr_assert_str_eq(ev->where, "redis DEBUG to 127.0.0.1:6379");
	cr_assert_float_eq(ev->value, 35e6, 1);
}

/* An upstream that writes each reply in two parts with Nagle on: the
 * second waits for this host's delayed ACK.  peer.slow says so, with the
 * count and the wait, and advises TCP_NODELAY on the peer; a few such
 * replies among many are not worth a word. */
Test(findings, peer_slow_says_replies_arrive_in_two_parts)
{
	const struct np_evidence *ev;

	healthy(sig);
	sig->exch_peer_ns = 24 * S;
	sig->exch_app_ns = 3 * S;
	sig->exch_outbound_count = 134;
	sig->exch_reply_parts = 133;
	sig->exch_reply_parts_ack_delay = 133;
	sig->exch_reply_part_p50_ns = 44 * MS;
	snprintf(sig->outbound_peer, sizeof(sig->outbound_peer), "10.77.126.1:8080");
	expect_verdict("peer.slow");
	cr_assert(strstr(an.verdict->summary,
			 "the upstream's replies arrive in two parts ~44 ms apart (133 of 134)"),
		  "%s", an.verdict->summary);
	ev = evidence(an.verdict, "replies_in_two_parts");
	cr_assert_not_null(ev);
	cr_assert_float_eq(ev->value, 133, 1e-9);
	cr_assert_not_null(evidence(an.verdict, "reply_part_gap_p50_ns"));
	cr_assert(strstr(an.verdict->advice, "TCP_NODELAY on the peer's sockets"), "%s",
		  an.verdict->advice);
	cr_assert(strstr(an.verdict->advice, "10.77.126.1:8080"), "%s", an.verdict->advice);
	np_analysis_fini(&an);

	sig->exch_reply_parts = sig->exch_reply_parts_ack_delay = 20; /* 15% of them */
	expect_verdict("peer.slow");
	cr_assert_null(strstr(an.verdict->summary, "two parts"), "%s", an.verdict->summary);
	cr_assert_null(evidence(an.verdict, "replies_in_two_parts"));
}

Test(findings, peer_slow_from_blocked_outbound_calls)
{
	healthy(sig);
	sig->have_exchanges = false;
	for (size_t i = 0; i < sig->n_threads; i++) {
		struct np_sig_thread *t = &sig->threads[i];

		t->ready_wait_ns = 1 * S;
		t->io_ns = 7700 * MS;
		t->io_blocked_ns = 7500 * MS;
		t->io_blocked_outbound_ns = 7500 * MS;
	}
	expect_verdict("peer.slow");
	cr_assert(an.breakdown.peer_ns > an.breakdown.idle_ns);
	/* no address known: the advice says so in words, not "{where}" */
	cr_assert(strstr(an.verdict->advice, "The service waits on its peers:"), "%s",
		  an.verdict->advice);
	cr_assert_null(strchr(an.verdict->advice, '{'));
}

Test(findings, peer_wait_is_not_blamed_while_local_queues_are_full)
{
	healthy(sig);
	sig->exch_peer_ns = 24 * S;
	sig->recvq_peak_bytes = 120000;
	analyze();
	cr_assert_not_null(an.verdict);
	cr_assert_str_eq(an.verdict->cause, "app.backpressure");
	cr_assert(!find(&an, "peer.slow") || find(&an, "peer.slow")->severity == NP_SEV_INFO);
}

Test(findings, software_only_faults_never_make_a_nic_finding)
{
	healthy(sig);
	/* softnet backlog drops also count in the devices' rx_dropped */
	sig->cpus[0].softnet_dropped = 5000;
	sig->ifaces[0].rx_dropped = 3000;
	sig->ifaces[0].tx_dropped = 900;
	sig->ifaces[0].qdisc_drops = 900;
	/* a veth: its rx_dropped is the backlog's too; its qdisc drops are
	 * the stack's */
	sig->n_ifaces = 2;
	struct np_sig_iface *v = &sig->ifaces[1];

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "veth0");
	snprintf(v->kind, sizeof(v->kind), "veth");
	v->nic_layer = true;
	v->have_link = true;
	v->rx_pkts = 100000;
	v->rx_dropped = 2000;
	v->have_driver = true;
	v->have_qdisc = true;
	v->qdisc_drops = 400;
	/* a bridge is never the NIC, whatever it counts */
	sig->n_ifaces = 3;
	struct np_sig_iface *br = &sig->ifaces[2];

	memset(br, 0, sizeof(*br));
	snprintf(br->name, sizeof(br->name), "br0");
	snprintf(br->kind, sizeof(br->kind), "bridge");
	br->have_link = true;
	br->rx_dropped = 70000;
	br->rx_errors = 50;
	br->carrier_changes = 4;
	sig->drops_netfilter = 100;
	sig->retrans_segs = 5000;
	analyze();
	for (size_t i = 0; i < an.n_findings; i++)
		cr_assert(strncmp(an.findings[i].cause, "nic.", 4), "%s: %s", an.findings[i].cause,
			  an.findings[i].summary);
	cr_assert_not_null(an.verdict);
}

Test(findings, xdp_drops_on_a_veth_are_the_nic_layer)
{
	healthy(sig);
	sig->n_ifaces = 2;
	struct np_sig_iface *v = &sig->ifaces[1];

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "veth-srv");
	snprintf(v->kind, sizeof(v->kind), "veth");
	v->nic_layer = true;
	v->have_link = true;
	v->rx_pkts = 7651;
	v->have_driver = true;
	v->driver_rx_drops = 375;
	snprintf(v->driver_top, sizeof(v->driver_top), "rx_queue_0_xdp_drops");
	/* the loss makes a few retransmits too: the drops are the cause */
	sig->sock_retrans = 9;
	expect_verdict("nic.rx_drops");
	cr_assert(strstr(an.verdict->summary, "veth-srv") &&
			  strstr(an.verdict->summary, "rx_queue_0_xdp_drops"),
		  "%s", an.verdict->summary);
	cr_assert(strstr(an.verdict->advice, "ethtool -S veth-srv"), "%s", an.verdict->advice);
}

Test(findings, drops_rank_before_the_retransmits_they_cause)
{
	healthy(sig);
	/* the backlog dropped about as many packets as TCP retransmitted */
	sig->cpus[1].softnet_dropped = 1092;
	sig->retrans_segs = 791;
	sig->out_segs = 20000;
	sig->sock_retrans = 790;
	expect_verdict("stack.softirq");
	const struct np_finding *r = find(&an, "stack.retransmits");

	cr_assert_not_null(r);
	cr_assert(r->score < an.verdict->score);
	cr_assert(strstr(r->summary, "a consequence of the drops in stack.softirq"), "%s",
		  r->summary);
	/* one lost SYN does not explain thousands of retransmitted segments */
	sig->cpus[1].softnet_dropped = 0;
	sig->listen_overflows = sig->listen_drops = 1;
	sig->retrans_segs = 20000;
	expect_verdict("stack.retransmits");
}

Test(findings, a_full_queue_ranks_before_why_the_application_is_slow)
{
	healthy(sig);
	/* a slow reader: it sleeps before each read, its receive queue fills */
	for (size_t i = 0; i < sig->n_threads; i++) {
		struct np_sig_thread *t = &sig->threads[i];

		t->have_offcpu_reasons = true;
		t->off_sleep_ns = t->off_cpu_ns - 100 * MS;
		t->off_poll_ns = 100 * MS;
	}
	sig->recvq_peak_bytes = 6144;
	sig->recvq_mem_peak_bytes = 7000;
	sig->recvq_rcvbuf_bytes = 8192;
	sig->to_zero_window_adv = 84;
	sig->have_exchanges = false;
	expect_verdict("app.backpressure");
	const struct np_finding *b = find(&an, "app.blocked");

	cr_assert_not_null(b);
	cr_assert_eq(an.verdict->severity, NP_SEV_CRITICAL, "as severe as its reason");
	cr_assert(b->score < an.verdict->score);
	cr_assert(strstr(an.verdict->summary, "see app.blocked"), "%s", an.verdict->summary);
	/* without the full queue the sleep itself is the verdict */
	sig->recvq_peak_bytes = sig->recvq_mem_peak_bytes = 100;
	expect_verdict("app.blocked");
	cr_assert(strstr(an.verdict->summary, "sleep") || strstr(an.verdict->summary, "locks"));
}

/* Requests held in the kernel's queues (not full) while the service waits
 * for its CPU behind network softirq: the softirq is why, and ranks
 * first; the queueing is its consequence. */
Test(findings, softirq_on_the_services_cpu_ranks_before_the_queueing_it_causes)
{
	healthy(sig);
	softirq_steal(sig, 400 * MS, 2 * S);
	sig->exch_queued_ns = sig->exch_queued_seen_ns = 28 * S; /* of 30 s */
	sig->exch_count = 5000; /* 5.6 ms each: beyond the slow-call threshold */
	expect_verdict("stack.softirq");
	const struct np_finding *b = find(&an, "app.backpressure");

	cr_assert_not_null(b);
	cr_assert(b->severity >= NP_SEV_WARNING);
	cr_assert(b->score < an.verdict->score);
	cr_assert(strstr(b->summary, "a consequence of stack.softirq"), "%s", b->summary);
}

Test(findings, listen_overflows_rank_before_the_full_accept_queue)
{
	healthy(sig);
	sig->acceptq_peak = 2;
	sig->acceptq_limit = 1;
	sig->listen_overflows = 60;
	sig->listen_drops = 60;
	expect_verdict("stack.listen_overflow");
	cr_assert_eq(an.verdict->severity, NP_SEV_CRITICAL);
	cr_assert(find(&an, "app.backpressure")->score < an.verdict->score);
}

Test(findings, unknown_inputs_never_fire)
{
	/* Every number alarming, every have_* false: nothing may fire. */
	cr_assert_eq(np_signals_init_windows(sig, S, 10 * S), 0);
	sig->n_threads = 1;
	sig->threads[0].tid = 1;
	sig->threads[0].window_ns = 10 * S;
	sig->threads[0].on_cpu_ns = 10 * S;
	sig->threads[0].runnable_ns = 10 * S;
	sig->threads[0].calls = 0;
	sig->exch_total_ns = 10 * S;
	sig->exch_peer_ns = 9 * S;
	sig->recvq_peak_bytes = 1 << 20;
	sig->recvq_rcvbuf_bytes = 1 << 20;
	sig->listen_overflows = 1000;
	sig->out_segs = 1000;
	sig->retrans_segs = 1000;
	sig->drops_netfilter = 1000;
	sig->conntrack_max = 10;
	sig->conntrack_peak = 10;
	sig->n_cpus = 2;
	sig->cpus[0].softnet_dropped = 1000;
	sig->n_ifaces = 1;
	sig->ifaces[0].hardware = true;
	sig->ifaces[0].nic_layer = true;
	sig->ifaces[0].rx_missed = 1000;
	sig->ifaces[0].qdisc_drops = 1000;
	for (size_t w = 0; w < sig->n_windows; w++)
		for (int m = 0; m < NP_W_COUNT; m++)
			sig->windows[w].v[m] = 1000;
	analyze();
	cr_assert_eq(an.n_findings, 0, "%s fired", an.n_findings ? an.findings[0].cause : "");
	cr_assert_null(an.verdict);
}

Test(findings, threads_without_scheduler_times_make_the_breakdown_unknown)
{
	healthy(sig);
	sig->threads[1].have_sched = false; /* a quarter of the thread time */
	analyze();
	cr_assert_not(an.breakdown.known);
	cr_assert_null(find(&an, "app.cpu"));
}

Test(findings, a_short_lived_thread_without_times_is_left_out)
{
	healthy(sig);
	sig->threads[sig->n_threads] = sig->threads[0];
	sig->threads[sig->n_threads].tid = 999;
	sig->threads[sig->n_threads].have_sched = false;
	sig->threads[sig->n_threads].window_ns = 20 * MS;
	sig->n_threads++;
	analyze();
	cr_assert(an.breakdown.known);
	cr_assert_eq(an.breakdown.unknown_threads, 1);
	cr_assert_eq(an.breakdown.thread_ns, 40 * S);
}

Test(findings, no_network_threads_means_all_idle)
{
	cr_assert_eq(np_signals_init_windows(sig, S, 5 * S), 0);
	sig->n_threads = 1;
	sig->threads[0] = (struct np_sig_thread){.tid = 1,
						 .window_ns = 5 * S,
						 .have_sched = true,
						 .on_cpu_ns = 4 * S,
						 .have_syscalls = true};
	analyze();
	cr_assert(an.breakdown.known);
	cr_assert_eq(an.breakdown.idle_ns, 5 * S);
	cr_assert_null(an.verdict);
}

Test(findings, severity_bands_order_scores)
{
	healthy(sig);
	sig->listen_overflows = 1; /* warning */
	sig->retrans_segs = 20000; /* critical */
	sig->backlog_limit = 4096; /* info */
	analyze();
	cr_assert_str_eq(an.findings[0].cause, "stack.retransmits");
	for (size_t i = 1; i < an.n_findings; i++) {
		cr_assert(an.findings[i - 1].score >= an.findings[i].score);
		cr_assert(an.findings[i - 1].severity >= an.findings[i].severity);
	}
	for (size_t i = 0; i < an.n_findings; i++) {
		const struct np_finding *f = &an.findings[i];
		double lo = f->severity == NP_SEV_CRITICAL  ? 0.75
			    : f->severity == NP_SEV_WARNING ? 0.5
							    : 0.25;
		double hi = f->severity == NP_SEV_CRITICAL  ? 1.0
			    : f->severity == NP_SEV_WARNING ? 0.75
							    : 0.5;

		cr_assert(f->score >= lo && f->score < hi + 1e-9, "%s %s score %f", f->cause,
			  np_severity_name(f->severity), f->score);
	}
}

Test(findings, correlation_names_windows_and_latency)
{
	healthy(sig);
	sig->retrans_segs = 20000;
	sig->wknown |= 1ull << NP_W_RETRANS_SEGS | 1ull << NP_W_EXCH_P99_NS;
	for (size_t w = 0; w < sig->n_windows; w++)
		sig->windows[w].v[NP_W_EXCH_P99_NS] = MS;
	/* loss in windows 3 and 4 and 8; latency up in 3 and 4 only */
	sig->windows[3].v[NP_W_RETRANS_SEGS] = 9000;
	sig->windows[4].v[NP_W_RETRANS_SEGS] = 9000;
	sig->windows[8].v[NP_W_RETRANS_SEGS] = 2000;
	sig->windows[3].v[NP_W_EXCH_P99_NS] = 250 * MS;
	sig->windows[4].v[NP_W_EXCH_P99_NS] = 180 * MS;
	analyze();
	const struct np_finding *f = find(&an, "stack.retransmits");

	cr_assert_not_null(f);
	cr_assert_eq(f->n_spans, 2);
	cr_assert_eq(f->spans[0].start_ns, sig->start_ns + 3 * S);
	cr_assert_eq(f->spans[0].end_ns, sig->start_ns + 5 * S);
	cr_assert_eq(f->spans[1].start_ns, sig->start_ns + 8 * S);
	cr_assert_eq(f->windows_moved, 3);
	cr_assert_eq(f->latency_rose, 1);
	cr_assert_eq(f->windows_latency_rose, 2);
	cr_assert_str_eq(f->latency_metric, "exchange_p99_ns");
	cr_assert_eq(f->ev[0].n_when, 2);
	/* a finding without per-window counters has unknown correlation */
	sig->ifaces[0].qdisc_drops = 10;
	analyze();
	cr_assert_eq(find(&an, "stack.qdisc")->latency_rose, -1);
}

Test(findings, breakdown_always_sums_to_the_window)
{
	uint64_t seed = 42;

	for (int iter = 0; iter < 3000; iter++) {
		struct np_breakdown b;
		uint64_t dur = 1 + lcg(&seed) % (100 * S);

		np_signals_fini(sig);
		memset(sig, 0, sizeof(*sig));
		cr_assert_eq(np_signals_init_windows(sig, lcg(&seed) % S, dur), 0);
		sig->n_threads = 1 + lcg(&seed) % 20;
		for (size_t i = 0; i < sig->n_threads; i++) {
			struct np_sig_thread *t = &sig->threads[i];
			uint64_t w = lcg(&seed) % (dur + 1);

			memset(t, 0, sizeof(*t));
			t->tid = (uint32_t)i + 1;
			t->window_ns = w;
			t->have_sched = true;
			/* deliberately inconsistent numbers: estimates can disagree */
			t->on_cpu_ns = lcg(&seed) % (w + 1);
			t->runnable_ns = lcg(&seed) % (w + 1);
			t->off_cpu_ns = lcg(&seed) % (w + 1);
			t->have_syscalls = true;
			t->calls = lcg(&seed) % 3;
			t->ready_wait_ns = lcg(&seed) % (2 * w + 1);
			t->io_ns = lcg(&seed) % (w + 1);
			t->io_blocked_ns = lcg(&seed) % (t->io_ns + 1);
			t->io_blocked_outbound_ns = lcg(&seed) % (t->io_blocked_ns + 1);
			if (lcg(&seed) % 3 == 0) {
				t->have_cpu_split = true;
				t->kernel_net_ns = lcg(&seed) % (w + 1);
			}
			if (lcg(&seed) % 3 == 0) {
				t->have_offcpu_reasons = true;
				t->off_net_ns = lcg(&seed) % (w + 1);
				t->off_lock_ns = lcg(&seed) % (w + 1);
			}
		}
		if (lcg(&seed) % 2) {
			sig->have_exchanges = true;
			sig->exch_queued_ns = lcg(&seed) % (10 * dur + 1);
			sig->exch_tx_ns = lcg(&seed) % (10 * dur + 1);
			sig->exch_peer_ns = lcg(&seed) % (10 * dur + 1);
			sig->have_exch_qdisc = lcg(&seed) % 2;
			sig->exch_tx_qdisc_ns = lcg(&seed) % (sig->exch_tx_ns + 1);
		}
		np_breakdown_compute(sig, &b);
		cr_assert(b.known);
		cr_assert_eq(b.application_ns + b.stack_ns + b.nic_ns + b.peer_ns + b.idle_ns, dur,
			     "iteration %d: %llu + %llu + %llu + %llu + %llu != %llu", iter,
			     (unsigned long long)b.application_ns, (unsigned long long)b.stack_ns,
			     (unsigned long long)b.nic_ns, (unsigned long long)b.peer_ns,
			     (unsigned long long)b.idle_ns, (unsigned long long)dur);
		cr_assert_eq(b.window_ns, dur);
	}
}

Test(findings, breakdown_of_huge_values_does_not_overflow)
{
	struct np_breakdown b;

	cr_assert_eq(np_signals_init_windows(sig, 0, 86400 * S), 0);
	sig->n_threads = NP_SIG_MAX_THREADS;
	for (size_t i = 0; i < sig->n_threads; i++)
		sig->threads[i] = (struct np_sig_thread){.tid = (uint32_t)i + 1,
							 .window_ns = 86400 * S,
							 .have_sched = true,
							 .on_cpu_ns = 86400 * S,
							 .have_syscalls = true,
							 .calls = 1,
							 .ready_wait_ns = UINT64_MAX / 4,
							 .io_ns = UINT64_MAX / 4};
	np_breakdown_compute(sig, &b);
	cr_assert_eq(b.application_ns + b.stack_ns + b.nic_ns + b.peer_ns + b.idle_ns, 86400 * S);
}

Test(findings, every_cause_has_a_rule_and_a_layer)
{
	static const char *const causes[] = {"app.cpu",
					     "app.blocked",
					     "app.backpressure",
					     "app.imbalance",
					     "host.cpu_contention",
					     "host.cpu_quota",
					     "stack.listen_overflow",
					     "stack.socket_buffers",
					     "stack.retransmits",
					     "stack.qdisc",
					     "stack.softirq",
					     "stack.netfilter",
					     "stack.kernel_cpu",
					     "nic.rx_drops",
					     "nic.errors",
					     "peer.slow"};

	for (size_t c = 0; c < sizeof(causes) / sizeof(causes[0]); c++) {
		bool found = false;

		cr_assert_not_null(np_cause_layer(causes[c]));
		for (size_t i = 0; i < np_rules_count(); i++) {
			struct np_rule_row r;

			np_rule_row_get(i, &r);
			found |= !strcmp(r.cause, causes[c]);
		}
		cr_assert(found, "no rule for %s", causes[c]);
	}
	for (size_t i = 0; i < np_rules_count(); i++) {
		struct np_rule_row r;

		np_rule_row_get(i, &r);
		cr_assert_not_null(np_cause_layer(r.cause), "rule with unknown cause %s", r.cause);
		cr_assert(r.info > 0 || r.warn > 0 || r.crit > 0);
		if (r.warn > 0 && r.info > 0)
			cr_assert(r.info < r.warn);
		if (r.crit > 0 && r.warn > 0)
			cr_assert(r.warn < r.crit);
	}
}

/* README.md's rules table is this table: one line per row, same numbers. */
Test(findings, readme_rules_table_matches_the_code)
{
	char path[PATH_MAX];
	size_t len;
	char *readme;

	t_pathf(path, "%s/../../README.md", t_fixtures());
	readme = (char *)t_read_file(path, &len);
	for (size_t i = 0; i < np_rules_count(); i++) {
		struct np_rule_row r;
		char line[512], info[16] = "-", warn[16] = "-", crit[16] = "-";

		np_rule_row_get(i, &r);
		if (r.info > 0)
			snprintf(info, sizeof(info), "%g", r.info);
		if (r.warn > 0)
			snprintf(warn, sizeof(warn), "%g", r.warn);
		if (r.crit > 0)
			snprintf(crit, sizeof(crit), "%g", r.crit);
		snprintf(line, sizeof(line), "| `%s` | `%s` | %s | %s | %s | %s | %s |", r.cause,
			 r.metric, r.condition, r.unit, info, warn, crit);
		cr_assert(strstr(readme, line), "README.md lacks the rules table line:\n%s", line);
	}
	free(readme);
}

/* Host and namespace counters move for any process: another process's UDP
 * socket overflowing is not the service's fault. */
static void udp_overflow_elsewhere(struct np_signals *s)
{
	healthy(s);
	s->drops_rcvbuf = 48000; /* kfree_skb SOCKET_RCVBUFF: host-wide */
	s->have_udp_counters = true;
	s->udp_rcvbuf_errors = 48000;
	s->have_target_events = true; /* the stack source saw none on its sockets */
}

Test(findings, a_udp_overflow_elsewhere_is_info_and_not_the_verdict)
{
	const struct np_finding *f;

	udp_overflow_elsewhere(sig);
	analyze();
	cr_assert_null(an.verdict, "verdict %s: %s", an.verdict ? an.verdict->cause : "",
		       an.verdict ? an.verdict->summary : "");
	f = find(&an, "stack.socket_buffers");
	cr_assert_not_null(f);
	cr_assert_eq(f->severity, NP_SEV_INFO);
	cr_assert(f->score < 0.5);
	cr_assert_eq(f->owner, NP_OWNER_ELSEWHERE);
	cr_assert(strstr(f->summary, "elsewhere on this host"), "%s", f->summary);
	cr_assert(strstr(f->summary, "UdpRcvbufErrors rose by 48000"), "%s", f->summary);
	cr_assert_null(strstr(f->advice, "SO_RCVBUF"), "%s", f->advice);
	/* the number itself is still evidence */
	cr_assert_not_null(evidence(f, "socket_buffer_drops"));
	cr_assert_not_null(evidence(f, "UdpRcvbufErrors"));
	cr_assert_eq(f->confidence, NP_CONF_LOW, "%s", f->confidence_why);
	cr_assert_null(an.runner_up);
}

Test(findings, the_same_counters_with_the_services_own_socket_dropping_stay)
{
	const struct np_finding *f;

	/* its socket's own drop count (sock_diag skmem d) */
	udp_overflow_elsewhere(sig);
	sig->sock_drops_udp = 48000;
	snprintf(sig->udp_drops_where, sizeof(sig->udp_drops_where), "10.0.0.1:5353");
	expect_verdict("stack.socket_buffers");
	cr_assert_eq(an.verdict->severity, NP_SEV_CRITICAL);
	cr_assert_eq(an.verdict->owner, NP_OWNER_TARGET);
	cr_assert_null(strstr(an.verdict->summary, "elsewhere"), "%s", an.verdict->summary);
	/* or the stack source's drops on one of its sockets */
	sig->sock_drops_udp = 0;
	sig->target_buffer_drops = 12;
	expect_verdict("stack.socket_buffers");
	cr_assert_eq(an.verdict->severity, NP_SEV_CRITICAL);
	/* or a receive queue of its own at its limit */
	sig->target_buffer_drops = 0;
	sig->recvq_peak_bytes = 130000;
	sig->recvq_rcvbuf_bytes = 131072;
	analyze();
	f = find(&an, "stack.socket_buffers");
	cr_assert_not_null(f);
	cr_assert_eq(f->severity, NP_SEV_CRITICAL);
	cr_assert_eq(f->owner, NP_OWNER_TARGET);
	/* not measured: the old judgement, owner unknown */
	sig->recvq_peak_bytes = 1000;
	sig->have_sockets = false;
	sig->have_target_events = false;
	analyze();
	f = find(&an, "stack.socket_buffers");
	cr_assert_not_null(f);
	cr_assert_eq(f->severity, NP_SEV_CRITICAL);
	cr_assert_eq(f->owner, NP_OWNER_UNKNOWN);
}

static void target_on_cpu(struct np_signals *s, uint32_t cpu)
{
	s->have_target_cpus = true;
	s->target_cpus[cpu / 64] |= 1ull << (cpu % 64);
}

Test(findings, softnet_drops_count_only_on_the_services_cpus)
{
	const struct np_finding *f;

	healthy(sig);
	target_on_cpu(sig, 0);
	sig->cpus[1].softnet_dropped = 400; /* a CPU the service never ran on */
	analyze();
	cr_assert_null(an.verdict, "%s", an.verdict ? an.verdict->summary : "");
	f = find(&an, "stack.softirq");
	cr_assert_not_null(f);
	cr_assert_eq(f->severity, NP_SEV_INFO);
	cr_assert_eq(f->owner, NP_OWNER_ELSEWHERE);
	cr_assert(strstr(f->summary, "elsewhere on this host: softnet_stat dropped rose by 400"),
		  "%s", f->summary);
	/* the same drops on its CPU */
	sig->cpus[1].softnet_dropped = 0;
	sig->cpus[0].softnet_dropped = 400;
	expect_verdict("stack.softirq");
	cr_assert_eq(an.verdict->severity, NP_SEV_CRITICAL);
	cr_assert_eq(an.verdict->owner, NP_OWNER_TARGET);
	/* where it ran unknown: the old judgement */
	sig->have_target_cpus = false;
	sig->cpus[0].softnet_dropped = 0;
	sig->cpus[1].softnet_dropped = 400;
	expect_verdict("stack.softirq");
	cr_assert_eq(an.verdict->owner, NP_OWNER_UNKNOWN);
}

Test(findings, listen_overflows_of_another_listener_are_elsewhere)
{
	const struct np_finding *f;

	healthy(sig);
	sig->listen_overflows = 400;
	sig->listen_drops = 400;
	analyze();
	cr_assert_null(an.verdict, "%s", an.verdict ? an.verdict->summary : "");
	f = find(&an, "stack.listen_overflow");
	cr_assert_not_null(f);
	cr_assert_eq(f->owner, NP_OWNER_ELSEWHERE);
	cr_assert(strstr(f->summary, "TcpExtListenOverflows rose by 400"), "%s", f->summary);
	/* its own listener dropped them */
	sig->listen_sock_drops = 400;
	expect_verdict("stack.listen_overflow");
	cr_assert_eq(an.verdict->owner, NP_OWNER_TARGET);
}

Test(findings, netfilter_drops_without_loss_on_the_services_connections_are_elsewhere)
{
	const struct np_finding *f;

	healthy(sig);
	sig->drops_netfilter = 2000;
	sig->have_target_events = true;
	analyze();
	cr_assert_null(an.verdict, "%s", an.verdict ? an.verdict->summary : "");
	f = find(&an, "stack.netfilter");
	cr_assert_not_null(f);
	cr_assert_eq(f->owner, NP_OWNER_ELSEWHERE);
	cr_assert(strstr(f->summary, "kfree_skb NETFILTER_DROP rose by 2000"), "%s", f->summary);
	/* its connections retransmitted: the drops hit it */
	sig->target_retrans = 40;
	expect_verdict("stack.netfilter");
	cr_assert_eq(an.verdict->owner, NP_OWNER_TARGET);
}

/* The advice names the ss command for the socket's protocol: a UDP
 * socket's queue is not in ss -t's output. */
Test(findings, recv_q_advice_names_the_protocol)
{
	healthy(sig);
	sig->recvq_peak_bytes = 125000;
	sig->recvq_polls = 20;
	snprintf(sig->recvq_where, sizeof(sig->recvq_where), "10.0.0.1:5353 -> *:*");
	sig->recvq_udp = true;
	analyze();
	cr_assert(strstr(find(&an, "app.backpressure")->advice, "ss -uanpi"), "%s",
		  find(&an, "app.backpressure")->advice);
	cr_assert(strstr(find(&an, "app.backpressure")->advice, "datagrams"));

	healthy(sig);
	sig->recvq_peak_bytes = 125000;
	sig->recvq_polls = 20;
	snprintf(sig->recvq_where, sizeof(sig->recvq_where), "10.0.0.1:8080 -> 10.0.0.2:40000");
	sig->recvq_udp = false;
	analyze();
	cr_assert(strstr(find(&an, "app.backpressure")->advice, "ss -tanpi"), "%s",
		  find(&an, "app.backpressure")->advice);
}

Test(findings, spurious_retransmissions_are_not_loss)
{
	healthy(sig);
	sig->out_segs = 20000;
	sig->retrans_segs = 800;
	sig->sock_retrans = 800;
	expect_verdict("stack.retransmits");
	/* the peers had every one of them (DSACK): late ACKs, not loss */
	sig->dsack_segs = 800;
	sig->spurious_share = 1.0;
	analyze();
	const struct np_finding *r = find(&an, "stack.retransmits");

	cr_assert(!r || r->severity <= NP_SEV_INFO, "%s", r ? r->summary : "");
	/* half of them spurious: the rest is still loss, and said so */
	sig->dsack_segs = 400;
	sig->spurious_share = 0.5;
	expect_verdict("stack.retransmits");
	cr_assert(strstr(an.verdict->summary, "spurious"), "%s", an.verdict->summary);
}

/* One thread busy nearly all the time with requests queued behind it is
 * at capacity, with what bounds it, even when their latency is low; the
 * same thread with nothing queued is not. */
Test(findings, capacity_names_what_bounds_throughput)
{
	const struct np_capacity *c = &an.capacity;

	healthy(sig);
	sig->n_threads = 1;
	sig->threads[0].on_cpu_ns = 9 * S;
	sig->threads[0].runnable_ns = 500 * MS;
	sig->threads[0].off_cpu_ns = 500 * MS;
	sig->threads[0].have_cpu_split = true;
	sig->threads[0].user_ns = 2 * S;
	sig->threads[0].kernel_net_ns = 6 * S;
	sig->threads[0].kernel_other_ns = 1 * S;
	sig->exch_p99_ns = 300000;   /* low latency */
	sig->exch_queued_ns = 9 * S; /* of 30 s */
	analyze();
	cr_assert(c->at_capacity);
	cr_assert_eq(c->tid, sig->threads[0].tid);
	cr_assert_float_eq(c->busy_share, 0.95, 1e-9);
	cr_assert_float_eq(c->queued_share, 0.3, 1e-9);
	cr_assert_str_eq(c->bound_by, "kernel network work");
	cr_assert_float_eq(c->kernel_net_share, 6.0 / 9.0, 1e-9);
	/* 100,000 requests in 10 s, one thread 95% busy */
	cr_assert_float_eq(c->requests_per_s, 10000, 1e-6);
	cr_assert_float_eq(c->bound_per_s, 10000 / 0.95, 1e-6);

	sig->threads[0].user_ns = 7 * S;
	sig->threads[0].kernel_net_ns = 1 * S;
	analyze();
	cr_assert_str_eq(c->bound_by, "application code");

	sig->exch_queued_ns = 1 * S; /* 3%: nothing waits behind it */
	analyze();
	cr_assert_not(c->at_capacity);
	sig->exch_queued_ns = 9 * S;
	sig->threads[0].on_cpu_ns = 7 * S; /* 75% busy */
	sig->threads[0].off_cpu_ns = 2500 * MS;
	analyze();
	cr_assert_not(c->at_capacity);
}

/* The analysis gives each finding its counter-evidence: a UDP overflow of
 * another process says the target's own signals did not move. */
Test(findings, analysis_sets_counter_evidence)
{
	const struct np_finding *f;

	udp_overflow_elsewhere(sig);
	analyze();
	f = find(&an, "stack.socket_buffers");
	cr_assert_not_null(f);
	cr_assert(strstr(f->counter, "none of the target's own signals"), "%s", f->counter);
}
