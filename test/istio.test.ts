import { describe, expect, it } from "vitest";
import { istioValues } from "../builders/istio-values";
import { gateway, parsedConfig } from "./support/fixtures";
import { runProgram, sharedRun, fixtureConfig, TYPES } from "./support/harness";

// Plain HTTP only: neither the status port 15021 nor 443 on a Service a LoadBalancer puts on the LAN.
const GATEWAY_PORTS = [{ name: "http2", port: 80, protocol: "TCP", targetPort: 80 }];
const SELECTOR = { app: "istio-ingress", istio: "ingressgateway" };
/** Two pods by default, softly spread over nodes (the budget is the stack's own object). */
const availability = (replicas: number) => ({
  autoscaling: { enabled: false },
  replicaCount: replicas,
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels: SELECTOR },
    },
  ],
});
/** The istio section as config parses it: the defaults (ClusterIP gateway) plus `overrides`. */
const istio = (overrides: Record<string, unknown> = {}) =>
  parsedConfig({ istio: { meshNamespaces: ["monitoring", "media", "infra"], ...overrides } }).istio;

describe("istioValues", () => {
  it("runs istiod and istio-cni with the ambient profile at the standard CNI paths; ztunnel and base take none", () => {
    const v = istioValues(istio(), gateway);
    expect(v.istiod).toEqual({ profile: "ambient" });
    // Cilium owns the CNI at the standard paths: not the k3s profile's flannel directories, no global.platform.
    expect(v.cni).toEqual({ profile: "ambient", cniBinDir: "/opt/cni/bin", cniConfDir: "/etc/cni/net.d" });
    expect(v.ztunnel).toEqual({});
    expect(v.base).toEqual({});
    for (const chart of Object.values(v)) expect(chart).not.toHaveProperty("global");
  });

  it("makes the gateway a ClusterIP Service with its pod labels pinned and only the ports in use", () => {
    expect(istioValues(istio(), gateway).gateway).toEqual({
      labels: SELECTOR,
      service: { type: "ClusterIP", ports: GATEWAY_PORTS },
      ...availability(2),
    });
  });

  it("runs the configured number of gateway pods instead of the chart's one-pod autoscaler", () => {
    expect(istioValues(istio({ gateway: { replicas: 3 } }), gateway).gateway).toMatchObject(availability(3));
    // One pod: the soft spread still schedules it.
    expect(istioValues(istio({ gateway: { replicas: 1 } }), gateway).gateway).toMatchObject(availability(1));
  });

  it("makes it a LoadBalancer with the address through Cilium LB IPAM's annotation, not spec.loadBalancerIP", () => {
    const fixed = istioValues(
      istio({ gateway: { serviceType: "LoadBalancer", loadBalancerIP: "192.168.1.225" } }),
      gateway,
    );
    expect(fixed.gateway.service).toEqual({
      type: "LoadBalancer",
      ports: GATEWAY_PORTS,
      annotations: { "lbipam.cilium.io/ips": "192.168.1.225" },
    });
    const pooled = istioValues(istio({ gateway: { serviceType: "LoadBalancer" } }), gateway);
    expect(pooled.gateway.service).toEqual({ type: "LoadBalancer", ports: GATEWAY_PORTS });
  });

  it("deep-merges each chart's escape hatch last", () => {
    const v = istioValues(
      istio({
        values: {
          istiod: { pilot: { resources: { requests: { cpu: "50m" } } } },
          gateway: { service: { type: "NodePort" } },
        },
      }),
      gateway,
    );
    expect(v.istiod).toEqual({ profile: "ambient", pilot: { resources: { requests: { cpu: "50m" } } } });
    expect(v.gateway.service).toEqual({ type: "NodePort", ports: GATEWAY_PORTS });
  });
});

describe("the IstioAmbient component with the test stack's config", () => {
  const run = sharedRun();
  const release = (part: string) => run().get(TYPES.release, `istio-${part}`);

  it("installs the five official charts at one pinned version under the upstream guide's release names", () => {
    const expected = {
      base: { name: "istio-base", chart: "base", namespace: "istio-system" },
      istiod: { name: "istiod", chart: "istiod", namespace: "istio-system" },
      cni: { name: "istio-cni", chart: "cni", namespace: "istio-system" },
      ztunnel: { name: "ztunnel", chart: "ztunnel", namespace: "istio-system" },
      gateway: { name: "istio-ingress", chart: "gateway", namespace: "istio-ingress" },
    };
    for (const [part, want] of Object.entries(expected)) {
      expect(release(part).inputs).toMatchObject({
        ...want,
        version: "1.30.3",
        repositoryOpts: { repo: "https://istio-release.storage.googleapis.com/charts" },
        atomic: true,
      });
    }
  });

  it("gives each release the values istioValues builds from the test stack's config", () => {
    const values = istioValues(parsedConfig().istio, gateway);
    for (const part of ["base", "istiod", "cni", "ztunnel", "gateway"] as const) {
      expect(release(part).inputs.values, part).toEqual(values[part]);
    }
    // The test stack's gateway is a LoadBalancer on a fixed pool address.
    expect(values.gateway.service).toMatchObject({
      type: "LoadBalancer",
      annotations: { "lbipam.cilium.io/ips": "192.168.1.225" },
    });
  });

  it("orders the releases: Cilium → base → istiod → {cni, ztunnel}, the gateway after istiod, and nothing more", () => {
    const cilium = run().get(TYPES.release, "cilium-release");
    const [base, istiod, cni, ztunnel, gw] = ["base", "istiod", "cni", "ztunnel", "gateway"].map(release) as [
      ReturnType<typeof release>,
      ReturnType<typeof release>,
      ReturnType<typeof release>,
      ReturnType<typeof release>,
      ReturnType<typeof release>,
    ];
    for (const r of [base, istiod, cni, ztunnel, gw]) expect(run().dependsOn(r, cilium)).toBe(true);
    expect(run().dependsOn(istiod, base)).toBe(true);
    expect(run().dependsOn(cni, istiod)).toBe(true);
    expect(run().dependsOn(ztunnel, istiod)).toBe(true);
    expect(run().dependsOn(gw, istiod)).toBe(true);
    for (const [later, earlier] of [
      [cni, ztunnel],
      [ztunnel, cni],
      [gw, cni],
      [gw, ztunnel],
      [base, istiod],
    ] as const) {
      expect(run().dependsOn(later, earlier)).toBe(false);
    }
  });

  it("keeps one gateway pod up through a drain: its PodDisruptionBudget selects the gateway's pods", () => {
    const budget = run().get(TYPES.pdb, "istio-gateway-pdb");
    expect(budget.inputs).toEqual({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "istio-ingress-pdb", namespace: "istio-ingress" },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "istio-ingress", istio: "ingressgateway" } } },
    });
    expect(run().dependsOn(budget, run().get(TYPES.namespace, "istio-gateway-namespace"))).toBe(true);
  });

  it("makes no budget for a single gateway pod, which it would keep from every drain", async () => {
    const one = await runProgram({
      config: { istio: { ...(fixtureConfig().istio as Record<string, unknown>), gateway: { replicas: 1 } } },
    });
    expect(one.resources.filter((r) => r.type === TYPES.pdb).map((r) => r.name)).toEqual(["tunnel-pdb"]);
  });

  it("creates istio-system as PSA privileged and the gateway namespace unlabelled, before their releases", () => {
    const system = run().get(TYPES.namespace, "istio-system-namespace");
    const gatewayNamespace = run().get(TYPES.namespace, "istio-gateway-namespace");
    expect(system.inputs.metadata).toEqual({
      name: "istio-system",
      labels: { "pod-security.kubernetes.io/enforce": "privileged" },
    });
    expect(gatewayNamespace.inputs.metadata).toEqual({ name: "istio-ingress" });
    expect(run().dependsOn(release("base"), system)).toBe(true);
    expect(run().dependsOn(release("gateway"), gatewayNamespace)).toBe(true);
  });

  it("parents everything to the component", () => {
    const component = run().get("homecluster:mesh:IstioAmbient", "istio");
    for (const part of ["base", "istiod", "cni", "ztunnel", "gateway"])
      expect(release(part).parent).toBe(component.urn);
  });
});
