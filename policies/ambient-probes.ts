/**
 * Cilium policies Istio ambient needs. Pure builders; components/mesh-policies.ts registers what they return.
 */
import type { CiliumClusterwideNetworkPolicy } from "../crds/cilium-io";

/** The link-local address istio-cni SNATs kubelet probes of ambient pods to. */
const AMBIENT_PROBE_SOURCE = "169.254.7.127/32";

/**
 * Lets kubelet probes into every endpoint. Cilium exempts node traffic from policy, but ambient's probes arrive from
 * 169.254.7.127, which Cilium sees as `world`, so any default-deny Cilium policy would fail every probe.
 * `enableDefaultDeny` false keeps this policy purely additive: without it, selecting every endpoint with an ingress
 * rule would put the whole cluster into ingress default deny.
 */
export function ambientProbePolicy(name: string): CiliumClusterwideNetworkPolicy {
  return {
    apiVersion: "cilium.io/v2",
    kind: "CiliumClusterwideNetworkPolicy",
    metadata: { name },
    spec: {
      description: "Allows kubelet health probes, SNATed by Istio ambient, into every pod",
      endpointSelector: {},
      enableDefaultDeny: { ingress: false, egress: false },
      ingress: [{ fromCIDR: [AMBIENT_PROBE_SOURCE] }],
    },
  };
}
