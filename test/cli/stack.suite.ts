/**
 * cli/stack.ts: the stack config read as the Pulumi CLI hands it over, and the facts the checks get from the
 * project's modules. Expectations are written out, so a change in what a component creates shows here.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadStackFacts, StackError } from "../../cli/stack";
import { facts as testFacts, variant } from "./fixtures";

describe("loadStackFacts", () => {
  const facts = testFacts();

  it("applies Pulumi.yaml's defaults to the keys the stack file leaves out", () => {
    expect(facts.kubernetes.kubeconfig).toBeUndefined();
    expect(facts.tunnel.name).toBe("homecluster");
    expect(facts.tunnel.cloudflared).toEqual({
      kind: "Deployment",
      namespace: "cloudflared",
      labels: { "app.kubernetes.io/name": "cloudflared" },
    });
    expect(facts.externalDns.deployment).toEqual({
      kind: "Deployment",
      namespace: "external-dns",
      name: "external-dns",
    });
  });

  it("derives what the tunnel serves from the routes, in ingress-rule order", () => {
    expect(facts.tunnel.hostnames).toEqual(["jellyfin.example.com", "example.com", "ssh.example.com"]);
    expect(facts.tunnel.config).toEqual({
      ingress: [
        { hostname: "jellyfin.example.com", service: "http://istio-ingress.istio-ingress.svc.cluster.local:80" },
        { hostname: "example.com", service: "http://istio-ingress.istio-ingress.svc.cluster.local:80" },
        // Behind Access: cloudflared must require the token, of the team the stack names.
        { hostname: "ssh.example.com", service: "ssh://nas.lan:22", access: { teamName: "home" } },
        { service: "http_status:404" },
      ],
      originRequest: { connectTimeout: 30, http2Origin: false, noTLSVerify: false },
    });
    expect(facts.tunnel.recordComment).toBe(
      "Cloudflare Tunnel route of Pulumi stack homecluster/cli-test; do not edit by hand",
    );
  });

  it("knows the stack's releases, required namespaces, mesh and LB pool", () => {
    expect(facts.kubernetes.releases.map((r) => `${r.namespace}/${r.release}:${r.chart}`)).toEqual([
      "kube-system/cilium:cilium",
      "istio-system/istio-base:base",
      "istio-system/istiod:istiod",
      "istio-system/istio-cni:cni",
      "istio-system/ztunnel:ztunnel",
      "istio-ingress/istio-ingress:gateway",
      "external-dns/external-dns:external-dns",
    ]);
    expect(facts.kubernetes.namespaces.map((ns) => ns.name)).toEqual(["media"]);
    expect(facts.kubernetes.kubeProxyReplacement).toBe(true);
    expect(facts.cilium.hubbleRelay).toEqual({ kind: "Deployment", namespace: "kube-system", name: "hubble-relay" });
    expect(facts.istio.meshNamespaces).toEqual(["media", "cloudflared"]);
    expect(facts.istio.policies).toContainEqual({
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace: "istio-system" },
      spec: { mtls: { mode: "STRICT" } },
    });
    expect(facts.istio.policies.map((p) => p.metadata.name)).toContain("allow-nothing");
    expect(facts.cilium.lbPool.contains("192.168.1.239")).toBe(true);
    expect(facts.cilium.lbPool.contains("192.168.1.240")).toBe(false);
    expect(facts.gateway).toEqual({
      namespace: "istio-ingress",
      service: "istio-ingress",
      serviceType: "LoadBalancer",
      loadBalancerIP: "192.168.1.225",
    });
  });

  it("asks the token to mint external-dns' token only when the stack does, and for Access when a route is behind it", () => {
    expect(facts.cloudflare.access).toBe(true);
    // The test stack names its team domain, so nothing is looked up.
    expect(facts.cloudflare.tokenNeeds.map((n) => `${n.group}@${n.scope}`)).toEqual([
      "Cloudflare Tunnel Write@account",
      "DNS Write@zone",
      "Zone Read@zone",
      "API Tokens Write@user",
      "Access: Apps and Policies Write@account",
    ]);
    const given = loadStackFacts({
      stack: "variant",
      stackFile: variant((config) => (config["homecluster:externalDnsApiToken"] = { secure: "v1:x" })),
    });
    expect(given.cloudflare.tokenNeeds.map((n) => n.group)).not.toContain("API Tokens Write");
    const lookedUp = loadStackFacts({
      stack: "variant",
      stackFile: variant((config) => delete (config["homecluster:access"] as Record<string, unknown>).teamDomain),
    });
    expect(lookedUp.cloudflare.tokenNeeds.map((n) => n.group)).toContain(
      "Access: Organizations, Identity Providers, and Groups Read",
    );
    const open = loadStackFacts({
      stack: "variant",
      stackFile: variant((config) => {
        const routes = config["homecluster:routes"] as Record<string, unknown>[];
        config["homecluster:routes"] = routes.map(({ access: _access, ...route }) =>
          "origin" in route ? { ...route, public: true } : route,
        );
      }),
    });
    expect(open.cloudflare.access).toBe(false);
    expect(open.cloudflare.tokenNeeds.map((n) => n.group).filter((g) => g.startsWith("Access"))).toEqual([]);
  });

  it("follows the chart values: kube-proxy replacement and Hubble Relay off", () => {
    const off = loadStackFacts({
      stack: "variant",
      stackFile: variant((config) => {
        const cilium = config["homecluster:cilium"] as Record<string, unknown>;
        cilium.values = { kubeProxyReplacement: false, hubble: { relay: { enabled: false } } };
      }),
    });
    expect(off.kubernetes.kubeProxyReplacement).toBe(false);
    expect(off.cilium.hubbleRelay).toBeUndefined();
  });

  it("reads the committed stack by its name", () => {
    const committed = loadStackFacts({ stack: "homecluster" });
    expect(committed.stackFile).toBe(path.resolve(__dirname, "../../Pulumi.homecluster.yaml"));
    expect(committed.kubernetes.context).toBe("admin@homecluster");
    expect(committed.istio.meshNamespaces).toEqual(["monitoring", "media", "infra", "cloudflared"]);
  });

  it("refuses an encrypted homecluster:kubeconfig unless $KUBECONFIG says where the cluster is", () => {
    const encrypted = variant((config) => (config["homecluster:kubeconfig"] = { secure: "v1:abc" }));
    expect(() => loadStackFacts({ stack: "variant", stackFile: encrypted })).toThrow(
      new StackError(
        "homecluster:kubeconfig is encrypted, and these checks decrypt no secret: write it to a file (pulumi config get kubeconfig > kubeconfig.yaml) and run them with KUBECONFIG=kubeconfig.yaml",
      ),
    );
    const given = loadStackFacts({ stack: "variant", stackFile: encrypted, kubeconfigEnv: "/tmp/kubeconfig.yaml" });
    expect(given.kubernetes.kubeconfig).toBeUndefined();
    const plain = variant((config) => (config["homecluster:kubeconfig"] = "~/.kube/homecluster"));
    expect(loadStackFacts({ stack: "variant", stackFile: plain }).kubernetes.kubeconfig).toBe("~/.kube/homecluster");
  });

  it("reports a missing key and a stack file that is no map in one line each", () => {
    const missing = variant((config) => delete config["homecluster:kubeContext"]);
    expect(() => loadStackFacts({ stack: "variant", stackFile: missing })).toThrow(
      new StackError("Invalid configuration: homecluster:kubeContext: is required but not set"),
    );
    const list = path.join(path.dirname(missing), "Pulumi.list.yaml");
    fs.writeFileSync(list, "- a\n");
    expect(() => loadStackFacts({ stack: "list", stackFile: list })).toThrow(
      new StackError(`${list}: must be a YAML map with a 'config:' key`),
    );
  });
});
