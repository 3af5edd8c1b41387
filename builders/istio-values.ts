/** Helm values of the five Istio charts (base, istiod, cni, ztunnel, gateway) in ambient mode. */
import type { IstioSettings } from "../config/schema";
import { deepMerge, type HelmValues } from "../lib/helm";
import type { IngressGateway } from "../model/ingress-gateway";

export type IstioChart = keyof Required<IstioSettings["values"]>;

/**
 * Where istio-cni installs its plugin and chains its config. Cilium is the CNI on every distribution this stack
 * supports and uses the standard paths, so Istio takes no distribution preset and no `global.platform`:
 * - talos: containerd uses /etc/cni/net.d and /opt/cni/bin (Istio has no `talos` platform; the chart would fail);
 * - k3s: started with --flannel-backend=none, k3s uses the standard paths Cilium writes to. `global.platform=k3s`
 *   would point istio-cni at the bundled flannel's /var/lib/rancher/k3s/... directories, which Cilium never uses;
 * - kubeadm: the standard paths.
 * Pinned (they are also the chart's defaults) so a chart upgrade cannot move them.
 */
const CNI_PATHS = { cniBinDir: "/opt/cni/bin", cniConfDir: "/etc/cni/net.d" } as const;

/** The gateway chart's Service: ClusterIP, or LoadBalancer with an optional fixed address from Cilium LB IPAM. */
function gatewayServiceValues(settings: IstioSettings["gateway"], gateway: IngressGateway): HelmValues {
  return {
    type: settings.serviceType,
    // Plain HTTP only. The chart's default also publishes 443 and the status port 15021, which a LoadBalancer would
    // put on the LAN; kubelet probes reach 15021 on the pod without the Service.
    ports: [{ name: "http2", port: gateway.port, protocol: "TCP", targetPort: gateway.port }],
    // Cilium LB IPAM reads this annotation; the Service's spec.loadBalancerIP is deprecated in Kubernetes.
    ...(settings.loadBalancerIP ? { annotations: { "lbipam.cilium.io/ips": settings.loadBalancerIP } } : {}),
  };
}

/**
 * Every public route passes through the gateway, so it runs like cloudflared: a fixed number of replicas (the chart's
 * default is an HPA from one pod), spread over nodes where there are several. The spread is soft, so a one-node
 * cluster runs every replica. Its PodDisruptionBudget is the stack's own object (components/istio.ts), like
 * cloudflared's: the chart's `podDisruptionBudget` key exists only in its comments and schema.
 */
function gatewayAvailability(replicas: number, gateway: IngressGateway): HelmValues {
  return {
    autoscaling: { enabled: false },
    replicaCount: replicas,
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: gateway.selector },
      },
    ],
  };
}

/** Each chart's values; config's escape hatch per chart (`istio.values`) deep-merged last. */
export function istioValues(istio: IstioSettings, gateway: IngressGateway): Record<IstioChart, HelmValues> {
  const own: Record<IstioChart, HelmValues> = {
    base: {},
    istiod: { profile: "ambient" },
    cni: { profile: "ambient", ...CNI_PATHS },
    // ztunnel is ambient-only; the upstream guide installs it without a profile.
    ztunnel: {},
    // The chart keeps its default `istio.io/dataplane-mode: none` label next to these (Helm merges maps).
    gateway: {
      labels: gateway.selector,
      service: gatewayServiceValues(istio.gateway, gateway),
      ...gatewayAvailability(istio.gateway.replicas, gateway),
    },
  };
  const merged = (chart: IstioChart) => deepMerge(own[chart], istio.values[chart] ?? {});
  return {
    base: merged("base"),
    istiod: merged("istiod"),
    cni: merged("cni"),
    ztunnel: merged("ztunnel"),
    gateway: merged("gateway"),
  };
}
