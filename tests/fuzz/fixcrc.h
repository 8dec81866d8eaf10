/* fixcrc.h - recompute every block's CRC of a recording in place.
 *
 * A mutated block almost never has a matching CRC, and the fuzzer would
 * otherwise never get past the checksum into the record handling: the
 * targets that read recordings parse each input as it is and again with
 * its CRCs fixed up. */
#ifndef NP_FUZZ_FIXCRC_H
#define NP_FUZZ_FIXCRC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "profiler/format/recording.h"

static inline void np_fuzz_fix_crcs(uint8_t *p, size_t size)
{
	struct np_file_header fh;
	size_t off;

	if (size < sizeof(fh))
		return;
	memcpy(&fh, p, sizeof(fh));
	off = fh.header_bytes;
	while (off <= size && size - off >= sizeof(struct np_block_header)) {
		struct np_block_header bh;
		uLong crc;

		memcpy(&bh, p + off, sizeof(bh));
		if (bh.magic != NP_BLOCK_MAGIC || bh.payload_bytes > size - off - sizeof(bh))
			return;
		bh.crc32 = 0;
		crc = crc32(0L, (const Bytef *)&bh, sizeof(bh));
		crc = crc32(crc, p + off + sizeof(bh), bh.payload_bytes);
		bh.crc32 = (uint32_t)crc;
		memcpy(p + off, &bh, sizeof(bh));
		off += sizeof(bh) + bh.payload_bytes;
	}
}

#endif
