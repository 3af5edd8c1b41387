/** Cilium LB IPAM: the pool LoadBalancer Services take addresses from, and the L2 policy that announces them. */
import type { CiliumSettings } from "../config/schema";
import type { CiliumL2AnnouncementPolicy, CiliumLoadBalancerIPPool, LbPoolBlock } from "../crds/cilium-io";

export function lbIpPool(name: string, blocks: LbPoolBlock[]): CiliumLoadBalancerIPPool {
  return { apiVersion: "cilium.io/v2", kind: "CiliumLoadBalancerIPPool", metadata: { name }, spec: { blocks } };
}

/** Announce LoadBalancer addresses (never external IPs) on the configured interfaces of the selected nodes. */
export function l2AnnouncementPolicy(name: string, l2: CiliumSettings["l2"]): CiliumL2AnnouncementPolicy {
  return {
    apiVersion: "cilium.io/v2alpha1",
    kind: "CiliumL2AnnouncementPolicy",
    metadata: { name },
    spec: {
      loadBalancerIPs: true,
      interfaces: l2.interfaces,
      ...(Object.keys(l2.nodeSelector).length > 0 ? { nodeSelector: { matchLabels: l2.nodeSelector } } : {}),
    },
  };
}
