/* SPDX-License-Identifier: MIT */
/*
 * DPDK telemetry of the dataplane: /synode/stats, /synode/drops and
 * /synode/peers, read with dpdk-telemetry.py (see dataplane/README.md).
 *
 * Telemetry callbacks take no argument in DPDK 22.11: they reach the one
 * dataplane of the process through dp_tel_dp, set by create and cleared by
 * destroy under dp_tel_lock, which every callback holds while it reads (a
 * callback runs on DPDK's telemetry thread, any time).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "dp_internal.h"

static pthread_mutex_t dp_tel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct synode_dp *dp_tel_dp;
static bool dp_tel_registered;

static const char *const peer_state_names[] = {
	[SYNODE_PEER_CONNECTING] = "connecting",
	[SYNODE_PEER_UP] = "up",
	[SYNODE_PEER_DOWN] = "down",
};

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct synode_dp_stats st;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&dp_tel_lock);
	if (dp_tel_dp == NULL) {
		pthread_mutex_unlock(&dp_tel_lock);
		return -ENODEV;
	}
	synode_dp_get_stats(dp_tel_dp, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "node", dp_tel_dp->name);
	rte_tel_data_add_dict_u64(d, "rx_frames", st.rx_frames);
	rte_tel_data_add_dict_u64(d, "tx_frames", st.tx_frames);
	rte_tel_data_add_dict_u64(d, "rx_bytes", st.rx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_bytes", st.tx_bytes);
	rte_tel_data_add_dict_u64(d, "rx_dropped", st.rx_dropped);
	rte_tel_data_add_dict_u64(d, "retransmits", st.retransmits);
	rte_tel_data_add_dict_u64(d, "resets", st.resets);
	rte_tel_data_add_dict_u64(d, "arp_replies", st.arp_replies);
	rte_tel_data_add_dict_u64(d, "icmp_replies", st.icmp_replies);
	rte_tel_data_add_dict_u64(d, "idle_sleeps", st.idle_sleeps);
	rte_tel_data_add_dict_u64(d, "lookup_frames", st.lookup_frames);
	rte_tel_data_add_dict_u64(d, "lookup_answers", st.lookup_answers);
	rte_tel_data_add_dict_u64(d, "lookup_malformed", st.lookup_malformed);
	rte_tel_data_add_dict_u64(d, "lookup_denied", st.lookup_denied);
	pthread_mutex_unlock(&dp_tel_lock);
	return 0;
}

static void
tel_add_reason(const char *reason, uint64_t count, void *arg)
{
	struct rte_tel_data *detail = arg;

	rte_tel_data_add_dict_u64(detail, reason, count);
}

/* The causes (issue 5), then "detail": every reason with a count. */
static int
tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct synode_dp_stats st;
	struct rte_tel_data *detail;

	(void)cmd;
	(void)params;
	detail = rte_tel_data_alloc();
	if (detail == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&dp_tel_lock);
	if (dp_tel_dp == NULL) {
		pthread_mutex_unlock(&dp_tel_lock);
		rte_tel_data_free(detail);
		return -ENODEV;
	}
	synode_dp_get_stats(dp_tel_dp, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "bad_mac", st.drop_bad_mac);
	rte_tel_data_add_dict_u64(d, "malformed", st.drop_malformed);
	rte_tel_data_add_dict_u64(d, "truncated", st.drop_truncated);
	rte_tel_data_add_dict_u64(d, "replayed", st.drop_replayed);
	rte_tel_data_add_dict_u64(d, "unknown_peer", st.drop_unknown_peer);
	rte_tel_data_add_dict_u64(d, "session", st.drop_session);
	rte_tel_data_add_dict_u64(d, "total", st.rx_dropped);
	rte_tel_data_start_dict(detail);
	synode_dp_foreach_drop(dp_tel_dp, tel_add_reason, detail);
	pthread_mutex_unlock(&dp_tel_lock);
	if (rte_tel_data_add_dict_container(d, "detail", detail, 0) != 0)
		rte_tel_data_free(detail);
	return 0;
}

/* One dict per peer, by name. */
static int
tel_peers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned n;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&dp_tel_lock);
	if (dp_tel_dp == NULL) {
		pthread_mutex_unlock(&dp_tel_lock);
		return -ENODEV;
	}
	rte_tel_data_start_dict(d);
	n = atomic_load_explicit(&dp_tel_dp->n_peers, memory_order_relaxed);
	for (unsigned i = 0; i < n && i < RTE_TEL_MAX_DICT_ENTRIES; i++) {
		struct dp_peer *pr = &dp_tel_dp->peers[i];
		const struct dp_peer_ctr *c = &pr->ctr;
		struct rte_tel_data *p;
		char name[SYNODE_NODE_NAME_MAX + 1], key[16];
		int state;

		/* P1's acquire side, as link_peer_info(). */
		if (!atomic_load_explicit(&pr->published, memory_order_acquire))
			continue;
		p = rte_tel_data_alloc();
		if (p == NULL)
			break;
		rte_spinlock_lock(&pr->info_lock);
		memcpy(name, pr->info_name, sizeof(name));
		rte_spinlock_unlock(&pr->info_lock);
		state = atomic_load_explicit(&c->state, memory_order_relaxed);
		rte_tel_data_start_dict(p);
		rte_tel_data_add_dict_string(p, "node", name);
		rte_tel_data_add_dict_string(p, "state",
			(unsigned)state < 3 ? peer_state_names[state] : "?");
		rte_tel_data_add_dict_u64(p, "version",
			atomic_load_explicit(&c->version, memory_order_relaxed));
		rte_tel_data_add_dict_u64(p, "rtt_ns",
			atomic_load_explicit(&c->rtt_ns, memory_order_relaxed));
		rte_tel_data_add_dict_u64(p, "frames_tx",
			atomic_load_explicit(&c->frames_tx, memory_order_relaxed));
		rte_tel_data_add_dict_u64(p, "frames_rx",
			atomic_load_explicit(&c->frames_rx, memory_order_relaxed));
		rte_tel_data_add_dict_u64(p, "bytes_tx",
			atomic_load_explicit(&c->bytes_tx, memory_order_relaxed));
		rte_tel_data_add_dict_u64(p, "bytes_rx",
			atomic_load_explicit(&c->bytes_rx, memory_order_relaxed));
		rte_tel_data_add_dict_u64(p, "retransmits",
			atomic_load_explicit(&c->retransmits, memory_order_relaxed));
		rte_tel_data_add_dict_u64(p, "drops",
			atomic_load_explicit(&c->drops, memory_order_relaxed));
		rte_tel_data_add_dict_string(p, "addr", pr->info_addr);
		/* By name; telemetry takes [A-Za-z0-9_./-] names only: else
		 * (or before its HELLO) "peerN". */
		snprintf(key, sizeof(key), "peer%u", i);
		if ((name[0] == '\0' ||
		     rte_tel_data_add_dict_container(d, name, p, 0) != 0) &&
		    rte_tel_data_add_dict_container(d, key, p, 0) != 0)
			rte_tel_data_free(p);
	}
	pthread_mutex_unlock(&dp_tel_lock);
	return 0;
}

void
dp_tel_attach(struct synode_dp *dp)
{
	pthread_mutex_lock(&dp_tel_lock);
	/* The first dataplane of the process is the one shown. */
	if (dp_tel_dp == NULL)
		dp_tel_dp = dp;
	if (!dp_tel_registered) {
		dp_tel_registered = true;
		if (rte_telemetry_register_cmd("/synode/stats", tel_stats,
					       "synode dataplane counters. No parameters") != 0 ||
		    rte_telemetry_register_cmd("/synode/drops", tel_drops,
					       "synode frames dropped, by cause. No "
					       "parameters") != 0 ||
		    rte_telemetry_register_cmd("/synode/peers", tel_peers,
					       "synode peers and their counters. No "
					       "parameters") != 0)
			dp_log(dp, SYNODE_LOG_WARNING, "dataplane: telemetry commands "
			       "not registered");
	}
	pthread_mutex_unlock(&dp_tel_lock);
}

void
dp_tel_detach(struct synode_dp *dp)
{
	pthread_mutex_lock(&dp_tel_lock);
	if (dp_tel_dp == dp)
		dp_tel_dp = NULL;
	pthread_mutex_unlock(&dp_tel_lock);
}
