/* SPDX-License-Identifier: MIT */
/*
 * Sample messages of every type, shared by the codec test and the corpus
 * generator: variant CTL_SAMPLE_MIN has every field at its smallest (empty
 * strings, names and meta, zero numbers, no node filter), CTL_SAMPLE_MAX
 * at its largest (63-byte scope and node names, SYNODE_NAME_MAX_LIMIT
 * names, SYNODE_META_MAX_LIMIT meta, 16 versions, extreme numbers), and
 * CTL_SAMPLE_TYPICAL something a client would send.
 *
 * Also the fields each type carries, written here from the table at the
 * top of ctl_proto.c, independently of the codec's own layout table.
 */
#ifndef CTL_SAMPLES_H
#define CTL_SAMPLES_H

#include <stdint.h>
#include <string.h>

#include "ctl_proto_internal.h"

enum { CTL_SAMPLE_MIN, CTL_SAMPLE_MAX, CTL_SAMPLE_TYPICAL, CTL_SAMPLE_VARIANTS };

enum {
	CF_SCOPE = 1u << 0,
	CF_NODE = 1u << 1,     /* node name, always present */
	CF_NODE_OPT = 1u << 2, /* node filter */
	CF_KEY = 1u << 3,
	CF_META = 1u << 4,
	CF_PREV = 1u << 5,
	CF_PID = 1u << 6,
	CF_TIME = 1u << 7,
	CF_VALUE = 1u << 8,
	CF_VERSIONS = 1u << 9,
	CF_VERSION = 1u << 10,
	CF_LIMITS = 1u << 11,
	CF_STATS = 1u << 12,
	CF_WATCH = 1u << 13,
	CF_EVKIND = 1u << 14,
	CF_REASON = 1u << 15,
	CF_ERROR = 1u << 16,
	CF_PEER = 1u << 17,
};

/* Every type, requests then answers. */
static const uint16_t ctl_sample_types[] = {
	CTL_MSG_HELLO, CTL_MSG_STATUS, CTL_MSG_NODES, CTL_MSG_SCOPES,
	CTL_MSG_ADD_SCOPE, CTL_MSG_HANDLE_NEW, CTL_MSG_HANDLE_CLOSE,
	CTL_MSG_REGISTER, CTL_MSG_UPDATE, CTL_MSG_UNREGISTER, CTL_MSG_LOOKUP,
	CTL_MSG_REGISTRY, CTL_MSG_REGISTRY_COUNT, CTL_MSG_JOIN, CTL_MSG_LEAVE,
	CTL_MSG_UPDATE_MEMBER, CTL_MSG_MEMBERS, CTL_MSG_IS_MEMBER,
	CTL_MSG_MEMBER_COUNT, CTL_MSG_GROUP_NAMES, CTL_MSG_GROUP_COUNT,
	CTL_MSG_WATCH,
	CTL_MSG_HELLO_OK, CTL_MSG_RESULT, CTL_MSG_ERROR, CTL_MSG_STATUS_INFO,
	CTL_MSG_SCOPE_ITEM, CTL_MSG_PEER_ITEM, CTL_MSG_PID, CTL_MSG_LOOKUP_OK,
	CTL_MSG_REG_ITEM, CTL_MSG_MEMBER_ITEM, CTL_MSG_GROUP_ITEM, CTL_MSG_END,
	CTL_MSG_EVENT,
};
#define CTL_SAMPLE_NTYPES (sizeof(ctl_sample_types) / sizeof(ctl_sample_types[0]))

static inline unsigned
ctl_sample_fields(unsigned type)
{
	switch (type) {
	case CTL_MSG_HELLO: return CF_VERSIONS;
	case CTL_MSG_STATUS: return 0;
	case CTL_MSG_NODES: return CF_SCOPE;
	case CTL_MSG_SCOPES: return 0;
	case CTL_MSG_ADD_SCOPE: return CF_SCOPE;
	case CTL_MSG_HANDLE_NEW: return 0;
	case CTL_MSG_HANDLE_CLOSE: return CF_PID;
	case CTL_MSG_REGISTER: return CF_SCOPE | CF_KEY | CF_PID | CF_META;
	case CTL_MSG_UPDATE: return CF_SCOPE | CF_KEY | CF_META;
	case CTL_MSG_UNREGISTER: return CF_SCOPE | CF_KEY;
	case CTL_MSG_LOOKUP: return CF_SCOPE | CF_KEY;
	case CTL_MSG_REGISTRY: return CF_SCOPE | CF_NODE_OPT;
	case CTL_MSG_REGISTRY_COUNT: return CF_SCOPE | CF_NODE_OPT;
	case CTL_MSG_JOIN: return CF_SCOPE | CF_KEY | CF_PID | CF_META;
	case CTL_MSG_LEAVE: return CF_SCOPE | CF_KEY | CF_PID;
	case CTL_MSG_UPDATE_MEMBER: return CF_SCOPE | CF_KEY | CF_PID | CF_META;
	case CTL_MSG_MEMBERS: return CF_SCOPE | CF_KEY | CF_NODE_OPT;
	case CTL_MSG_IS_MEMBER: return CF_SCOPE | CF_KEY | CF_PID;
	case CTL_MSG_MEMBER_COUNT: return CF_SCOPE | CF_KEY | CF_NODE_OPT;
	case CTL_MSG_GROUP_NAMES: return CF_SCOPE | CF_NODE_OPT;
	case CTL_MSG_GROUP_COUNT: return CF_SCOPE | CF_NODE_OPT;
	case CTL_MSG_WATCH: return CF_SCOPE | CF_WATCH;
	case CTL_MSG_HELLO_OK: return CF_VERSION | CF_NODE | CF_LIMITS;
	case CTL_MSG_RESULT: return CF_VALUE;
	case CTL_MSG_ERROR: return CF_ERROR | CF_VERSIONS;
	case CTL_MSG_STATUS_INFO: return CF_NODE | CF_STATS;
	case CTL_MSG_SCOPE_ITEM: return CF_SCOPE;
	case CTL_MSG_PEER_ITEM: return CF_NODE | CF_SCOPE | CF_PEER;
	case CTL_MSG_PID: return CF_PID;
	case CTL_MSG_LOOKUP_OK: return CF_PID | CF_META;
	case CTL_MSG_REG_ITEM: return CF_KEY | CF_PID | CF_META | CF_TIME;
	case CTL_MSG_MEMBER_ITEM: return CF_PID | CF_META | CF_TIME;
	case CTL_MSG_GROUP_ITEM: return CF_KEY;
	case CTL_MSG_END: return CF_VALUE;
	case CTL_MSG_EVENT:
		return CF_EVKIND | CF_SCOPE | CF_KEY | CF_PID | CF_META | CF_PREV | CF_REASON;
	}
	return 0;
}

/* Byte stores the samples' names and metas point into. */
static uint8_t ctl_sample_key[SYNODE_NAME_MAX_LIMIT];
static uint8_t ctl_sample_meta[SYNODE_META_MAX_LIMIT];
static uint8_t ctl_sample_prev[SYNODE_META_MAX_LIMIT];

static inline void
ctl_sample_fill_str(char *dst, size_t len, char base)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)(base + (char)(i % 26));
	dst[len] = '\0';
}

/* Fills @p m as a sample of @p type; the other fields stay zero. */
static inline void
ctl_sample(struct ctl_msg *m, uint16_t type, int variant)
{
	unsigned f = ctl_sample_fields(type);
	bool max = variant == CTL_SAMPLE_MAX;
	bool typ = variant == CTL_SAMPLE_TYPICAL;

	static bool filled;

	if (!filled) {
		for (size_t i = 0; i < sizeof(ctl_sample_key); i++)
			ctl_sample_key[i] = (uint8_t)(i * 7 + 1); /* NULs included */
		for (size_t i = 0; i < sizeof(ctl_sample_meta); i++) {
			ctl_sample_meta[i] = (uint8_t)(i * 13 + 5);
			ctl_sample_prev[i] = (uint8_t)(i * 17 + 3);
		}
		filled = true;
	}

	ctl_msg_init(m, type, max ? UINT32_MAX : typ ? 42 : 0);
	if (f & CF_SCOPE) {
		if (typ)
			strcpy(m->scope, "users");
		else
			ctl_sample_fill_str(m->scope, max ? SYNODE_SCOPE_NAME_MAX : 0, 'a');
	}
	if (f & (CF_NODE | CF_NODE_OPT)) {
		m->has_node = (f & CF_NODE) || max || typ;
		if (typ)
			strcpy(m->node, "node-a");
		else if (m->has_node)
			ctl_sample_fill_str(m->node, max ? SYNODE_NODE_NAME_MAX : 0, 'A');
	}
	if (f & CF_WATCH)
		m->kind = max ? CTL_WATCH_GROUP : typ ? CTL_WATCH_NAME : CTL_WATCH_SCOPE;
	if ((f & CF_KEY) || ((f & CF_WATCH) && m->kind != CTL_WATCH_SCOPE)) {
		m->key = ctl_sample_key;
		m->key_len = max ? SYNODE_NAME_MAX_LIMIT : typ ? 5 : 0;
	}
	if (f & CF_META) {
		m->meta = ctl_sample_meta;
		m->meta_len = max ? SYNODE_META_MAX_LIMIT : typ ? 11 : 0;
	}
	if (f & CF_PREV) {
		m->has_prev_meta = max || typ;
		if (m->has_prev_meta) {
			m->prev_meta = ctl_sample_prev;
			m->prev_meta_len = max ? SYNODE_META_MAX_LIMIT : 3;
		}
	}
	if (f & CF_PID) {
		m->pid.id = max ? UINT64_MAX : typ ? SYNODE_HANDLE_ID_BASE + 7 : 0;
		if (typ)
			strcpy(m->pid.node, "node-a");
		else
			ctl_sample_fill_str(m->pid.node, max ? SYNODE_NODE_NAME_MAX : 0, 'n');
	}
	if (f & CF_TIME) {
		m->time.wall_ns = max ? UINT64_MAX : typ ? UINT64_C(1700000000123456789) : 0;
		m->time.logical = max ? UINT32_MAX : typ ? 3 : 0;
	}
	if (f & CF_VALUE)
		m->value = max ? INT64_MIN : typ ? 12345 : 0;
	if (f & CF_VERSIONS) {
		m->n_versions = max ? CTL_VERSIONS_MAX : typ ? 1 : 0;
		for (unsigned i = 0; i < m->n_versions; i++)
			m->versions[i] = max ? (uint16_t)(UINT16_MAX - i) : CTL_PROTO_VERSION;
	}
	if (f & CF_VERSION)
		m->version = max ? UINT16_MAX : typ ? CTL_PROTO_VERSION : 0;
	if (f & CF_LIMITS) {
		m->max_name_len = max ? UINT32_MAX : typ ? SYNODE_NAME_MAX_DEFAULT : 0;
		m->max_meta_len = max ? UINT32_MAX : typ ? SYNODE_META_MAX_DEFAULT : 0;
		m->flags = max ? CTL_FLAG_STRICT : 0;
	}
	if (f & CF_STATS) {
		uint64_t v = max ? UINT64_MAX : typ ? 10 : 0;

		/* every counter different (typical), all 0 (min), all max */
		for (size_t i = 0; i < CTL_STATS_N; i++)
			ctl_stats_set(&m->stats, i, v + i * !max);
	}
	if (f & CF_EVKIND)
		m->kind = max ? SYNODE_EV_LEFT : typ ? SYNODE_EV_REGISTRY_UPDATED : 0;
	if (f & CF_REASON) {
		m->reason.kind = max ? SYNODE_REASON_UNDEFINED : typ ? SYNODE_REASON_SIGNAL : 0;
		m->reason.code = max ? INT32_MIN : typ ? 9 : 0;
	}
	if (f & CF_ERROR) {
		m->code = max ? INT32_MIN : typ ? -SYNODE_ETAKEN : 0;
		if (typ)
			strcpy(m->text, "taken");
		else
			ctl_sample_fill_str(m->text, max ? CTL_TEXT_MAX : 0, 'a');
	}
	if (f & CF_PEER) {
		if (typ) {
			strcpy(m->state, "up");
			strcpy(m->address, "10.0.0.2:4370");
			/* Distinct values, so that a swap of two fields shows. */
			m->peer = (struct ctl_peer_figures){
				.version = 1, .rtt_ns = 52300, .frames_tx = 1001,
				.frames_rx = 1002, .bytes_tx = 150003, .bytes_rx = 150004,
				.retransmits = 5, .drops = 6,
			};
		} else {
			uint64_t v = max ? UINT64_MAX : 0;

			ctl_sample_fill_str(m->state, max ? CTL_STR_MAX : 0, 'a');
			ctl_sample_fill_str(m->address, max ? CTL_STR_MAX : 0, 'A');
			m->peer = (struct ctl_peer_figures){
				.version = max ? UINT32_MAX : 0, .rtt_ns = v, .frames_tx = v,
				.frames_rx = v, .bytes_tx = v, .bytes_rx = v,
				.retransmits = v, .drops = v,
			};
		}
	}
}

#endif /* CTL_SAMPLES_H */
