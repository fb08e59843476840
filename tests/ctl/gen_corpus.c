/* SPDX-License-Identifier: MIT */
/*
 * Writes the fuzzer's seed corpus: one small file per message type (the
 * typical sample of ctl_samples.h, encoded), named after the type.
 *
 *   gen_corpus DIR           writes DIR/<hex type>_<name>
 *   gen_corpus --check DIR   exits 1 unless DIR holds exactly those bytes
 *                            (a test: the committed corpus is current)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../corpus_file.h"
#include "ctl_proto_internal.h"
#include "ctl_samples.h"

static const char *
type_name(uint16_t t)
{
	switch (t) {
	case CTL_MSG_HELLO: return "hello";
	case CTL_MSG_STATUS: return "status";
	case CTL_MSG_NODES: return "nodes";
	case CTL_MSG_SCOPES: return "scopes";
	case CTL_MSG_ADD_SCOPE: return "add_scope";
	case CTL_MSG_HANDLE_NEW: return "handle_new";
	case CTL_MSG_HANDLE_CLOSE: return "handle_close";
	case CTL_MSG_REGISTER: return "register";
	case CTL_MSG_UPDATE: return "update";
	case CTL_MSG_UNREGISTER: return "unregister";
	case CTL_MSG_LOOKUP: return "lookup";
	case CTL_MSG_REGISTRY: return "registry";
	case CTL_MSG_REGISTRY_COUNT: return "registry_count";
	case CTL_MSG_JOIN: return "join";
	case CTL_MSG_LEAVE: return "leave";
	case CTL_MSG_UPDATE_MEMBER: return "update_member";
	case CTL_MSG_MEMBERS: return "members";
	case CTL_MSG_IS_MEMBER: return "is_member";
	case CTL_MSG_MEMBER_COUNT: return "member_count";
	case CTL_MSG_GROUP_NAMES: return "group_names";
	case CTL_MSG_GROUP_COUNT: return "group_count";
	case CTL_MSG_WATCH: return "watch";
	case CTL_MSG_HELLO_OK: return "hello_ok";
	case CTL_MSG_RESULT: return "result";
	case CTL_MSG_ERROR: return "error";
	case CTL_MSG_STATUS_INFO: return "status_info";
	case CTL_MSG_SCOPE_ITEM: return "scope_item";
	case CTL_MSG_PEER_ITEM: return "peer_item";
	case CTL_MSG_PID: return "pid";
	case CTL_MSG_LOOKUP_OK: return "lookup_ok";
	case CTL_MSG_REG_ITEM: return "reg_item";
	case CTL_MSG_MEMBER_ITEM: return "member_item";
	case CTL_MSG_GROUP_ITEM: return "group_item";
	case CTL_MSG_END: return "end";
	case CTL_MSG_EVENT: return "event";
	}
	return "unknown";
}

int
main(int argc, char **argv)
{
	static uint8_t buf[CTL_FRAME_MAX];
	bool check = argc == 3 && strcmp(argv[1], "--check") == 0;
	const char *dir = argv[argc - 1];
	int bad = 0;

	if (argc != 2 && !check) {
		fprintf(stderr, "usage: gen_corpus [--check] DIR\n");
		return 2;
	}
	for (size_t i = 0; i < CTL_SAMPLE_NTYPES; i++) {
		uint16_t t = ctl_sample_types[i];
		struct ctl_msg m;
		char path[4096];
		int len;

		ctl_sample(&m, t, CTL_SAMPLE_TYPICAL);
		len = ctl_encode(&m, buf, sizeof(buf));
		if (len < 0) {
			fprintf(stderr, "encode 0x%02x: %s\n", t, strerror(-len));
			return 1;
		}
		snprintf(path, sizeof(path), "%s/%02x_%s", dir, t, type_name(t));
		bad |= corpus_file("gen_corpus", dir, path, buf, (size_t)len, check);
	}
	if (!bad)
		printf("%s: %zu files %s\n", dir, CTL_SAMPLE_NTYPES, check ? "current" : "written");
	return bad;
}
