import { describe, expect, it } from "vitest";
import { istioValues, type IstioValuesArgs } from "../components/istio";
import { NAMESPACE, RELEASE, sharedRun } from "./harness";

const base: IstioValuesArgs = {
  gateway: { namespace: "istio-ingress", serviceType: "ClusterIP" },
  values: {},
};

const GATEWAY_PORTS = [
  { name: "status-port", port: 15021, protocol: "TCP", targetPort: 15021 },
  { name: "http2", port: 80, protocol: "TCP", targetPort: 80 },
];

describe("istioValues", () => {
  it("runs istiod and istio-cni with the ambient profile, ztunnel and base without one", () => {
    const v = istioValues(base);
    expect(v.istiod).toEqual({ profile: "ambient" });
    expect(v.cni).toEqual({ profile: "ambient", cniBinDir: "/opt/cni/bin", cniConfDir: "/etc/cni/net.d" });
    expect(v.ztunnel).toEqual({});
    expect(v.base).toEqual({});
  });

  it("uses the standard CNI paths and sets no global.platform on any chart (Cilium owns the CNI)", () => {
    const v = istioValues(base);
    // Not the k3s platform profile's flannel directories under /var/lib/rancher.
    expect(v.cni).toEqual({ profile: "ambient", cniBinDir: "/opt/cni/bin", cniConfDir: "/etc/cni/net.d" });
    for (const chart of Object.values(v)) expect(chart).not.toHaveProperty("global");
  });

  it("makes the gateway a ClusterIP Service with pinned pod labels and only the ports in use", () => {
    expect(istioValues(base).gateway).toEqual({
      labels: { app: "istio-ingress", istio: "ingressgateway" },
      service: { type: "ClusterIP", ports: GATEWAY_PORTS },
    });
  });

  it("makes it a LoadBalancer with the address through Cilium LB IPAM's annotation, not spec.loadBalancerIP", () => {
    const lb = istioValues({
      ...base,
      gateway: { namespace: "istio-ingress", serviceType: "LoadBalancer", loadBalancerIP: "192.168.1.225" },
    }).gateway;
    expect(lb.service).toEqual({
      type: "LoadBalancer",
      ports: GATEWAY_PORTS,
      annotations: { "lbipam.cilium.io/ips": "192.168.1.225" },
    });
    expect(lb.service).not.toHaveProperty("loadBalancerIP");
    const pooled = istioValues({ ...base, gateway: { namespace: "istio-ingress", serviceType: "LoadBalancer" } });
    expect(pooled.gateway.service).toEqual({ type: "LoadBalancer", ports: GATEWAY_PORTS });
  });

  it("deep-merges each chart's escape hatch last", () => {
    const v = istioValues({
      ...base,
      values: {
        istiod: { pilot: { resources: { requests: { cpu: "50m" } } } },
        gateway: { service: { type: "NodePort" } },
      },
    });
    expect(v.istiod).toEqual({ profile: "ambient", pilot: { resources: { requests: { cpu: "50m" } } } });
    expect(v.gateway.service).toEqual({ type: "NodePort", ports: GATEWAY_PORTS });
    expect(v.cni).toEqual({ profile: "ambient", cniBinDir: "/opt/cni/bin", cniConfDir: "/etc/cni/net.d" });
  });
});

describe("IstioAmbient under mocks with the committed config", () => {
  const run = sharedRun();
  const release = (name: string) => run().get(RELEASE, `istio-${name}`);

  it("installs the five official charts at one pinned version from the Istio repository", () => {
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
        createNamespace: false,
        atomic: true,
        cleanupOnFail: true,
      });
    }
  });

  it("sets the ambient profile on istiod and istio-cni only", () => {
    expect(release("istiod").inputs.values.profile).toBe("ambient");
    expect(release("cni").inputs.values.profile).toBe("ambient");
    expect(release("ztunnel").inputs.values).not.toHaveProperty("profile");
    expect(release("base").inputs.values).not.toHaveProperty("profile");
    expect(release("gateway").inputs.values).not.toHaveProperty("profile");
  });

  it("applies the talos preset: standard CNI paths, no platform", () => {
    expect(release("cni").inputs.values).toEqual({
      profile: "ambient",
      cniBinDir: "/opt/cni/bin",
      cniConfDir: "/etc/cni/net.d",
    });
  });

  it("makes the gateway a LoadBalancer on the configured pool address", () => {
    expect(release("gateway").inputs.values).toEqual({
      labels: { app: "istio-ingress", istio: "ingressgateway" },
      service: {
        type: "LoadBalancer",
        ports: GATEWAY_PORTS,
        annotations: { "lbipam.cilium.io/ips": "192.168.1.225" },
      },
    });
  });

  it("orders the releases: Cilium → base → istiod → {cni, ztunnel}, gateway after istiod", () => {
    const cilium = run().get(RELEASE, "cilium-release");
    const [b, istiod, cni, ztunnel, gateway] = ["base", "istiod", "cni", "ztunnel", "gateway"].map(release) as [
      any,
      any,
      any,
      any,
      any,
    ];
    for (const r of [b, istiod, cni, ztunnel, gateway]) expect(run().dependsOn(r, cilium)).toBe(true);
    expect(run().dependsOn(istiod, b)).toBe(true);
    expect(run().dependsOn(cni, istiod)).toBe(true);
    expect(run().dependsOn(ztunnel, istiod)).toBe(true);
    expect(run().dependsOn(gateway, istiod)).toBe(true);
    // No extra edges: cni and ztunnel are siblings, the gateway waits for neither, base for nothing Istio.
    expect(run().dependsOn(cni, ztunnel)).toBe(false);
    expect(run().dependsOn(ztunnel, cni)).toBe(false);
    expect(run().dependsOn(gateway, cni)).toBe(false);
    expect(run().dependsOn(gateway, ztunnel)).toBe(false);
    expect(run().dependsOn(b, istiod)).toBe(false);
  });

  it("creates istio-system as PSA privileged and the gateway namespace unlabelled, before their releases", () => {
    const system = run().get(NAMESPACE, "istio-system-namespace");
    const gatewayNs = run().get(NAMESPACE, "istio-gateway-namespace");
    expect(system.inputs.metadata).toEqual({
      name: "istio-system",
      labels: { "pod-security.kubernetes.io/enforce": "privileged" },
    });
    expect(gatewayNs.inputs.metadata).toEqual({ name: "istio-ingress" });
    expect(run().dependsOn(release("base"), system)).toBe(true);
    expect(run().dependsOn(release("gateway"), gatewayNs)).toBe(true);
  });

  it("parents everything to the component and uses the explicit provider", () => {
    const component = run().get("homecluster:mesh:IstioAmbient", "istio");
    for (const part of ["base", "istiod", "cni", "ztunnel", "gateway"]) {
      expect(release(part).parent).toBe(component.urn);
      expect(release(part).provider).toMatch(/pulumi:providers:kubernetes::k8s::/);
    }
  });
});
