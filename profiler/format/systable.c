/* systable.c - names, kinds and this architecture's numbers of the traced
 * syscalls, all expanded from NP_SYSCALLS in bpf/netprof.h. */
#include <stddef.h>
#include <sys/syscall.h>

#include "profiler/format/systable.h"

#define NAME_OF(name, when, kind) #name,
static const char *const sys_names[NP_SYS_COUNT] = {NP_SYSCALLS(NAME_OF)};
#define KIND_OF(name, when, kind) kind,
static const int sys_kinds[NP_SYS_COUNT] = {NP_SYSCALLS(KIND_OF)};

/* Some architectures lack the old calls (aarch64 has no poll, select,
 * epoll_wait, accept, ...): those map to -1 and are simply not traced. */
#define NR_OF(name, when, kind) [NP_SYS_##name] = NR_##name,
#ifdef SYS_socket
#define NR_socket SYS_socket
#else
#define NR_socket -1
#endif
#ifdef SYS_connect
#define NR_connect SYS_connect
#else
#define NR_connect -1
#endif
#ifdef SYS_accept
#define NR_accept SYS_accept
#else
#define NR_accept -1
#endif
#ifdef SYS_accept4
#define NR_accept4 SYS_accept4
#else
#define NR_accept4 -1
#endif
#ifdef SYS_bind
#define NR_bind SYS_bind
#else
#define NR_bind -1
#endif
#ifdef SYS_listen
#define NR_listen SYS_listen
#else
#define NR_listen -1
#endif
#ifdef SYS_shutdown
#define NR_shutdown SYS_shutdown
#else
#define NR_shutdown -1
#endif
#ifdef SYS_close
#define NR_close SYS_close
#else
#define NR_close -1
#endif
#ifdef SYS_sendto
#define NR_sendto SYS_sendto
#else
#define NR_sendto -1
#endif
#ifdef SYS_recvfrom
#define NR_recvfrom SYS_recvfrom
#else
#define NR_recvfrom -1
#endif
#ifdef SYS_sendmsg
#define NR_sendmsg SYS_sendmsg
#else
#define NR_sendmsg -1
#endif
#ifdef SYS_recvmsg
#define NR_recvmsg SYS_recvmsg
#else
#define NR_recvmsg -1
#endif
#ifdef SYS_sendmmsg
#define NR_sendmmsg SYS_sendmmsg
#else
#define NR_sendmmsg -1
#endif
#ifdef SYS_recvmmsg
#define NR_recvmmsg SYS_recvmmsg
#else
#define NR_recvmmsg -1
#endif
#ifdef SYS_sendfile
#define NR_sendfile SYS_sendfile
#else
#define NR_sendfile -1
#endif
#ifdef SYS_splice
#define NR_splice SYS_splice
#else
#define NR_splice -1
#endif
#ifdef SYS_read
#define NR_read SYS_read
#else
#define NR_read -1
#endif
#ifdef SYS_write
#define NR_write SYS_write
#else
#define NR_write -1
#endif
#ifdef SYS_readv
#define NR_readv SYS_readv
#else
#define NR_readv -1
#endif
#ifdef SYS_writev
#define NR_writev SYS_writev
#else
#define NR_writev -1
#endif
#ifdef SYS_poll
#define NR_poll SYS_poll
#else
#define NR_poll -1
#endif
#ifdef SYS_ppoll
#define NR_ppoll SYS_ppoll
#else
#define NR_ppoll -1
#endif
#ifdef SYS_select
#define NR_select SYS_select
#else
#define NR_select -1
#endif
#ifdef SYS_pselect6
#define NR_pselect6 SYS_pselect6
#else
#define NR_pselect6 -1
#endif
#ifdef SYS_epoll_wait
#define NR_epoll_wait SYS_epoll_wait
#else
#define NR_epoll_wait -1
#endif
#ifdef SYS_epoll_pwait
#define NR_epoll_pwait SYS_epoll_pwait
#else
#define NR_epoll_pwait -1
#endif
#ifdef SYS_epoll_pwait2
#define NR_epoll_pwait2 SYS_epoll_pwait2
#else
#define NR_epoll_pwait2 441 /* glibc 2.36 headers may predate it; same on all arches */
#endif
#ifdef SYS_epoll_ctl
#define NR_epoll_ctl SYS_epoll_ctl
#else
#define NR_epoll_ctl -1
#endif
static const int sys_nrs[NP_SYS_COUNT] = {NP_SYSCALLS(NR_OF)};

const char *np_sys_name(unsigned int sys)
{
	return sys < NP_SYS_COUNT ? sys_names[sys] : NULL;
}

int np_sys_kind(unsigned int sys)
{
	return sys < NP_SYS_COUNT ? sys_kinds[sys] : 0;
}

int np_sys_nr(unsigned int sys)
{
	return sys < NP_SYS_COUNT ? sys_nrs[sys] : -1;
}
