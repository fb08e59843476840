/* SPDX-License-Identifier: MIT */
/*
 * The dataplane's ethdev ports: one RX and one TX queue each, one mempool
 * for all, promiscuous (dp_net.c filters by MAC itself: af_packet sees the
 * veth's traffic as the kernel does), buffered TX, and the link state.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dp_internal.h"

#define DP_NB_RXD 1024
#define DP_NB_TXD 1024

static int
port_setup(struct synode_dp *dp, struct dp_port *pt)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = DP_NB_RXD, nb_txd = DP_NB_TXD, mtu;
	int socket = rte_eth_dev_socket_id(pt->port_id);
	int rc;

	if (socket < 0)
		socket = 0;
	rc = rte_eth_dev_info_get(pt->port_id, &info);
	if (rc < 0)
		return rc;
	pt->memif = info.driver_name != NULL && strstr(info.driver_name, "memif") != NULL;
	if (pt->memif) {
		const struct rte_devargs *da = info.device ? rte_dev_devargs(info.device) : NULL;

		/* memif's role defaults to client */
		pt->memif_client = da == NULL || da->args == NULL ||
				   strstr(da->args, "role=server") == NULL;
	}
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(pt->port_id, 1, 1, &conf);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(pt->port_id, &nb_rxd, &nb_txd);
	if (rc < 0)
		return rc;
	rc = rte_eth_rx_queue_setup(pt->port_id, 0, nb_rxd, (unsigned)socket, NULL, dp->pool);
	if (rc < 0)
		return rc;
	rc = rte_eth_tx_queue_setup(pt->port_id, 0, nb_txd, (unsigned)socket, NULL);
	if (rc < 0)
		return rc;
	rc = rte_eth_macaddr_get(pt->port_id, &pt->mac);
	if (rc < 0)
		return rc;
	/* Frames never exceed the smallest port's MTU. */
	if (rte_eth_dev_get_mtu(pt->port_id, &mtu) == 0 && mtu >= 576 &&
	    (size_t)mtu - 28 < dp->frame_cap)
		dp->frame_cap = (size_t)mtu - 28;
	rc = rte_eth_dev_start(pt->port_id);
	if (rc < 0)
		return rc;
	/* Not every PMD has it (memif has none): not an error. */
	(void)rte_eth_promiscuous_enable(pt->port_id);
	return 0;
}

/*
 * Waits up to @p ms for the ports' links; logs the ones still down (the
 * loop logs when they come up). A memif port is not waited for: a server's
 * link comes up when its client starts, which is after us by design.
 */
static void
ports_wait_links(struct synode_dp *dp, unsigned ms)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	uint64_t end = dp_now_ns() + (uint64_t)ms * 1000000;
	bool waiting;

	do {
		waiting = false;
		for (unsigned i = 0; i < dp->n_ports; i++) {
			struct rte_eth_link link;

			memset(&link, 0, sizeof(link));
			if (rte_eth_link_get_nowait(dp->ports[i].port_id, &link) == 0 &&
			    link.link_status == RTE_ETH_LINK_UP)
				dp->ports[i].link_up = true;
			else if (!dp->ports[i].memif)
				waiting = true;
		}
		if (!waiting)
			break;
		nanosleep(&ts, NULL);
	} while (dp_now_ns() < end);

	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct dp_port *pt = &dp->ports[i];
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		rte_ether_format_addr(mac, sizeof(mac), &pt->mac);
		dp_log(dp, pt->link_up || pt->memif ? SYNODE_LOG_INFO : SYNODE_LOG_WARNING,
		       "dataplane: port %u (%s) %s: link %s%s", pt->port_id,
		       pt->memif ? "memif" : "ethdev", mac, pt->link_up ? "up" : "down",
		       pt->link_up ? "" : pt->memif ? " (until its peer connects)"
		       : " after the wait; frames go once it is up");
	}
}

int
dp_ports_init(struct synode_dp *dp, unsigned instance, const uint16_t *port_ids,
	      unsigned n_port_ids, unsigned link_wait_ms)
{
	char pool_name[RTE_MEMPOOL_NAMESIZE];
	uint16_t pid;
	int rc;

	unsigned n = 0;

	/* dp->n_ports counts the ports to close: none until set up. */
	dp->n_ports = 0;
	if (port_ids != NULL) {
		for (unsigned i = 0; i < n_port_ids; i++) {
			if (!rte_eth_dev_is_valid_port(port_ids[i]))
				return -ENODEV;
			if (n == DP_MAX_PORTS)
				return -E2BIG;
			dp->ports[n++].port_id = port_ids[i];
		}
	} else {
		RTE_ETH_FOREACH_DEV(pid) {
			if (n == DP_MAX_PORTS)
				return -E2BIG;
			dp->ports[n++].port_id = pid;
		}
	}
	if (n == 0)
		return -ENODEV;

	snprintf(pool_name, sizeof(pool_name), "synode_dp%u", instance);
	dp->pool = rte_pktmbuf_pool_create(pool_name, DP_MBUFS, DP_MBUF_CACHE, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (dp->pool == NULL)
		return -rte_errno;
	dp->n_ports = n;
	dp->frame_cap = DP_MTU_DEFAULT - 28;
	for (unsigned i = 0; i < dp->n_ports; i++) {
		rc = port_setup(dp, &dp->ports[i]);
		if (rc < 0) {
			dp_log(dp, SYNODE_LOG_ERROR, "dataplane: port %u: setup failed: %s",
			       dp->ports[i].port_id, strerror(-rc));
			/* The ones set up so far are closed by dp_ports_close(). */
			dp->n_ports = i + 1;
			return rc;
		}
	}
	ports_wait_links(dp, link_wait_ms);
	return 0;
}

bool
dp_ports_have_memif(const struct synode_dp *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++)
		if (dp->ports[i].memif)
			return true;
	return false;
}

void
dp_ports_close(struct synode_dp *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct dp_port *pt = &dp->ports[i];

		rte_pktmbuf_free_bulk(pt->tx, pt->n_tx);
		pt->n_tx = 0;
		(void)rte_eth_dev_stop(pt->port_id);
		(void)rte_eth_dev_close(pt->port_id);
	}
	dp->n_ports = 0;
	rte_mempool_free(dp->pool);
	dp->pool = NULL;
}

unsigned
dp_port_tx_room(const struct dp_port *pt)
{
	return DP_TX_BUF - pt->n_tx;
}

bool
dp_port_tx_put(struct synode_dp *dp, struct dp_port *pt, struct rte_mbuf *m)
{
	if (pt->n_tx == DP_TX_BUF) {
		dp_drop(dp, DP_DROP_TX_FULL);
		rte_pktmbuf_free(m);
		return false;
	}
	pt->tx[pt->n_tx++] = m;
	return true;
}

void
dp_ports_tx_flush(struct synode_dp *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct dp_port *pt = &dp->ports[i];
		uint16_t sent;

		if (pt->n_tx == 0)
			continue;
		sent = rte_eth_tx_burst(pt->port_id, 0, pt->tx, pt->n_tx);
		/* What the queue did not take waits for the next turn: nothing is
		 * dropped here, the room left makes the peers wait instead. */
		if (sent > 0 && sent < pt->n_tx)
			memmove(pt->tx, pt->tx + sent, (pt->n_tx - sent) * sizeof(pt->tx[0]));
		pt->n_tx = (uint16_t)(pt->n_tx - sent);
	}
}

/*
 * A memif client connects when its port starts and never again by itself
 * (DPDK 22.11): when its server went away (the peer node restarted), the
 * port is restarted every DP_MEMIF_RETRY_NS until the link is back.
 */
#define DP_MEMIF_RETRY_NS 1000000000ull

void
dp_ports_check_links(struct synode_dp *dp, uint64_t now)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct dp_port *pt = &dp->ports[i];
		struct rte_eth_link link;
		bool up;

		memset(&link, 0, sizeof(link));
		up = rte_eth_link_get_nowait(pt->port_id, &link) == 0 &&
		     link.link_status == RTE_ETH_LINK_UP;
		if (!up && pt->memif_client && pt->down_since_ns != 0 &&
		    now - pt->down_since_ns >= DP_MEMIF_RETRY_NS) {
			(void)rte_eth_dev_stop(pt->port_id);
			if (rte_eth_dev_start(pt->port_id) < 0)
				dp_log(dp, SYNODE_LOG_DEBUG, "dataplane: port %u: memif "
				       "client restart failed; again in 1 s", pt->port_id);
			pt->down_since_ns = now;
		}
		if (up == pt->link_up) {
			if (!up && pt->down_since_ns == 0)
				pt->down_since_ns = now;
			continue;
		}
		pt->link_up = up;
		pt->down_since_ns = up ? 0 : now;
		dp_log(dp, up ? SYNODE_LOG_NOTICE : SYNODE_LOG_WARNING,
		       "dataplane: port %u: link %s", pt->port_id, up ? "up" : "down");
		if (!up) {
			/* Frames waiting for a dead link are stale by the time it
			 * comes back; the channels send again what matters. */
			rte_pktmbuf_free_bulk(pt->tx, pt->n_tx);
			pt->n_tx = 0;
		}
	}
}
