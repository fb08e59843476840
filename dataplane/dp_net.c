/* SPDX-License-Identifier: MIT */
/*
 * Ethernet, ARP, IPv4, UDP and ICMP echo, on the lcore. Every frame is
 * checked before it is believed: lengths against the bytes received, the
 * IPv4 header checksum (in software: virtual devices offload nothing),
 * the UDP checksum when the sender set one. Anything that is not ARP for
 * us, an echo request to us, or UDP to our port is dropped and counted by
 * reason. ARP and echo replies are made in the request's own mbuf.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp_internal.h"

#define DP_IP_TTL 64

static const struct rte_ether_addr dp_bcast_mac = {
	.addr_bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
};

static void
arp_rx(struct synode_dp *dp, unsigned port_idx, struct rte_mbuf *m, uint64_t now)
{
	struct dp_port *pt = &dp->ports[port_idx];
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp;
	uint32_t sip, tip;

	if (m->data_len < sizeof(*eth) + sizeof(*arp)) {
		dp_drop(dp, DP_DROP_ARP_BAD);
		goto drop;
	}
	arp = (struct rte_arp_hdr *)(eth + 1);
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4 ||
	    (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) &&
	     arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REPLY)) ||
	    !rte_is_unicast_ether_addr(&arp->arp_data.arp_sha)) {
		dp_drop(dp, DP_DROP_ARP_BAD);
		goto drop;
	}
	sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
	tip = rte_be_to_cpu_32(arp->arp_data.arp_tip);
	/* Requests and replies both say where their sender is. */
	if (sip != 0 && sip != dp->ip)
		dp_peer_learn(dp, sip, port_idx, &arp->arp_data.arp_sha, now);
	if (tip != dp->ip || arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST)) {
		if (tip != dp->ip)
			dp_drop(dp, DP_DROP_ARP_NOT_OURS);
		goto drop;
	}
	/* The reply, in place. */
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sha = pt->mac;
	arp->arp_data.arp_sip = rte_cpu_to_be_32(dp->ip);
	eth->dst_addr = arp->arp_data.arp_tha;
	eth->src_addr = pt->mac;
	/* Trailing padding (a 60-byte minimum frame) goes back as it came. */
	if (dp_port_tx_put(dp, pt, m))
		dp_ctr_add(&dp->st.arp_replies, 1);
	return;
drop:
	rte_pktmbuf_free(m);
}

static void
icmp_rx(struct synode_dp *dp, unsigned port_idx, struct rte_mbuf *m,
	struct rte_ipv4_hdr *ip, size_t ihl, size_t ip_len)
{
	struct dp_port *pt = &dp->ports[port_idx];
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl);
	size_t icmp_len = ip_len - ihl;
	uint32_t addr;

	if (icmp_len < sizeof(*icmp) || rte_raw_cksum(icmp, icmp_len) != 0xffff) {
		dp_drop(dp, DP_DROP_ICMP_BAD);
		goto drop;
	}
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0 ||
	    ip->dst_addr != rte_cpu_to_be_32(dp->ip)) {
		dp_drop(dp, DP_DROP_ICMP_NOT_ECHO);
		goto drop;
	}
	/* The reply, in place: swap the addresses, type 0, new checksums. */
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, icmp_len);
	addr = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = addr;
	ip->time_to_live = DP_IP_TTL;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	eth->dst_addr = eth->src_addr;
	eth->src_addr = pt->mac;
	if (dp_port_tx_put(dp, pt, m))
		dp_ctr_add(&dp->st.icmp_replies, 1);
	return;
drop:
	rte_pktmbuf_free(m);
}

/* The UDP checksum over the pseudo-header and @p l4_len bytes is right. */
static bool
udp_checksum_ok(const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *udp, size_t l4_len)
{
	uint32_t sum = (uint32_t)rte_raw_cksum(udp, l4_len) + rte_ipv4_phdr_cksum(ip, 0);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static void
ipv4_rx(struct synode_dp *dp, unsigned port_idx, struct rte_mbuf *m, uint64_t now)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	size_t avail = m->data_len - sizeof(*eth);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp;
	size_t ihl, ip_len, udp_len;
	uint32_t src, dst;

	if (avail < sizeof(*ip) || (ip->version_ihl >> 4) != 4) {
		dp_drop(dp, DP_DROP_IP_BAD);
		goto drop;
	}
	ihl = (size_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4;
	ip_len = rte_be_to_cpu_16(ip->total_length);
	if (ihl < sizeof(*ip) || ihl > avail || ip_len < ihl || ip_len > avail) {
		dp_drop(dp, DP_DROP_IP_BAD);
		goto drop;
	}
	if (rte_raw_cksum(ip, ihl) != 0xffff) {
		dp_drop(dp, DP_DROP_IP_CHECKSUM);
		goto drop;
	}
	if ((rte_be_to_cpu_16(ip->fragment_offset) &
	     (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
		/* Our frames fit the MTU; nobody needs us to put pieces together. */
		dp_drop(dp, DP_DROP_IP_FRAGMENT);
		goto drop;
	}
	src = rte_be_to_cpu_32(ip->src_addr);
	dst = rte_be_to_cpu_32(ip->dst_addr);
	if (dst != dp->ip && !(ip->next_proto_id == IPPROTO_UDP &&
			       (dst == dp->bcast || dst == 0xffffffffu))) {
		dp_drop(dp, DP_DROP_IP_NOT_OURS);
		goto drop;
	}
	if (ip->next_proto_id == IPPROTO_ICMP) {
		icmp_rx(dp, port_idx, m, ip, ihl, ip_len);
		return;
	}
	if (ip->next_proto_id != IPPROTO_UDP) {
		dp_drop(dp, DP_DROP_IP_PROTO);
		goto drop;
	}
	udp = (struct rte_udp_hdr *)((uint8_t *)ip + ihl);
	udp_len = ip_len - ihl;
	if (udp_len < sizeof(*udp) || rte_be_to_cpu_16(udp->dgram_len) < sizeof(*udp) ||
	    rte_be_to_cpu_16(udp->dgram_len) > udp_len) {
		dp_drop(dp, DP_DROP_UDP_BAD);
		goto drop;
	}
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	if (udp->dst_port != rte_cpu_to_be_16(dp->udp_port)) {
		dp_drop(dp, DP_DROP_UDP_PORT);
		goto drop;
	}
	/* The checksum covers the IP length's worth of UDP: they must agree. */
	if (udp->dgram_cksum != 0 &&
	    (udp_len != ip_len - ihl || !udp_checksum_ok(ip, udp, udp_len))) {
		dp_drop(dp, DP_DROP_UDP_CHECKSUM);
		goto drop;
	}
	/* The lookup service (issue 6): from anyone, to our own address. */
	if (dst == dp->ip && udp_len - sizeof(*udp) >= 4 &&
	    memcmp(udp + 1, "SYNL", 4) == 0) {
		dp_lookup_rx(dp, port_idx, &eth->src_addr, src, rte_be_to_cpu_16(udp->src_port),
			     (const uint8_t *)(udp + 1), udp_len - sizeof(*udp));
		goto drop;
	}
	if (src == dp->ip) {
		dp_drop(dp, DP_DROP_SELF); /* our own broadcast, looped back */
		goto drop;
	}
	dp_peer_rx(dp, port_idx, &eth->src_addr, src, rte_be_to_cpu_16(udp->src_port),
		   dst != dp->ip, (const uint8_t *)(udp + 1), udp_len - sizeof(*udp), now);
drop:
	rte_pktmbuf_free(m);
}

void
dp_net_rx(struct synode_dp *dp, unsigned port_idx, struct rte_mbuf *m, uint64_t now)
{
	struct dp_port *pt = &dp->ports[port_idx];
	struct rte_ether_hdr *eth;

	dp_ctr_add(&dp->st.rx_frames, 1);
	dp_ctr_add(&dp->st.rx_bytes, m->pkt_len);
	if (m->nb_segs != 1) {
		/* Frames this size never need a chain; a chain is not ours. */
		dp_drop(dp, DP_DROP_MULTI_SEGMENT);
		goto drop;
	}
	if (m->data_len < sizeof(*eth)) {
		dp_drop(dp, DP_DROP_ETH_SHORT);
		goto drop;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (!rte_is_same_ether_addr(&eth->dst_addr, &pt->mac) &&
	    !rte_is_broadcast_ether_addr(&eth->dst_addr)) {
		dp_drop(dp, DP_DROP_NOT_OUR_MAC);
		goto drop;
	}
	switch (rte_be_to_cpu_16(eth->ether_type)) {
	case RTE_ETHER_TYPE_ARP:
		arp_rx(dp, port_idx, m, now);
		return;
	case RTE_ETHER_TYPE_IPV4:
		ipv4_rx(dp, port_idx, m, now);
		return;
	default:
		dp_drop(dp, DP_DROP_ETHERTYPE);
		break;
	}
drop:
	rte_pktmbuf_free(m);
}

/* ------------------------------------------------------------------- send */

struct rte_mbuf *
dp_net_udp_alloc(struct synode_dp *dp, uint8_t **payload)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);

	if (m == NULL) {
		dp_drop(dp, DP_DROP_NO_MBUF);
		return NULL;
	}
	*payload = rte_pktmbuf_mtod_offset(m, uint8_t *, DP_L2L3L4_LEN);
	return m;
}

bool
dp_net_udp_send(struct synode_dp *dp, unsigned port_idx, const struct rte_ether_addr *dst_mac,
		uint32_t dst_ip, uint16_t dst_port, struct rte_mbuf *m, size_t len)
{
	struct dp_port *pt = &dp->ports[port_idx];
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	size_t total = DP_L2L3L4_LEN + len;

	if (rte_pktmbuf_append(m, (uint16_t)total) == NULL) {
		rte_pktmbuf_free(m);
		return false;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	eth->dst_addr = *dst_mac;
	eth->src_addr = pt->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(total - sizeof(*eth)));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = DP_IP_TTL;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(dp->ip);
	ip->dst_addr = rte_cpu_to_be_32(dst_ip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(dp->udp_port);
	udp->dst_port = rte_cpu_to_be_16(dst_port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(len + sizeof(*udp)));
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	if (!dp_port_tx_put(dp, pt, m))
		return false;
	dp_ctr_add(&dp->st.tx_frames, 1);
	dp_ctr_add(&dp->st.tx_bytes, total);
	return true;
}

void
dp_net_arp_request(struct synode_dp *dp, unsigned port_idx, uint32_t target_ip)
{
	struct dp_port *pt = &dp->ports[port_idx];
	struct rte_mbuf *m;
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (dp_port_tx_room(pt) == 0)
		return;
	m = rte_pktmbuf_alloc(dp->pool);
	if (m == NULL) {
		dp_drop(dp, DP_DROP_NO_MBUF);
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*arp));
	if (eth == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	eth->dst_addr = dp_bcast_mac;
	eth->src_addr = pt->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = pt->mac;
	arp->arp_data.arp_sip = rte_cpu_to_be_32(dp->ip);
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = rte_cpu_to_be_32(target_ip);
	dp_port_tx_put(dp, pt, m);
}
