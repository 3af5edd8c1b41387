/**
 * homecluster:networking:Cilium — the cluster's CNI.
 *
 * Creates:
 * - a Helm release of the official `cilium` chart in `kube-system`, with values from `ciliumValues()`
 *   (kube-proxy replacement, the settings Istio ambient needs, L2 announcements, Hubble, a distribution preset);
 * - after the release is ready, a `CiliumLoadBalancerIPPool` (cilium.io/v2) and a `CiliumL2AnnouncementPolicy`
 *   (cilium.io/v2alpha1). cilium-operator registers both CRDs at run time, so they wait for the release.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Distribution, LbPoolBlock } from "../config";
import type { CiliumL2AnnouncementPolicy, CiliumLoadBalancerIPPool } from "../crds/cilium";
import { typedCustomResource } from "./custom-resource";
import { chartRelease, deepMerge, type HelmValues } from "./helm";
import { charts } from "./versions";

export interface CiliumValuesArgs {
  /** Which cluster distribution the preset is for. Default in config: `kubeadm`. */
  distribution: Distribution;
  /** API server host and port Cilium talks to instead of kube-proxy (Talos: KubePrism `localhost:7445`). */
  k8sServiceHost: string;
  k8sServicePort: number;
  /** Cilium IPAM mode. Default in config: `kubernetes` (pod CIDRs from the node objects). */
  ipamMode: "kubernetes" | "cluster-pool";
  /** Pod networks; used as the cluster-pool CIDR list when `ipamMode` is `cluster-pool`. */
  podCidrs: string[];
  /** Cluster name and numeric id (1-255 if the cluster will ever join a cluster mesh). */
  clusterName: string;
  clusterId: number;
  /** cilium-operator replicas. Default in config: 1, which fits a single-node cluster. */
  operatorReplicas: number;
  /** Deploy the Hubble UI next to Hubble Relay. Default in config: true. */
  hubbleUi: boolean;
  /** The agents' API rate limit; L2 announcements hold one lease per LoadBalancer Service. */
  k8sClientRateLimit: { qps: number; burst: number };
  /** Escape hatch: values deep-merged over everything this function sets. Default: `{}`. */
  values: HelmValues;
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

/** Helm values of the Cilium chart. Pure: tested directly. */
export function ciliumValues(args: CiliumValuesArgs): HelmValues {
  const common: HelmValues = {
    kubeProxyReplacement: true,
    k8sServiceHost: args.k8sServiceHost,
    k8sServicePort: args.k8sServicePort,
    cluster: { name: args.clusterName, id: args.clusterId },
    ipam:
      args.ipamMode === "cluster-pool"
        ? { mode: "cluster-pool", operator: { clusterPoolIPv4PodCIDRList: args.podCidrs } }
        : { mode: "kubernetes" },
    // Istio ambient: istio-cni chains its plugin into Cilium's CNI config, which an exclusive Cilium deletes.
    cni: { exclusive: false },
    // Istio ambient redirects traffic inside the pod's network namespace; socket LB there would bypass it.
    socketLB: { hostNamespaceOnly: true },
    // BPF masquerading breaks the SNAT ambient uses for kubelet health probes.
    bpf: { masquerade: false },
    l2announcements: { enabled: true },
    // The agents' limit only: each takes L2 leases. The operator keeps the chart's default (100/200).
    k8sClientRateLimit: { qps: args.k8sClientRateLimit.qps, burst: args.k8sClientRateLimit.burst },
    hubble: {
      enabled: true,
      relay: { enabled: true, rollOutPods: true },
      ui: { enabled: args.hubbleUi, rollOutPods: true },
    },
    operator: { replicas: args.operatorReplicas, rollOutPods: true },
    envoy: { rollOutPods: true },
    rollOutCiliumPods: true,
  };
  return deepMerge(common, distributionPreset(args.distribution), args.values);
}

/** The LB IPAM pool object. Pure. */
export function lbIpPool(name: string, blocks: LbPoolBlock[]): CiliumLoadBalancerIPPool {
  return {
    apiVersion: "cilium.io/v2",
    kind: "CiliumLoadBalancerIPPool",
    metadata: { name },
    spec: { blocks: blocks.map((b) => ("cidr" in b ? { cidr: b.cidr } : { start: b.start, stop: b.stop })) },
  };
}

/** The L2 announcement policy object: announce LoadBalancer IPs on the given interfaces. Pure. */
export function l2AnnouncementPolicy(
  name: string,
  interfaces: string[],
  nodeSelector: Record<string, string>,
): CiliumL2AnnouncementPolicy {
  return {
    apiVersion: "cilium.io/v2alpha1",
    kind: "CiliumL2AnnouncementPolicy",
    metadata: { name },
    spec: {
      loadBalancerIPs: true,
      interfaces,
      ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector: { matchLabels: nodeSelector } } : {}),
    },
  };
}

export interface CiliumArgs extends CiliumValuesArgs {
  /** Exact chart version. */
  version: string;
  /** LB IPAM pool blocks (CIDRs or start/stop ranges). */
  lbPool: LbPoolBlock[];
  /** Interface regexes and node labels for L2 announcements. */
  l2: { interfaces: string[]; nodeSelector: Record<string, string> };
}

export class Cilium extends pulumi.ComponentResource {
  /** The Helm release; everything that needs a working CNI depends on it. */
  public readonly release: k8s.helm.v3.Release;
  public readonly lbIpPool: k8s.apiextensions.CustomResource;
  public readonly l2Policy: k8s.apiextensions.CustomResource;
  /** The pool's blocks, as exported to other stacks. */
  public readonly lbPoolBlocks: pulumi.Output<LbPoolBlock[]>;

  constructor(name: string, args: CiliumArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:networking:Cilium", name, {}, opts);
    if (args.lbPool.length === 0) throw new pulumi.ResourceError("Cilium needs at least one LB pool block", this);

    this.release = chartRelease(
      `${name}-release`,
      {
        chart: charts.cilium,
        version: args.version,
        namespace: charts.cilium.namespace,
        values: ciliumValues(args),
      },
      { parent: this },
    );
    const afterRelease = { parent: this, dependsOn: [this.release] };
    this.lbIpPool = typedCustomResource(`${name}-lb-pool`, lbIpPool(`${name}-lb-pool`, args.lbPool), afterRelease);
    this.l2Policy = typedCustomResource(
      `${name}-l2-policy`,
      l2AnnouncementPolicy(`${name}-l2`, args.l2.interfaces, args.l2.nodeSelector),
      afterRelease,
    );
    this.lbPoolBlocks = pulumi.output(args.lbPool);
    this.registerOutputs({
      release: this.release,
      lbIpPool: this.lbIpPool,
      l2Policy: this.l2Policy,
      lbPoolBlocks: this.lbPoolBlocks,
    });
  }
}
