/* maps.bpf.h - map helpers the BPF programs share, once (as libbpf-tools'
 * maps.bpf.h): counting into a per-CPU array of counters (drop reasons,
 * lost events), where a plain increment is safe because no other CPU
 * writes the slot. */
#ifndef NP_MAPS_BPF_H
#define NP_MAPS_BPF_H

/* Adds one to the __u64 at key of a per-CPU array map; a key out of range
 * is ignored. */
static __always_inline void np_percpu_inc(void *map, __u32 key)
{
	__u64 *n = bpf_map_lookup_elem(map, &key);

	if (n)
		(*n)++;
}

#endif /* NP_MAPS_BPF_H */
