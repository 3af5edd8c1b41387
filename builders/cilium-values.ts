/**
 * Helm values of the Cilium chart: kube-proxy replacement, what Istio ambient needs of the CNI, L2 announcements,
 * Hubble, and a preset per distribution; config's escape hatch last. Every key is one `values.yaml` of the pinned
 * chart knows (a key it does not know is silently ignored).
 */
import type { CiliumSettings, Distribution } from "../config/schema";
import { deepMerge, type HelmValues } from "../lib/helm";

export interface CiliumValuesArgs {
  cilium: CiliumSettings;
  distribution: Distribution;
  /** `network.podCidrs`: what cluster-pool IPAM hands out. */
  podCidrs: string[];
}

/**
 * The agent's capabilities on Talos: the chart's default list (Cilium 1.20) without SYS_MODULE, which Talos does
 * not grant (it loads kernel modules itself). SYSLOG stays: Talos allows it, and sysdumps read dmesg with it.
 */
const TALOS_AGENT_CAPABILITIES = [
  "CHOWN",
  "KILL",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "SYS_ADMIN",
  "SYS_RESOURCE",
  "DAC_OVERRIDE",
  "FOWNER",
  "SETGID",
  "SETUID",
  "SYSLOG",
];
const TALOS_CLEAN_STATE_CAPABILITIES = ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"];

/** What each distribution needs on top of the common values. */
function distributionPreset(distribution: Distribution): HelmValues {
  switch (distribution) {
    case "talos":
      // Talos mounts cgroup2 itself and does not allow the agent to do it; see Talos' Cilium guide.
      return {
        cgroup: { autoMount: { enabled: false }, hostRoot: "/sys/fs/cgroup" },
        securityContext: {
          capabilities: { ciliumAgent: TALOS_AGENT_CAPABILITIES, cleanCiliumState: TALOS_CLEAN_STATE_CAPABILITIES },
        },
      };
    case "k3s":
    case "kubeadm":
      // k3s started with --flannel-backend=none sets no CNI paths of its own, so containerd uses the standard
      // /etc/cni/net.d and /opt/cni/bin the chart defaults to; both only need the API endpoint from config.
      return {};
  }
}

export function ciliumValues({ cilium, distribution, podCidrs }: CiliumValuesArgs): HelmValues {
  const common: HelmValues = {
    kubeProxyReplacement: true,
    k8sServiceHost: cilium.k8sServiceHost,
    k8sServicePort: cilium.k8sServicePort,
    cluster: { name: cilium.clusterName, id: cilium.clusterId },
    ipam:
      cilium.ipamMode === "cluster-pool"
        ? { mode: "cluster-pool", operator: { clusterPoolIPv4PodCIDRList: podCidrs } }
        : { mode: "kubernetes" },
    // Istio ambient: istio-cni chains its plugin into Cilium's CNI config, which an exclusive Cilium deletes.
    cni: { exclusive: false },
    // Istio ambient redirects traffic inside the pod's network namespace; socket LB there would bypass it.
    socketLB: { hostNamespaceOnly: true },
    // BPF masquerading breaks the SNAT ambient uses for kubelet health probes.
    bpf: { masquerade: false },
    // Encrypts pod traffic between nodes: the one hop the mesh leaves plaintext is cloudflared → the ingress gateway
    // (the gateway accepts no HBONE). `ztunnel`, Cilium's own ambient mode, would clash with Istio's ztunnel.
    encryption: cilium.encryption === "wireguard" ? { enabled: true, type: "wireguard" } : { enabled: false },
    l2announcements: { enabled: true },
    // The agents' limit only: each takes L2 leases. The operator keeps the chart's default (100/200).
    k8sClientRateLimit: { qps: cilium.k8sClientRateLimit.qps, burst: cilium.k8sClientRateLimit.burst },
    hubble: {
      enabled: true,
      relay: { enabled: true, rollOutPods: true },
      ui: { enabled: cilium.hubbleUi, rollOutPods: true },
    },
    operator: { replicas: cilium.operatorReplicas, rollOutPods: true },
    envoy: { rollOutPods: true },
    rollOutCiliumPods: true,
    // A changed cilium-config rolls the agents (rollOutCiliumPods): one node at a time, not the chart's two, so a
    // home cluster of two nodes never has both without a datapath agent at once.
    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
  };
  return deepMerge(common, distributionPreset(distribution), cilium.values);
}
