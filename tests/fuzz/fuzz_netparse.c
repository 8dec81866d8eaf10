/* fuzz_netparse.c - libFuzzer target: every parser in netparse.c on the
 * same input - as text (NUL-terminated copy) for the /proc formats, and as
 * a netlink message for the sock_diag decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/net/netparse.h"

static void on_snmp(const char *group, const char *name, int64_t value, void *arg)
{
	(void)value;
	if (strlen(group) >= 32 || strlen(name) >= 64)
		abort();
	(*(int *)arg)++;
}

static void on_irq(const char *irq, const uint64_t *counts, size_t ncols, const char *desc,
		   void *arg)
{
	uint64_t sum = 0;

	if (strlen(irq) >= 16 || strlen(desc) >= 128 || ncols > 64)
		abort();
	for (size_t i = 0; i < ncols; i++)
		sum += counts[i];
	*(uint64_t *)arg += sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	struct np_softnet_row rows[64];
	struct np_cpu_ticks ticks[64];
	uint32_t ids[64];
	uint64_t rx[64], tx[64], v, irqsum = 0;
	struct np_sockdiag_obs o;
	int n = 0;
	void *msg;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	np_parse_softnet(buf, rows, 64);
	np_parse_softirqs(buf, ids, rx, tx, 64);
	np_parse_proc_stat(buf, ticks, 64);
	np_parse_snmp(buf, on_snmp, &n);
	np_parse_interrupts(buf, ids, 64, on_irq, &irqsum);
	np_cpumask_count(buf);
	np_cpulist_count(buf);
	np_parse_socket_link(buf, &v);
	np_parse_u64_text(buf, &v);
	free(buf);
	/* exactly size bytes, so ASan sees any read past the message */
	msg = malloc(size ? size : 1);
	if (msg) {
		memcpy(msg, data, size);
		if (np_sockdiag_decode(msg, size, 20, &o) == 0 && strnlen(o.cong, 16) >= 16)
			abort();
		np_sockdiag_decode(msg, size, 18, &o);
		free(msg);
	}
	return 0;
}
