/* test_tlslib.c - the libssl a process maps, from /proc/PID/maps text. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "profiler/sources/tlslib.h"

/* nginx's maps on Debian 12 (cut): libssl3.so would be NSS, libssl.so.3 is
 * OpenSSL's. */
static const char nginx_maps[] =
	"55d068a33000-55d068a56000 r--p 00000000 fe:00 1048609                    "
	"/usr/sbin/nginx\n"
	"7f1a2b400000-7f1a2b420000 r--p 00000000 fe:00 1051000                    "
	"/usr/lib/x86_64-linux-gnu/libnss3.so\n"
	"7f1a2b500000-7f1a2b510000 r--p 00000000 fe:00 1051001                    "
	"/usr/lib/x86_64-linux-gnu/libssl3.so\n"
	"7f1a2b600000-7f1a2b620000 r--p 00000000 fe:00 1051002                    "
	"/usr/lib/x86_64-linux-gnu/libssl.so.3\n"
	"7f1a2b620000-7f1a2b680000 r-xp 00020000 fe:00 1051002                    "
	"/usr/lib/x86_64-linux-gnu/libssl.so.3\n"
	"7ffd3b1e0000-7ffd3b201000 rw-p 00000000 00:00 0                          [stack]\n";

Test(tlslib, finds_openssls_libssl_not_nss)
{
	char path[256];

	cr_assert_eq(np_tls_find_libssl(nginx_maps, strlen(nginx_maps), path, sizeof(path)), 0);
	cr_assert_str_eq(path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
}

Test(tlslib, takes_an_unversioned_name_and_an_old_version)
{
	static const char a[] = "7f00-7f10 r-xp 00000000 08:01 42 /opt/x/lib/libssl.so\n";
	static const char b[] = "7f00-7f10 r-xp 00000000 08:01 42 /usr/lib/libssl.so.1.1";
	char path[64];

	cr_assert_eq(np_tls_find_libssl(a, strlen(a), path, sizeof(path)), 0);
	cr_assert_str_eq(path, "/opt/x/lib/libssl.so");
	cr_assert_eq(np_tls_find_libssl(b, strlen(b), path, sizeof(path)), 0, "no final newline");
	cr_assert_str_eq(path, "/usr/lib/libssl.so.1.1");
}

Test(tlslib, none_without_libssl_or_with_a_lookalike)
{
	static const char m[] = "7f00-7f10 r-xp 00000000 08:01 42 /usr/lib/libssl.sox\n"
				"7f10-7f20 r-xp 00000000 08:01 43 /usr/lib/mylibssl.so.3\n"
				"7f20-7f30 r-xp 00000000 08:01 44 libssl.so.3\n"
				"garbage line libssl.so.3\n";
	char path[64];

	cr_assert_eq(np_tls_find_libssl(m, strlen(m), path, sizeof(path)), -ENOENT);
	cr_assert_eq(np_tls_find_libssl("", 0, path, sizeof(path)), -ENOENT);
}

Test(tlslib, refuses_a_path_that_does_not_fit)
{
	char path[16];

	cr_assert_eq(np_tls_find_libssl(nginx_maps, strlen(nginx_maps), path, sizeof(path)),
		     -ENAMETOOLONG);
}
