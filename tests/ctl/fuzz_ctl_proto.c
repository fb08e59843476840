/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target of the control-socket decoder (control/ctl_proto.c).
 * Proves, for any bytes: decoding reads nothing out of bounds (ASan),
 * does nothing undefined (UBSan), returns a frame length or one of the
 * -CTL_E* errors, and a decoded frame re-encodes to the very same bytes
 * (the encoding is canonical: a node and a client agree on what a frame
 * means). The input is read as a stream, as the node reads a connection:
 * frame after frame until one fails.
 *
 * Seed corpus: tests/ctl/corpus/ (tests/ctl/gen_corpus.c writes it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[CTL_FRAME_MAX];
	struct ctl_msg m;

	while (size > 0) {
		int r = ctl_decode(data, size, &m);

		if (r <= 0) {
			if (r == 0 || r < -CTL_EFIELD)
				abort(); /* not a documented answer */
			return 0;
		}
		if ((size_t)r > size || r < CTL_HDR_LEN)
			abort();
		if (ctl_encode(&m, out, sizeof(out)) != r || memcmp(out, data, (size_t)r) != 0)
			abort();
		data += r;
		size -= (size_t)r;
	}
	return 0;
}
