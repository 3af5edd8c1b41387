import { describe, expect, it } from "vitest";
import { ciliumValues, l2AnnouncementPolicy, lbIpPool, type CiliumValuesArgs } from "../components/cilium";
import { RELEASE, sharedRun } from "./harness";

const CUSTOM = "kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool";
const L2 = "kubernetes:cilium.io/v2alpha1:CiliumL2AnnouncementPolicy";

const base: CiliumValuesArgs = {
  distribution: "kubeadm",
  k8sServiceHost: "192.168.1.10",
  k8sServicePort: 6443,
  ipamMode: "kubernetes",
  podCidrs: ["10.244.0.0/16"],
  clusterName: "homecluster",
  clusterId: 1,
  operatorReplicas: 1,
  hubbleUi: true,
  k8sClientRateLimit: { qps: 30, burst: 60 },
  values: {},
};

describe("ciliumValues", () => {
  it("sets kube-proxy replacement with the configured API endpoint", () => {
    const v = ciliumValues(base);
    expect(v.kubeProxyReplacement).toBe(true);
    expect(v.k8sServiceHost).toBe("192.168.1.10");
    expect(v.k8sServicePort).toBe(6443);
    expect(v.ipam).toEqual({ mode: "kubernetes" });
    expect(v.cluster).toEqual({ name: "homecluster", id: 1 });
  });

  it("sets what Istio ambient needs", () => {
    const v = ciliumValues(base);
    expect(v.cni).toEqual({ exclusive: false });
    expect(v.socketLB).toEqual({ hostNamespaceOnly: true });
    expect(v.bpf).toEqual({ masquerade: false });
    // The old setup's top-level key is ignored by the chart: it must not be emitted.
    expect(v).not.toHaveProperty("bpf-lb-sock-hostns-only");
  });

  it("enables L2 announcements with a raised client rate limit and no removed toggles", () => {
    const v = ciliumValues(base);
    expect(v.l2announcements).toEqual({ enabled: true });
    // The agents' limit only: the operator keeps the chart's own default (100/200), above the agents'.
    expect(v.k8sClientRateLimit).toEqual({ qps: 30, burst: 60 });
    expect(v).not.toHaveProperty("externalIPs");
    expect(v).not.toHaveProperty("nodePort");
  });

  it("deploys Hubble relay, UI per config, operator replicas, and rolls pods on config change", () => {
    const v = ciliumValues(base);
    expect(v.hubble).toEqual({
      enabled: true,
      relay: { enabled: true, rollOutPods: true },
      ui: { enabled: true, rollOutPods: true },
    });
    expect(ciliumValues({ ...base, hubbleUi: false }).hubble).toMatchObject({ ui: { enabled: false } });
    expect(v.operator).toEqual({ replicas: 1, rollOutPods: true });
    expect(ciliumValues({ ...base, operatorReplicas: 2 }).operator).toEqual({ replicas: 2, rollOutPods: true });
    expect(v.rollOutCiliumPods).toBe(true);
    expect(v.envoy).toEqual({ rollOutPods: true });
  });

  it("uses the cluster-pool CIDRs only in cluster-pool mode", () => {
    const v = ciliumValues({ ...base, ipamMode: "cluster-pool", podCidrs: ["10.42.0.0/16"] });
    expect(v.ipam).toEqual({ mode: "cluster-pool", operator: { clusterPoolIPv4PodCIDRList: ["10.42.0.0/16"] } });
  });

  it("talos preset: KubePrism endpoint from config, cgroup mounted by Talos, no SYS_MODULE, SYSLOG kept", () => {
    const v = ciliumValues({ ...base, distribution: "talos", k8sServiceHost: "localhost", k8sServicePort: 7445 });
    expect(v.k8sServiceHost).toBe("localhost");
    expect(v.k8sServicePort).toBe(7445);
    expect(v.cgroup).toEqual({ autoMount: { enabled: false }, hostRoot: "/sys/fs/cgroup" });
    // The chart's default agent list (Cilium 1.20's values.yaml) without SYS_MODULE.
    expect(v.securityContext).toEqual({
      capabilities: {
        ciliumAgent: [
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
        ],
        cleanCiliumState: ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"],
      },
    });
  });

  it("k3s and kubeadm presets keep the chart's CNI paths and cgroup handling", () => {
    for (const distribution of ["k3s", "kubeadm"] as const) {
      const v = ciliumValues({ ...base, distribution });
      expect(v).not.toHaveProperty("cgroup");
      expect(v).not.toHaveProperty("securityContext");
      expect(v.cni).toEqual({ exclusive: false });
    }
  });

  it("deep-merges the escape hatch last, replacing lists and keeping siblings", () => {
    const v = ciliumValues({
      ...base,
      distribution: "talos",
      values: {
        hubble: { ui: { enabled: false } },
        securityContext: { capabilities: { ciliumAgent: ["NET_ADMIN"] } },
        bandwidthManager: { enabled: true },
      },
    });
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

describe("Cilium custom resource builders", () => {
  it("builds a v2 pool with CIDR and start/stop blocks", () => {
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
    expect(l2AnnouncementPolicy("l2", ["^eth0$"], {})).toEqual({
      apiVersion: "cilium.io/v2alpha1",
      kind: "CiliumL2AnnouncementPolicy",
      metadata: { name: "l2" },
      spec: { loadBalancerIPs: true, interfaces: ["^eth0$"] },
    });
    expect(l2AnnouncementPolicy("l2", ["^eth0$"], { "node-role.kubernetes.io/worker": "" }).spec.nodeSelector).toEqual({
      matchLabels: { "node-role.kubernetes.io/worker": "" },
    });
  });
});

describe("Cilium under mocks with the committed config", () => {
  const run = sharedRun();

  it("installs the official chart at the pinned version in kube-system as an atomic release", () => {
    const release = run().get(RELEASE, "cilium-release");
    expect(release.inputs).toMatchObject({
      name: "cilium",
      chart: "cilium",
      version: "1.20.0",
      repositoryOpts: { repo: "https://helm.cilium.io" },
      namespace: "kube-system",
      atomic: true,
      cleanupOnFail: true,
      maxHistory: 5,
      timeout: 600,
    });
  });

  it("passes the committed config into the values (talos preset, KubePrism, pools)", () => {
    const values = run().get(RELEASE, "cilium-release").inputs.values;
    expect(values).toMatchObject({
      kubeProxyReplacement: true,
      k8sServiceHost: "localhost",
      k8sServicePort: 7445,
      ipam: { mode: "kubernetes" },
      cluster: { name: "homecluster", id: 1 },
      cni: { exclusive: false },
      socketLB: { hostNamespaceOnly: true },
      bpf: { masquerade: false },
      l2announcements: { enabled: true },
      cgroup: { autoMount: { enabled: false }, hostRoot: "/sys/fs/cgroup" },
      hubble: { relay: { enabled: true }, ui: { enabled: true } },
      operator: { replicas: 1, rollOutPods: true },
      rollOutCiliumPods: true,
    });
  });

  it("creates the pool and the L2 policy after the release, with the configured blocks and interfaces", () => {
    const release = run().get(RELEASE, "cilium-release");
    const pool = run().get(CUSTOM, "cilium-lb-pool");
    const l2 = run().get(L2, "cilium-l2-policy");
    expect(pool.inputs.spec).toEqual({
      blocks: [{ cidr: "192.168.1.224/28" }, { start: "192.168.1.240", stop: "192.168.1.250" }],
    });
    expect(l2.inputs.spec).toEqual({ loadBalancerIPs: true, interfaces: ["^eth[0-9]+", "^enp.+"] });
    expect(run().dependsOn(pool, release)).toBe(true);
    expect(run().dependsOn(l2, release)).toBe(true);
  });

  it("uses the explicit Kubernetes provider bound to the configured context", () => {
    const provider = run().get("pulumi:providers:kubernetes", "k8s");
    expect(provider.inputs.context).toBe("admin@homecluster");
    const release = run().get(RELEASE, "cilium-release");
    expect(release.provider).toMatch(/pulumi:providers:kubernetes::k8s::/);
    expect(run().get(CUSTOM, "cilium-lb-pool").provider).toMatch(/pulumi:providers:kubernetes::k8s::/);
  });

  it("parents everything to the component", () => {
    const component = run().get("homecluster:networking:Cilium", "cilium");
    for (const child of [run().get(RELEASE, "cilium-release"), run().get(CUSTOM, "cilium-lb-pool")]) {
      expect(child.parent).toBe(component.urn);
    }
  });
});
