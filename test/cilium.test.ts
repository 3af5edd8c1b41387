import { describe, expect, it } from "vitest";
import { ciliumValues, type CiliumValuesArgs } from "../builders/cilium-values";
import { l2AnnouncementPolicy, lbIpPool } from "../builders/lb-ipam";
import { parsedConfig } from "./support/fixtures";
import { sharedRun, TYPES } from "./support/harness";

/**
 * The capabilities the pinned chart's values.yaml (Cilium 1.20) gives the agent and its clean-state init container:
 * what Cilium needs where the node grants everything. Talos grants all but SYS_MODULE (it loads modules itself).
 */
const CHART_CAPABILITIES = {
  ciliumAgent: [
    "CHOWN",
    "KILL",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "SYS_MODULE",
    "SYS_ADMIN",
    "SYS_RESOURCE",
    "DAC_OVERRIDE",
    "FOWNER",
    "SETGID",
    "SETUID",
    "SYSLOG",
  ],
  cleanCiliumState: ["NET_ADMIN", "SYS_MODULE", "SYS_ADMIN", "SYS_RESOURCE"],
};
const TALOS_DENIES = ["SYS_MODULE"];

/** The test stack's config's Cilium section on kubeadm (no preset), with a host of its own. */
function args(
  overrides: Partial<CiliumValuesArgs["cilium"]> = {},
  distribution: CiliumValuesArgs["distribution"] = "kubeadm",
): CiliumValuesArgs {
  const config = parsedConfig();
  return {
    cilium: { ...config.cilium, k8sServiceHost: "192.168.1.10", k8sServicePort: 6443, ...overrides },
    distribution,
    podCidrs: config.network.podCidrs,
  };
}

describe("ciliumValues", () => {
  it("replaces kube-proxy, talking to the configured API endpoint, with the configured cluster identity", () => {
    const v = ciliumValues(args());
    expect(v).toMatchObject({
      kubeProxyReplacement: true,
      k8sServiceHost: "192.168.1.10",
      k8sServicePort: 6443,
      ipam: { mode: "kubernetes" },
      cluster: { name: "homecluster", id: 1 },
    });
  });

  it("sets what Istio ambient needs: a non-exclusive CNI, socket LB in the host namespace only, no BPF masquerade", () => {
    const v = ciliumValues(args());
    expect(v.cni).toEqual({ exclusive: false });
    expect(v.socketLB).toEqual({ hostNamespaceOnly: true });
    expect(v.bpf).toEqual({ masquerade: false });
    // The old setup's top-level key is ignored by the chart: it must not be emitted.
    expect(v).not.toHaveProperty("bpf-lb-sock-hostns-only");
  });

  it("encrypts pod traffic between nodes with WireGuard by default, Cilium's own ztunnel never", () => {
    expect(ciliumValues(args()).encryption).toEqual({ enabled: true, type: "wireguard" });
    expect(ciliumValues(args({ encryption: "none" })).encryption).toEqual({ enabled: false });
    expect(parsedConfig().cilium.encryption).toBe("wireguard");
  });

  it("enables L2 announcements, raising only the agents' rate limit, without the removed toggles", () => {
    const v = ciliumValues(args({ k8sClientRateLimit: { qps: 40, burst: 80 } }));
    expect(v.l2announcements).toEqual({ enabled: true });
    // The operator keeps the chart's own default (100/200), above the agents'.
    expect(v.k8sClientRateLimit).toEqual({ qps: 40, burst: 80 });
    expect(v).not.toHaveProperty("externalIPs");
    expect(v).not.toHaveProperty("nodePort");
  });

  it("deploys Hubble relay always and the UI per config, the operator's replicas, and rolls pods on change", () => {
    const v = ciliumValues(args());
    expect(v.hubble).toEqual({
      enabled: true,
      relay: { enabled: true, rollOutPods: true },
      ui: { enabled: true, rollOutPods: true },
    });
    expect(ciliumValues(args({ hubbleUi: false })).hubble).toMatchObject({ ui: { enabled: false } });
    expect(ciliumValues(args({ operatorReplicas: 2 })).operator).toEqual({ replicas: 2, rollOutPods: true });
    expect(v.rollOutCiliumPods).toBe(true);
    expect(v.envoy).toEqual({ rollOutPods: true });
  });

  it("rolls the agents one node at a time (the chart's default is two)", () => {
    expect(ciliumValues(args()).updateStrategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 1 },
    });
  });

  it("hands out network.podCidrs only in cluster-pool mode", () => {
    const v = ciliumValues({ ...args({ ipamMode: "cluster-pool" }), podCidrs: ["10.42.0.0/16"] });
    expect(v.ipam).toEqual({ mode: "cluster-pool", operator: { clusterPoolIPv4PodCIDRList: ["10.42.0.0/16"] } });
  });

  it("talos preset: cgroup mounted by Talos; every capability the chart needs except those Talos denies", () => {
    const v = ciliumValues(args({}, "talos"));
    expect(v.cgroup).toEqual({ autoMount: { enabled: false }, hostRoot: "/sys/fs/cgroup" });
    const capabilities = (v.securityContext as { capabilities: Record<string, string[]> }).capabilities;
    // Helm replaces lists: each list given is the container's whole set, so it must hold all the chart's but those.
    expect(Object.keys(capabilities).sort()).toEqual(Object.keys(CHART_CAPABILITIES).sort());
    for (const [container, needed] of Object.entries(CHART_CAPABILITIES)) {
      const granted = capabilities[container]!;
      expect(new Set(granted).size, container).toBe(granted.length);
      expect([...granted].sort(), container).toEqual(needed.filter((c) => !TALOS_DENIES.includes(c)).sort());
    }
  });

  it("k3s and kubeadm keep the chart's CNI paths and cgroup handling", () => {
    for (const distribution of ["k3s", "kubeadm"] as const) {
      const v = ciliumValues(args({}, distribution));
      expect(v).not.toHaveProperty("cgroup");
      expect(v).not.toHaveProperty("securityContext");
    }
  });

  it("deep-merges the escape hatch last, replacing lists and keeping siblings", () => {
    const v = ciliumValues(
      args(
        {
          values: {
            hubble: { ui: { enabled: false } },
            securityContext: { capabilities: { ciliumAgent: ["NET_ADMIN"] } },
            bandwidthManager: { enabled: true },
          },
        },
        "talos",
      ),
    );
    expect(v.hubble).toEqual({
      enabled: true,
      relay: { enabled: true, rollOutPods: true },
      ui: { enabled: false, rollOutPods: true },
    });
    expect(v.securityContext).toEqual({
      capabilities: { ciliumAgent: ["NET_ADMIN"], cleanCiliumState: ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"] },
    });
    expect(v.bandwidthManager).toEqual({ enabled: true });
  });
});

describe("LB IPAM builders", () => {
  it("builds a v2 pool from CIDR and start/stop blocks", () => {
    expect(lbIpPool("pool", [{ cidr: "192.168.1.224/28" }, { start: "192.168.1.240", stop: "192.168.1.250" }])).toEqual(
      {
        apiVersion: "cilium.io/v2",
        kind: "CiliumLoadBalancerIPPool",
        metadata: { name: "pool" },
        spec: { blocks: [{ cidr: "192.168.1.224/28" }, { start: "192.168.1.240", stop: "192.168.1.250" }] },
      },
    );
  });

  it("builds a v2alpha1 L2 policy announcing LB IPs, with a node selector only when given", () => {
    expect(l2AnnouncementPolicy("l2", { interfaces: ["^eth0$"], nodeSelector: {} })).toEqual({
      apiVersion: "cilium.io/v2alpha1",
      kind: "CiliumL2AnnouncementPolicy",
      metadata: { name: "l2" },
      spec: { loadBalancerIPs: true, interfaces: ["^eth0$"] },
    });
    const selected = l2AnnouncementPolicy("l2", {
      interfaces: ["^eth0$"],
      nodeSelector: { "node-role.kubernetes.io/worker": "" },
    });
    expect(selected.spec.nodeSelector).toEqual({ matchLabels: { "node-role.kubernetes.io/worker": "" } });
  });
});

describe("the releases' readiness timeout (homecluster:helm.timeout)", () => {
  const run = sharedRun({ config: { helm: { timeout: 120 } } });

  it("gives every release of the stack the configured timeout", () => {
    const releases = run().resources.filter((r) => r.type === TYPES.release);
    expect(releases.map((r) => [r.name, r.inputs.timeout])).toEqual(releases.map((r) => [r.name, 120]));
    expect(releases.length).toBe(7);
  });
});

describe("charts from a mirror or an OCI registry (homecluster:charts)", () => {
  const run = sharedRun({
    config: { charts: { cilium: "oci://registry.home.arpa/charts/", istio: "http://127.0.0.1:8879/istio" } },
  });
  const release = (name: string) => run().get(TYPES.release, name).inputs;

  it("names an OCI chart by its full reference, without a repository", () => {
    expect(release("cilium-release")).toMatchObject({
      chart: "oci://registry.home.arpa/charts/cilium",
      version: "1.20.0",
    });
    expect(release("cilium-release")).not.toHaveProperty("repositoryOpts");
  });

  it("takes every chart of a family from its repository, the others from upstream", () => {
    for (const part of ["base", "istiod", "cni", "ztunnel", "gateway"]) {
      expect(release(`istio-${part}`).repositoryOpts).toEqual({ repo: "http://127.0.0.1:8879/istio" });
    }
    expect(release("external-dns-release").repositoryOpts).toEqual({
      repo: "https://kubernetes-sigs.github.io/external-dns",
    });
  });
});

describe("the Cilium component with the test stack's config", () => {
  const run = sharedRun();

  it("installs the official chart at the pinned version in kube-system as an atomic release with bounded history", () => {
    expect(run().get(TYPES.release, "cilium-release").inputs).toMatchObject({
      name: "cilium",
      chart: "cilium",
      version: "1.20.0",
      repositoryOpts: { repo: "https://helm.cilium.io" },
      namespace: "kube-system",
      createNamespace: false,
      atomic: true,
      cleanupOnFail: true,
      maxHistory: 5,
      timeout: 600,
    });
  });

  it("gives the release the test stack's config's values: Talos' KubePrism endpoint and preset, the defaults for the rest", () => {
    const values = run().get(TYPES.release, "cilium-release").inputs.values;
    expect(values).toMatchObject({
      k8sServiceHost: "localhost",
      k8sServicePort: 7445,
      cluster: { name: "homecluster", id: 1 },
      ipam: { mode: "kubernetes" },
      encryption: { enabled: true, type: "wireguard" },
      hubble: { ui: { enabled: true } },
      operator: { replicas: 1 },
      cgroup: { autoMount: { enabled: false } },
    });
    expect(values.securityContext.capabilities.ciliumAgent).not.toContain("SYS_MODULE");
  });

  it("creates the pool and the L2 policy from config, after the release (the operator registers their CRDs)", () => {
    const release = run().get(TYPES.release, "cilium-release");
    const pool = run().get(TYPES.lbPool, "cilium-lb-pool");
    const l2 = run().get(TYPES.l2Policy, "cilium-l2-policy");
    expect(pool.inputs.spec.blocks).toEqual([
      { cidr: "192.168.1.224/28" },
      { start: "192.168.1.240", stop: "192.168.1.250" },
    ]);
    expect(l2.inputs.spec.interfaces).toEqual(["^eth[0-9]+", "^enp.+"]);
    expect(run().dependsOn(pool, release)).toBe(true);
    expect(run().dependsOn(l2, release)).toBe(true);
  });

  it("parents everything to the component", () => {
    const component = run().get("homecluster:networking:Cilium", "cilium");
    for (const child of [
      run().get(TYPES.release, "cilium-release"),
      run().get(TYPES.lbPool, "cilium-lb-pool"),
      run().get(TYPES.l2Policy, "cilium-l2-policy"),
    ]) {
      expect(child.parent).toBe(component.urn);
    }
  });
});
