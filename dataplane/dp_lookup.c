/* SPDX-License-Identifier: MIT */
/*
 * The lookup service on the lcore (issue 6, control/sn_lookup.h): a UDP
 * datagram to our port that starts with "SYNL" is a lookup request, from
 * any address (no peer, no session). The lcore checks its MAC trailer, if
 * it has one, with the lookup key of its key_id, and answers it straight
 * from the node's tables (sn_lookup_serve: wait-free, RCU read side),
 * never through the control thread.
 *
 * Per frame nothing is allocated but the answers' mbufs: the answer is
 * built in dp->lookup_buf (one, the lcore's) and copied into an mbuf sent
 * back to where the request came from (its MAC, address and port). An
 * answer that finds no mbuf or no room in the TX buffer is dropped and
 * counted (no_mbuf, tx_full): the client asks again.
 *
 * Keys: a scope given --lookup-key answers only the items of frames
 * authenticated with its key (DENIED otherwise); the other scopes answer
 * every frame, keyed or not. A frame that says MAC but whose tag no key of
 * its key_id verifies gets no answer at all (counted as denied): it could
 * be anyone's. Answers to a keyed frame carry a tag with the same key, so
 * that the client knows they are the node's.
 */
#include <string.h>

#include "dp_internal.h"
#include "sn_lookup.h"

#define LOOKUP_F_MAC 0x01

struct lookup_call {
	struct synode_dp *dp;
	unsigned port_idx;
	const struct rte_ether_addr *mac;
	uint32_t ip;
	uint16_t port;
	int key;                 /* the index of the key that verified; -1: none */
};

/* May a frame authenticated with key @p c->key (or none) read @p scope? */
static bool
lookup_allowed(const char *scope, uint8_t key_id, void *arg)
{
	const struct lookup_call *c = arg;
	const struct synode_dp *dp = c->dp;

	(void)key_id;
	for (unsigned i = 0; i < dp->n_lookup_keys; i++) {
		if (strcmp(dp->lookup_keys[i].scope, scope) != 0)
			continue;
		/* The same key file may guard several scopes: compare keys. */
		return c->key >= 0 &&
		       memcmp(dp->lookup_keys[c->key].key.k, dp->lookup_keys[i].key.k,
			      sizeof(dp->lookup_keys[i].key.k)) == 0;
	}
	return true;
}

static void
lookup_emit(const void *frame, size_t len, void *arg)
{
	struct lookup_call *c = arg;
	struct synode_dp *dp = c->dp;
	struct rte_mbuf *m;
	uint8_t *p;

	if (len < SN_LOOKUP_HDR_LEN || len + SN_LOOKUP_MAC_LEN > dp->frame_cap)
		return;
	if (dp_port_tx_room(&dp->ports[c->port_idx]) == 0) {
		dp_drop(dp, DP_DROP_TX_FULL);
		return;
	}
	m = dp_net_udp_alloc(dp, &p);
	if (m == NULL)
		return;
	memcpy(p, frame, len);
	if (c->key >= 0) {
		const struct dp_auth_key *k = &dp->lookup_keys[c->key].key;

		p[6] |= LOOKUP_F_MAC;
		p[7] = k->id;
		dp_lookup_tag(k, p, len, p + len);
		len += SN_LOOKUP_MAC_LEN;
	}
	if (dp_net_udp_send(dp, c->port_idx, c->mac, c->ip, c->port, m, len))
		dp_ctr_add(&dp->st.lookup_answers, 1);
}

void
dp_lookup_rx(struct synode_dp *dp, unsigned port_idx, const struct rte_ether_addr *src_mac,
	     uint32_t src_ip, uint16_t src_port, const uint8_t *payload, size_t len)
{
	struct lookup_call c = {
		.dp = dp, .port_idx = port_idx, .mac = src_mac, .ip = src_ip,
		.port = src_port, .key = -1,
	};
	struct sn_lookup_ctx ctx = {.key_id = 0, .allowed = lookup_allowed, .arg = &c};
	struct sn_lookup_stats st = {0};
	int rc;

	dp_ctr_add(&dp->st.lookup_frames, 1);
	if (dp->node == NULL || dp->lookup_buf == NULL || src_port == 0 ||
	    !rte_is_unicast_ether_addr(src_mac) || src_ip == 0 || src_ip == 0xffffffffu ||
	    src_ip == dp->bcast) {
		/* Nowhere to answer. */
		dp_ctr_add(&dp->st.lookup_malformed, 1);
		return;
	}
	if (len < SN_LOOKUP_HDR_LEN) {
		dp_ctr_add(&dp->st.lookup_malformed, 1);
		return;
	}
	if (payload[6] & LOOKUP_F_MAC) {
		if (len < SN_LOOKUP_HDR_LEN + SN_LOOKUP_MAC_LEN) {
			dp_ctr_add(&dp->st.lookup_malformed, 1);
			return;
		}
		len -= SN_LOOKUP_MAC_LEN;
		for (unsigned i = 0; i < dp->n_lookup_keys; i++) {
			const struct dp_auth_key *k = &dp->lookup_keys[i].key;

			if (k->id == payload[7] && dp_lookup_tag_ok(k, payload, len,
								    payload + len)) {
				c.key = (int)i;
				break;
			}
		}
		if (c.key < 0) {
			dp_ctr_add(&dp->st.lookup_denied, 1);
			return;
		}
		ctx.key_id = payload[7];
	}
	rc = sn_lookup_serve(dp->node, payload, len, dp->lookup_buf,
			     dp->frame_cap - SN_LOOKUP_MAC_LEN, &ctx, lookup_emit, &c, &st);
	if (rc < 0 && st.malformed_frames == 0)
		st.malformed_frames = 1;
	if (st.malformed_frames + st.malformed_items > 0)
		dp_ctr_add(&dp->st.lookup_malformed, st.malformed_frames + st.malformed_items);
	if (st.denied > 0)
		dp_ctr_add(&dp->st.lookup_denied, st.denied);
}
