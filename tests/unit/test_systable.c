/* test_systable.c - names, kinds and numbers expanded from NP_SYSCALLS. */
#include <criterion/criterion.h>
#include <string.h>

#include "profiler/format/systable.h"

Test(systable, every_syscall_has_a_unique_name)
{
	for (unsigned int i = 0; i < NP_SYS_COUNT; i++) {
		const char *name = np_sys_name(i);

		cr_assert_not_null(name, "np_sys %u has no name", i);
		cr_assert_gt(strlen(name), 0);
		for (unsigned int j = 0; j < i; j++)
			cr_assert_str_neq(name, np_sys_name(j), "%u and %u are both %s", i, j,
					  name);
	}
}

Test(systable, names_match_the_enum)
{
	cr_assert_str_eq(np_sys_name(NP_SYS_socket), "socket");
	cr_assert_str_eq(np_sys_name(NP_SYS_accept4), "accept4");
	cr_assert_str_eq(np_sys_name(NP_SYS_read), "read");
	cr_assert_str_eq(np_sys_name(NP_SYS_epoll_wait), "epoll_wait");
	cr_assert_str_eq(np_sys_name(NP_SYS_epoll_ctl), "epoll_ctl");
}

Test(systable, every_syscall_has_a_valid_kind)
{
	for (unsigned int i = 0; i < NP_SYS_COUNT; i++) {
		int kind = np_sys_kind(i);

		cr_assert(kind >= NP_KIND_CONN && kind <= NP_KIND_MMSG, "%s has kind %d",
			  np_sys_name(i), kind);
	}
	cr_assert_eq(np_sys_kind(NP_SYS_epoll_wait), NP_KIND_WAIT);
	cr_assert_eq(np_sys_kind(NP_SYS_poll), NP_KIND_WAIT);
	cr_assert_eq(np_sys_kind(NP_SYS_read), NP_KIND_RECV);
	cr_assert_eq(np_sys_kind(NP_SYS_sendmsg), NP_KIND_SEND);
	cr_assert_eq(np_sys_kind(NP_SYS_accept4), NP_KIND_CONN);
	cr_assert_eq(np_sys_kind(NP_SYS_epoll_ctl), NP_KIND_CTL);
	cr_assert_eq(np_sys_kind(NP_SYS_recvmmsg), NP_KIND_MMSG);
}

Test(systable, numbers_are_unique_where_defined)
{
	for (unsigned int i = 0; i < NP_SYS_COUNT; i++) {
		int nr = np_sys_nr(i);

		cr_assert(nr >= -1 && nr < NP_MAX_SYSCALL_NR, "%s has number %d", np_sys_name(i),
			  nr);
		for (unsigned int j = 0; nr >= 0 && j < i; j++)
			cr_assert_neq(nr, np_sys_nr(j), "%s and %s share %d", np_sys_name(i),
				      np_sys_name(j), nr);
	}
}

#if defined(__x86_64__)
Test(systable, x86_64_numbers)
{
	cr_assert_eq(np_sys_nr(NP_SYS_read), 0);
	cr_assert_eq(np_sys_nr(NP_SYS_write), 1);
	cr_assert_eq(np_sys_nr(NP_SYS_close), 3);
	cr_assert_eq(np_sys_nr(NP_SYS_poll), 7);
	cr_assert_eq(np_sys_nr(NP_SYS_socket), 41);
	cr_assert_eq(np_sys_nr(NP_SYS_connect), 42);
	cr_assert_eq(np_sys_nr(NP_SYS_accept), 43);
	cr_assert_eq(np_sys_nr(NP_SYS_epoll_wait), 232);
	cr_assert_eq(np_sys_nr(NP_SYS_epoll_ctl), 233);
	cr_assert_eq(np_sys_nr(NP_SYS_accept4), 288);
	cr_assert_eq(np_sys_nr(NP_SYS_epoll_pwait), 281);
	cr_assert_eq(np_sys_nr(NP_SYS_epoll_pwait2), 441);
	/* every traced call exists on x86_64 */
	for (unsigned int i = 0; i < NP_SYS_COUNT; i++)
		cr_assert_geq(np_sys_nr(i), 0, "%s has no number", np_sys_name(i));
}
#endif

Test(systable, out_of_range_is_null_or_minus_one)
{
	cr_assert_null(np_sys_name(NP_SYS_COUNT));
	cr_assert_null(np_sys_name(0xffff));
	cr_assert_null(np_sys_name((unsigned int)-1));
	cr_assert_eq(np_sys_nr(NP_SYS_COUNT), -1);
	cr_assert_eq(np_sys_nr((unsigned int)-1), -1);
	cr_assert_eq(np_sys_kind(NP_SYS_COUNT), 0);
	cr_assert_eq(np_sys_kind((unsigned int)-1), 0);
}
