/* hex.h - the value of one hexadecimal digit: what every parser of kernel
 * text (kallsyms, /proc/PID/maps, /proc/net/tcp, /proc/net/dev_mcast ...)
 * and the recording's escaped metadata need, once. */
#ifndef NP_HEX_H
#define NP_HEX_H

/* 0..15 for [0-9a-fA-F], -1 for any other character. */
static inline int np_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif /* NP_HEX_H */
