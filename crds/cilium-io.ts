/**
 * TypeScript types of the Cilium custom resources this stack creates, transcribed from the CRDs that
 * cilium-operator registers (cilium.io v2 / v2alpha1, Cilium 1.20). Only the fields we use are typed.
 */
import type { TypedObject } from "./object";

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

/** One block of an LB IPAM pool: a CIDR, or an inclusive start/stop range. */
export type LbPoolBlock = { cidr: string } | { start: string; stop: string };

export type CiliumLoadBalancerIPPool = TypedObject<
  "CiliumLoadBalancerIPPool",
  { blocks: LbPoolBlock[]; serviceSelector?: LabelSelector; disabled?: boolean }
>;

export type CiliumL2AnnouncementPolicy = TypedObject<
  "CiliumL2AnnouncementPolicy",
  {
    loadBalancerIPs?: boolean;
    externalIPs?: boolean;
    /** Regular expressions of the node interfaces to announce on. */
    interfaces?: string[];
    nodeSelector?: LabelSelector;
    serviceSelector?: LabelSelector;
  }
>;

interface CiliumIngressRule {
  fromCIDR?: string[];
}

export type CiliumClusterwideNetworkPolicy = TypedObject<
  "CiliumClusterwideNetworkPolicy",
  {
    description?: string;
    endpointSelector: LabelSelector;
    ingress?: CiliumIngressRule[];
    /**
     * Unset, Cilium puts every selected endpoint into default deny for each direction that has rules; an
     * additive policy must set both to false.
     */
    enableDefaultDeny?: { ingress?: boolean; egress?: boolean };
  }
>;
