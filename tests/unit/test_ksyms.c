/* test_ksyms.c - /proc/kallsyms parsing and address naming. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "profiler/base/ksyms.h"

static const char kallsyms[] =
	"ffffffff81000000 T _stext\n"
	"ffffffff81001000 t tcp_v4_rcv\n"
	"ffffffff81002000 D some_data\n"
	"ffffffff81003000 W weak_fn\n"
	"ffffffffc0a01000 t nft_do_chain\t[nf_tables]\n"
	"ffffffffc0a02000 t nft_other\t[nf_tables]\n"
	"ffffffffc0b00000 t vx_rcv\t[vxlan]\n"
	"ffffffff81004000 T sk_stream_kill_queues\n"
	"garbage line\n"
	"ffffffffzz000000 T bad_hex\n"
	"0000000000000000 T hidden\n"
	"ffffffff81005000 T\n"
	"ffffffff81006000 T name\x01with_control\n";

static struct np_ksyms *load(void)
{
	struct np_ksyms *ks = NULL;

	cr_assert_eq(np_ksyms_parse(kallsyms, strlen(kallsyms), &ks), 0);
	return ks;
}

Test(ksyms, keeps_text_symbols_only)
{
	struct np_ksyms *ks = load();

	/* _stext, tcp_v4_rcv, weak_fn, two nf_tables, vx_rcv, sk_stream_kill_queues */
	cr_assert_eq(np_ksyms_count(ks), 7);
	np_ksyms_free(ks);
}

Test(ksyms, names_addresses_with_offsets_and_modules)
{
	struct np_ksyms *ks = load();
	char out[96];

	cr_assert_str_eq(np_ksyms_name(ks, 0xffffffff810011a2ull, out, sizeof(out)),
			 "tcp_v4_rcv+0x1a2");
	cr_assert_str_eq(np_ksyms_name(ks, 0xffffffff81001000ull, out, sizeof(out)),
			 "tcp_v4_rcv+0x0");
	/* data symbols are not kept: the preceding text symbol is used */
	cr_assert_str_eq(np_ksyms_name(ks, 0xffffffff81002010ull, out, sizeof(out)),
			 "tcp_v4_rcv+0x1010");
	cr_assert_str_eq(np_ksyms_name(ks, 0xffffffffc0a0146full, out, sizeof(out)),
			 "nft_do_chain+0x46f [nf_tables]");
	cr_assert_str_eq(np_ksyms_name(ks, 0xffffffffc0b00010ull, out, sizeof(out)),
			 "vx_rcv+0x10 [vxlan]");
	np_ksyms_free(ks);
}

Test(ksyms, unknown_addresses_give_empty_names)
{
	struct np_ksyms *ks = load();
	char out[64] = "x";

	cr_assert_str_eq(np_ksyms_name(ks, 0x1000, out, sizeof(out)), "");
	cr_assert_str_eq(np_ksyms_name(ks, 0, out, sizeof(out)), "");
	/* more than a megabyte past the last symbol */
	cr_assert_str_eq(np_ksyms_name(ks, 0xffffffffc0d00000ull, out, sizeof(out)), "");
	cr_assert_str_eq(np_ksyms_name(NULL, 0xffffffff81001000ull, out, sizeof(out)), "");
	np_ksyms_free(ks);
}

Test(ksyms, output_is_cut_to_the_buffer)
{
	struct np_ksyms *ks = load();
	char out[8];

	np_ksyms_name(ks, 0xffffffff810011a2ull, out, sizeof(out));
	cr_assert_eq(strlen(out), 7);
	np_ksyms_free(ks);
}

Test(ksyms, hidden_addresses_give_an_empty_table)
{
	const char *hidden = "0000000000000000 T _stext\n0000000000000000 t tcp_v4_rcv\n";
	struct np_ksyms *ks = NULL;
	char out[32];

	cr_assert_eq(np_ksyms_parse(hidden, strlen(hidden), &ks), 0);
	cr_assert_eq(np_ksyms_count(ks), 0);
	cr_assert_str_eq(np_ksyms_name(ks, 0xffffffff81001000ull, out, sizeof(out)), "");
	np_ksyms_free(ks);
	np_ksyms_free(NULL);
}

Test(ksyms, loads_the_live_file_when_readable)
{
	struct np_ksyms *ks = NULL;
	int rc = np_ksyms_load("/proc/kallsyms", &ks);

	cr_assert(rc == 0 || rc == -EACCES || rc == -ENOENT, "rc %d", rc);
	np_ksyms_free(ks);
	cr_assert_eq(np_ksyms_load("/nonexistent/kallsyms", &ks), -ENOENT);
}
