/* test_listenports.c - listening ports from /proc/net/tcp{,6} text. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "profiler/sources/listenports.h"

static const char tcp4[] = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
			   "retrnsmt   uid  "
			   "timeout inode\n"
			   "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 "
			   "00000000     0        0 "
			   "1001 1 0000000000000000 100 0 0 10 0\n"
			   "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 "
			   "00000000     0        0 "
			   "2002 1 0000000000000000 100 0 0 10 0\n"
			   "   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 "
			   "00000000     0        0 "
			   "1003 1 0000000000000000 20 4 30 10 -1\n"
			   "   3: 0100007F:0050 00000000:0000 0a 00000000:00000000 00:00000000 "
			   "00000000     0        0 "
			   "1004 1 0000000000000000 100 0 0 10 0\n";

static const char tcp6[] =
	"  sl  local_address                         remote_address                        st "
	"tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A "
	"00000000:00000000 00:00000000 00000000     0        0 1005 1 0000000000000000 100 0 0 10 "
	"0\n"
	"   1: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A "
	"00000000:00000000 00:00000000 00000000     0        0 1006 1 0000000000000000 100 0 0 10 "
	"0\n";

static const uint64_t inodes[] = {1001, 1003, 1004, 1005, 1006};

Test(listenports, listening_entries_of_our_inodes)
{
	uint16_t ports[8];
	size_t n = 0;

	cr_assert_eq(np_listen_ports_parse(tcp4, strlen(tcp4), inodes, 5, ports, 8, &n), 0);
	/* 8080 (ours), not 22 (another process), not the established one, 80 (lower-case st) */
	cr_assert_eq(n, 2);
	cr_assert_eq(ports[0], 8080);
	cr_assert_eq(ports[1], 80);
	cr_assert_eq(np_listen_ports_parse(tcp6, strlen(tcp6), inodes, 5, ports, 8, &n), 0);
	/* 8080 again is not repeated; 443 is added */
	cr_assert_eq(n, 3);
	cr_assert_eq(ports[2], 443);
}

Test(listenports, respects_the_room_given)
{
	uint16_t ports[1];
	size_t n = 0;

	cr_assert_eq(np_listen_ports_parse(tcp4, strlen(tcp4), inodes, 5, ports, 1, &n), 0);
	cr_assert_eq(n, 1);
}

Test(listenports, malformed_text)
{
	static const char *const bad[] = {
		"header only\n",
		"header\n   0: 0100007F:1F90 00000000:0000 0A\n",                /* short line */
		"header\n   0: 0100007F:1F9 00000000:0000 0A 0 0 0 0 0 1001\n",  /* 3-digit port */
		"header\n   0: 0100007F:1FZ0 00000000:0000 0A 0 0 0 0 0 1001\n", /* bad hex */
		"header\n   0: 0100007F 00000000:0000 0A 0 0 0 0 0 1001\n",      /* no colon */
		"header\n   0: 0100007F:0000 00000000:0000 0A 0 0 0 0 0 1001\n", /* port 0 */
		"header\n   0: 0100007F:1F90 00000000:0000 0A 0 0 0 0 0 10x1\n", /* bad inode */
		"header\n   0: 0100007F:1F90 00000000:0000 0A 0 0 0 0 0 99999999999999999999\n",
	};
	uint16_t ports[4];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = 0;

		cr_assert_eq(np_listen_ports_parse(bad[i], strlen(bad[i]), inodes, 5, ports, 4, &n),
			     0);
		cr_assert_eq(n, 0, "%zu", i);
	}
	{
		size_t n = 0;

		cr_assert_eq(np_listen_ports_parse("no newline", 10, inodes, 5, ports, 4, &n),
			     -EINVAL);
		cr_assert_eq(np_listen_ports_parse("", 0, inodes, 5, ports, 4, &n), -EINVAL);
	}
}

Test(listenports, reads_a_live_process)
{
	uint16_t ports[8];
	size_t n = 0;
	int rc = np_listen_ports_read("", getpid(), ports, 8, &n);

	/* the test process listens on nothing */
	cr_assert_eq(rc, 0);
	cr_assert_eq(n, 0);
	cr_assert_lt(np_listen_ports_read("", 0x3ffffff, ports, 8, &n), 0);
}
