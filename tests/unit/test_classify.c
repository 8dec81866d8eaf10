/* test_classify.c - frame classes on real kernel stacks
 * (tests/fixtures/stacks, captured on the development VM; see their
 * headers) and on the judgement calls the rules make. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "profiler/cpu/classify.h"
#include "testutil.h"
#include "profiler/format/timeline.h"

static const char *label(uint8_t cls, uint8_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", np_class_name(cls), flags & NP_FR_SOFTIRQ ? "+softirq" : "");
	return buf;
}

static FILE *fixture(const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	t_pathf(path, "%s/stacks/%s", t_fixtures(), name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	return f;
}

Test(classify, every_captured_kernel_function)
{
	FILE *f = fixture("kernel-functions.txt");
	char line[512], want[64], fn[400], got[64];
	int n = 0;

	while (fgets(line, sizeof(line), f)) {
		uint8_t flags = 0, cls;

		if (line[0] == '#' || sscanf(line, "%63s %399s", want, fn) != 2)
			continue;
		cls = np_classify_kernel(fn, "", &flags);
		cr_expect_str_eq(label(cls, flags, got, sizeof(got)), want, "%s", fn);
		n++;
	}
	fclose(f);
	cr_assert_gt(n, 200);
}

Test(classify, captured_stacks_leaf_class_and_softirq)
{
	FILE *f = fixture("kernel-stacks.txt");
	char line[8192], want[64], stack[8000];
	int softirq_want, n = 0, with_softirq = 0, net = 0;

	while (fgets(line, sizeof(line), f)) {
		uint8_t flags = 0, leaf = 0;
		char *save = NULL;

		if (line[0] == '#' ||
		    sscanf(line, "%63s %d %7999s", want, &softirq_want, stack) != 3)
			continue;
		for (char *fn = strtok_r(stack, ";", &save); fn; fn = strtok_r(NULL, ";", &save))
			leaf = np_classify_kernel(fn, "", &flags);
		cr_expect_str_eq(np_class_name(leaf), want, "%s", line);
		cr_expect_eq(!!(flags & NP_FR_SOFTIRQ), softirq_want, "%s", line);
		with_softirq += softirq_want;
		net += !strcmp(want, "kernel-net");
		n++;
	}
	fclose(f);
	cr_assert_gt(n, 200);
	cr_assert_gt(with_softirq, 10);
	cr_assert_gt(net, 10);
}

Test(classify, network_stack_functions)
{
	static const char *const net[] = {
		"tcp_sendmsg",
		"__tcp_transmit_skb",
		"tcp_v4_rcv",
		"ip_finish_output2",
		"__ip_queue_xmit",
		"ipv6_rcv",
		"udp_sendmsg",
		"__udp4_lib_rcv",
		"sock_recvmsg",
		"skb_copy_datagram_iter",
		"__kfree_skb",
		"napi_gro_receive",
		"__napi_poll",
		"net_rx_action",
		"__netif_receive_skb_core",
		"nf_hook_slow",
		"nft_do_chain",
		"__dev_queue_xmit",
		"sch_direct_xmit",
		"pfifo_fast_dequeue",
		"__qdisc_run",
		"__x64_sys_sendto",
		"__x64_sys_accept4",
		"__sys_connect",
		"inet_csk_accept",
		"release_sock",
		"lock_sock_nested",
		"unix_stream_sendmsg",
		"loopback_xmit",
		"bbr_main",
	};
	for (size_t i = 0; i < sizeof(net) / sizeof(net[0]); i++) {
		uint8_t flags = 0;

		cr_expect_eq(np_classify_kernel(net[i], "", &flags), NP_CLS_KNET, "%s", net[i]);
		cr_expect_eq(flags, 0, "%s", net[i]);
	}
}

Test(classify, other_kernel_functions_stay_kernel)
{
	/* names that share a prefix with network code but are not */
	static const char *const other[] = {
		"raw_spin_lock",
		"_raw_spin_lock_irqsave",
		"__x64_sys_futex",
		"__x64_sys_read",
		"__x64_sys_epoll_wait",
		"do_epoll_wait",
		"ep_poll",
		"schedule",
		"ext4_file_write_iter",
		"copy_page",
		"__alloc_pages",
		"ipc_lock",
		"iput",
		"skip_spaces",
		"",
		NULL,
	};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		uint8_t flags = 0;

		cr_expect_eq(np_classify_kernel(other[i], "", &flags), NP_CLS_KERNEL, "%s",
			     other[i] ? other[i] : "(null)");
	}
}

Test(classify, network_modules_make_network_frames)
{
	uint8_t flags = 0;

	cr_expect_eq(np_classify_kernel("hash_conntrack_raw", "nf_conntrack", &flags), NP_CLS_KNET);
	cr_expect_eq(np_classify_kernel("virtnet_poll", "virtio_net", &flags), NP_CLS_KNET);
	cr_expect_eq(np_classify_kernel("mlx5e_napi_poll", "mlx5_core", &flags), NP_CLS_KNET);
	cr_expect_eq(np_classify_kernel("ext4_map_blocks", "ext4", &flags), NP_CLS_KERNEL);
	cr_expect_eq(np_classify_kernel("kvm_vcpu_ioctl", "kvm", &flags), NP_CLS_KERNEL);
}

Test(classify, softirq_entry_points_with_clone_suffixes)
{
	static const char *const entries[] = {"__do_softirq", "handle_softirqs",
					      "do_softirq.part.0", "run_ksoftirqd"};
	uint8_t flags;

	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		flags = 0;
		np_classify_kernel(entries[i], "", &flags);
		cr_expect(flags & NP_FR_SOFTIRQ, "%s", entries[i]);
	}
	flags = 0;
	np_classify_kernel("do_softirq_own_stack_x", "", &flags);
	cr_expect_eq(flags, 0);
	flags = 0;
	np_classify_kernel("__irq_exit_rcu", "", &flags);
	cr_expect_eq(flags, 0);
}

Test(classify, user_modules)
{
	cr_expect_eq(np_classify_user(NP_MOD_MAIN), NP_CLS_APP);
	cr_expect_eq(np_classify_user(NP_MOD_MAIN | NP_MOD_DELETED), NP_CLS_APP);
	cr_expect_eq(np_classify_user(NP_MOD_ANON), NP_CLS_APP);
	cr_expect_eq(np_classify_user(0), NP_CLS_LIB);
	cr_expect_eq(np_classify_user(NP_MOD_VDSO), NP_CLS_LIB);
	cr_expect_str_eq(np_class_name(NP_CLS_KNET), "kernel-net");
	cr_expect_str_eq(np_class_name(99), "?");
}
