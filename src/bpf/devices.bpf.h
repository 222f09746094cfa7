/* SPDX-License-Identifier: GPL-2.0 */
/* Network devices (socktop's DEVICES section). */
#ifndef ST_DEVICES_BPF_H
#define ST_DEVICES_BPF_H

static __always_inline void dev_count(struct net_device *dev, __u64 len, bool xmit)
{
	if (!dev)
		return;
	struct st_dev_key k = {.ifindex = dev->ifindex, .netns = dev->nd_net.net->ns.inum};
	struct st_dev_val zero = {}, *v;
	v = agg_slot ? agg_entry(&devs1, &k, &zero) : agg_entry(&devs0, &k, &zero);
	if (!v)
		return;
	if (!v->name[0])
		__builtin_memcpy(v->name, dev->name, sizeof(v->name));
	if (xmit) {
		v->xmits++;
		v->xmit_bytes += len;
	} else {
		v->recvs++;
		v->recv_bytes += len;
	}
}

/* SystemTap's netdev.transmit counts skb->len as handed to the device */
SEC("tp_btf/net_dev_xmit")
int BPF_PROG(st_dev_xmit, struct sk_buff *skb, int rc, struct net_device *dev, unsigned int len)
{
	if (rc == 0) /* NETDEV_TX_OK */
		dev_count(dev, len, true);
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(st_dev_recv, struct sk_buff *skb)
{
	dev_count(skb->dev, skb->len, false);
	return 0;
}

#endif /* ST_DEVICES_BPF_H */
