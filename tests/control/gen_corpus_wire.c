/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of fuzz_wire: one small file per message type,
 * encoded with sn_wire_encode() as node n1 sends it (the fuzzer decodes as
 * n2 receiving from n1), plus one stream of several messages back to back,
 * as a channel delivers them.
 *
 *   gen_corpus_wire DIR           writes DIR/<type>_<name>
 *   gen_corpus_wire --check DIR   exits 1 unless DIR holds exactly those
 *                                 bytes (a test: the committed corpus is
 *                                 current)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../corpus_file.h"
#include "sn_wire.h"

#define SENDER "n1"
#define CAP 4096

static const struct {
	enum sn_msg_type type;
	const char *name;
	enum synode_reason_kind reason;
	const char *pid_node;
} samples[] = {
	{ SN_MSG_DISCOVER, "discover", SYNODE_REASON_NORMAL, SENDER },
	{ SN_MSG_ACK_SYNC, "ack_sync", SYNODE_REASON_NORMAL, SENDER },
	{ SN_MSG_SYNC_REGISTER, "sync_register", SYNODE_REASON_NODE_UP, SENDER },
	{ SN_MSG_SYNC_UNREGISTER, "sync_unregister", SYNODE_REASON_EXIT, "n3" },
	{ SN_MSG_SYNC_JOIN, "sync_join", SYNODE_REASON_SIGNAL, SENDER },
	{ SN_MSG_SYNC_LEAVE, "sync_leave", SYNODE_REASON_CONFLICT, "n3" },
	{ SN_MSG_REQUEST, "request", SYNODE_REASON_NORMAL, SENDER },
	{ SN_MSG_REPLY, "reply", SYNODE_REASON_NORMAL, SENDER },
};
#define N_SAMPLES (sizeof(samples) / sizeof(samples[0]))

static int
encode_sample(size_t i, uint8_t *buf, size_t cap)
{
	struct sn_msg m;

	memset(&m, 0, sizeof(m));
	m.type = samples[i].type;
	m.scope = "s";
	m.name = "svc-1";
	m.name_len = 5;
	strcpy(m.pid.node, samples[i].pid_node);
	m.pid.id = 4242;
	m.meta = "meta";
	m.meta_len = 4;
	m.time.wall_ns = 1763700000123456789ull;
	m.time.logical = 3;
	m.reason.kind = samples[i].reason;
	m.reason.code = samples[i].reason == SYNODE_REASON_SIGNAL ? 9 : 1;
	m.req_id = 7;
	m.op = SN_OP_JOIN;
	m.result = -SYNODE_ETAKEN;
	return sn_wire_encode(buf, cap, &m, SENDER);
}

/* One seed file: written, or checked (--check). */
static int
put_file(const char *dir, const char *name, const uint8_t *buf, size_t len, bool check)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return corpus_file("gen_corpus_wire", dir, path, buf, len, check);
}

int
main(int argc, char **argv)
{
	static uint8_t buf[CAP], stream[CAP];
	bool check = argc == 3 && strcmp(argv[1], "--check") == 0;
	const char *dir = argv[argc - 1];
	size_t stream_len = 0;
	int bad = 0;

	if (argc != 2 && !check) {
		fprintf(stderr, "usage: gen_corpus_wire [--check] DIR\n");
		return 2;
	}
	for (size_t i = 0; i < N_SAMPLES; i++) {
		struct sn_msg d;
		char name[64];
		int len = encode_sample(i, buf, sizeof(buf));

		if (len < 0) {
			fprintf(stderr, "encode %s: %s\n", samples[i].name, strerror(-len));
			return 1;
		}
		/* A seed the decoder refuses would leave the accepting paths cold
		 * (fuzz_wire decodes as n2 receiving from n1). */
		if (sn_wire_decode(buf, (size_t)len, &d, SENDER, "n2") != len) {
			fprintf(stderr, "%s: does not decode\n", samples[i].name);
			bad = 1;
		}
		snprintf(name, sizeof(name), "%02x_%s", samples[i].type, samples[i].name);
		bad |= put_file(dir, name, buf, (size_t)len, check);
		if (stream_len + (size_t)len > sizeof(stream))
			abort();
		memcpy(stream + stream_len, buf, (size_t)len);
		stream_len += (size_t)len;
	}
	bad |= put_file(dir, "stream_all", stream, stream_len, check);
	if (!bad)
		printf("%s: %zu files %s\n", dir, N_SAMPLES + 1, check ? "current" : "written");
	return bad;
}
