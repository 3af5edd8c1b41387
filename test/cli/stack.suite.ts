/**
 * cli/stack: the CLI's door into the program. The stack file is read as the Pulumi CLI hands it over, the program
 * runs offline, and the facts the checks get are read off its resource graph. Expectations are written out, so a
 * change in what a component creates shows here; the last test adds a component's release and namespace through a
 * fixture and finds them everywhere the commands look, with nothing else edited.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { StackError } from "../../cli/stack/errors";
import type { StackFacts } from "../../cli/stack/facts";
import { buildPlan } from "../../cli/stack/plan-model";
import { facts as testFacts, readStack, variant } from "./fixtures";

describe("loadStack", () => {
  let facts: StackFacts;
  beforeAll(async () => {
    facts = await testFacts();
  });

  it("applies Pulumi.yaml's defaults to the keys the stack file leaves out", () => {
    expect(facts.kubernetes.kubeconfig).toBeUndefined();
    expect(facts.tunnel.name).toBe("homecluster");
    expect(facts.tunnel.cloudflared).toEqual({ kind: "Deployment", namespace: "cloudflared", name: "cloudflared" });
    expect(facts.externalDns.deployment).toEqual({
      kind: "Deployment",
      namespace: "external-dns",
      name: "external-dns",
    });
  });

  it("reads what the tunnel serves off the program's tunnel configuration, in ingress-rule order", () => {
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

  it("reads the releases, the namespaces it needs, the mesh and the objects it creates off the graph", () => {
    expect(facts.kubernetes.releases.map((r) => `${r.namespace}/${r.release}:${r.chart}@${r.version}`)).toEqual([
      "kube-system/cilium:cilium@1.20.0",
      "istio-system/istio-base:base@1.30.3",
      "istio-system/istiod:istiod@1.30.3",
      "external-dns/external-dns:external-dns@1.21.1",
      "istio-system/ztunnel:ztunnel@1.30.3",
      "istio-system/istio-cni:cni@1.30.3",
      "istio-ingress/istio-ingress:gateway@1.30.3",
    ]);
    expect(facts.kubernetes.namespaces).toEqual([
      {
        name: "media",
        neededBy: [
          "read by mesh-namespace-media",
          "AuthorizationPolicy allow-same-namespace",
          "AuthorizationPolicy allow-gateway-to-jellyfin",
          "AuthorizationPolicy allow-gateway-to-apex",
          "VirtualService jellyfin",
          "VirtualService apex",
          "patched by mesh-enrol-media",
        ],
      },
    ]);
    expect(facts.kubernetes.kubeProxyReplacement).toBe(true);
    expect(facts.kubernetes.wireguard).toBe(true);
    expect(facts.istio.meshNamespaces.sort()).toEqual(["cloudflared", "media"]);
    expect(facts.kubernetes.objects.map((o) => `${o.kind} ${o.namespace ?? "-"}/${o.name}`).sort()).toEqual([
      "AuthorizationPolicy istio-ingress/allow-http-ingress",
      "AuthorizationPolicy istio-system/allow-nothing",
      "AuthorizationPolicy media/allow-gateway-to-apex",
      "AuthorizationPolicy media/allow-gateway-to-jellyfin",
      "AuthorizationPolicy media/allow-same-namespace",
      "CiliumClusterwideNetworkPolicy -/allow-ambient-probes",
      "CiliumL2AnnouncementPolicy -/cilium-l2",
      "CiliumLoadBalancerIPPool -/cilium-lb-pool",
      "Deployment cloudflared/cloudflared",
      "Gateway istio-ingress/public",
      "Namespace -/cloudflared",
      "Namespace -/external-dns",
      "Namespace -/istio-ingress",
      "Namespace -/istio-system",
      "PeerAuthentication istio-system/default",
      "PodDisruptionBudget cloudflared/cloudflared",
      "PodDisruptionBudget istio-ingress/istio-ingress-pdb",
      "Secret cloudflared/cloudflared-token",
      "Secret external-dns/cloudflare-api-token",
      "ServiceAccount cloudflared/cloudflared",
      "VirtualService media/apex",
      "VirtualService media/jellyfin",
    ]);
    // What `pulumi import` would need to adopt one: its place in the graph.
    expect(facts.kubernetes.objects.find((o) => o.name === "istio-system")?.pulumi).toEqual({
      type: "kubernetes:core/v1:Namespace",
      name: "istio-system-namespace",
      urn: "urn:pulumi:cli-test::homecluster::homecluster:mesh:IstioAmbient$kubernetes:core/v1:Namespace::istio-system-namespace",
      parent: "urn:pulumi:cli-test::homecluster::homecluster:mesh:IstioAmbient::istio",
    });
  });

  it("runs each chart's workloads as the chart declares them, and the stack's own", () => {
    expect(facts.workloads.map((w) => `${w.component}: ${w.kind} ${w.namespace}/${w.name}`)).toEqual([
      "Cilium: DaemonSet kube-system/cilium",
      "Cilium: DaemonSet kube-system/cilium-envoy",
      "Cilium: Deployment kube-system/cilium-operator",
      "Cilium: Deployment kube-system/hubble-relay",
      "Cilium: Deployment kube-system/hubble-ui",
      "Istio: Deployment istio-system/istiod",
      "external-dns: Deployment external-dns/external-dns",
      "Istio: DaemonSet istio-system/ztunnel",
      "Istio: DaemonSet istio-system/istio-cni-node",
      "Istio: Deployment istio-ingress/istio-ingress",
      "Tunnel: Deployment cloudflared/cloudflared",
    ]);
  });

  it("knows the LB pool and the gateway's Service from the values the program renders", () => {
    expect(facts.cilium.lbPool.contains("192.168.1.239")).toBe(true);
    expect(facts.cilium.lbPool.contains("192.168.1.240")).toBe(false);
    expect(facts.cilium.lbPool.object.spec).toEqual({ blocks: [{ cidr: "192.168.1.224/28" }] });
    expect(facts.gateway).toEqual({
      namespace: "istio-ingress",
      service: "istio-ingress",
      serviceType: "LoadBalancer",
      loadBalancerIP: "192.168.1.225",
    });
    expect(facts.routes).toEqual([
      {
        configKey: "homecluster:routes[0]",
        hostname: "jellyfin.example.com",
        service: "jellyfin",
        namespace: "media",
        port: 8096,
        allowPort: 8096,
      },
      {
        configKey: "homecluster:routes[1]",
        hostname: "example.com",
        service: "homepage",
        namespace: "media",
        port: 3000,
        allowPort: 3000,
      },
    ]);
  });

  it("asks the token for what the graph's Cloudflare resources and lookups need", async () => {
    expect(facts.cloudflare).toMatchObject({ access: true, mintsToken: true, teamDomain: "home.cloudflareaccess.com" });
    // The test stack names its team domain, so nothing is looked up.
    expect(facts.cloudflare.tokenNeeds.map((n) => `${n.group}@${n.scope}`)).toEqual([
      "Cloudflare Tunnel Write@account",
      "DNS Write@zone",
      "Zone Read@zone",
      "API Tokens Write@user",
      "Access: Apps and Policies Write@account",
    ]);
    const given = await readStack({
      stack: "variant",
      stackFile: variant((config) => (config["homecluster:externalDnsApiToken"] = { secure: "v1:x" })),
    });
    expect(given.facts.cloudflare.mintsToken).toBe(false);
    expect(given.facts.cloudflare.tokenNeeds.map((n) => n.group)).not.toContain("API Tokens Write");
    const lookedUp = await readStack({
      stack: "variant",
      stackFile: variant((config) => delete (config["homecluster:access"] as Record<string, unknown>).teamDomain),
    });
    expect(lookedUp.facts.cloudflare.tokenNeeds.map((n) => n.group)).toContain(
      "Access: Organizations, Identity Providers, and Groups Read",
    );
    // The team is Cloudflare's to say: cloudflared's rules require Access, of a team known only after up.
    expect(lookedUp.facts.tunnel.config.ingress[2]).toEqual({
      hostname: "ssh.example.com",
      service: "ssh://nas.lan:22",
      access: {},
    });
    const open = await readStack({
      stack: "variant",
      stackFile: variant((config) => {
        const routes = config["homecluster:routes"] as Record<string, unknown>[];
        config["homecluster:routes"] = routes.map(({ access: _access, ...route }) =>
          "origin" in route ? { ...route, public: true } : route,
        );
      }),
    });
    expect(open.facts.cloudflare.access).toBe(false);
    expect(open.facts.cloudflare.tokenNeeds.map((n) => n.group).filter((g) => g.startsWith("Access"))).toEqual([]);
  });

  it("follows the chart values: kube-proxy replacement, encryption and Hubble off", async () => {
    const off = await readStack({
      stack: "variant",
      stackFile: variant((config) => {
        const cilium = config["homecluster:cilium"] as Record<string, unknown>;
        cilium.encryption = "none";
        cilium.values = { kubeProxyReplacement: false, hubble: { relay: { enabled: false }, ui: { enabled: false } } };
      }),
    });
    expect(off.facts.kubernetes.kubeProxyReplacement).toBe(false);
    expect(off.facts.kubernetes.wireguard).toBe(false);
    expect(off.facts.workloads.map((w) => w.name)).not.toContain("hubble-relay");
    expect(off.facts.workloads.map((w) => w.name)).not.toContain("hubble-ui");
  });

  it("refuses an encrypted homecluster:kubeconfig unless $KUBECONFIG says where the cluster is", async () => {
    const encrypted = variant((config) => (config["homecluster:kubeconfig"] = { secure: "v1:abc" }));
    await expect(readStack({ stack: "variant", stackFile: encrypted })).rejects.toThrow(
      new StackError(
        "homecluster:kubeconfig is encrypted, and these checks decrypt no secret: write it to a file (pulumi config get kubeconfig > kubeconfig.yaml) and run them with KUBECONFIG=kubeconfig.yaml",
      ),
    );
    const given = await readStack({ stack: "variant", stackFile: encrypted, kubeconfigEnv: "/tmp/kubeconfig.yaml" });
    expect(given.facts.kubernetes.kubeconfig).toBeUndefined();
    const plain = variant((config) => (config["homecluster:kubeconfig"] = "~/.kube/homecluster"));
    expect((await readStack({ stack: "variant", stackFile: plain })).facts.kubernetes.kubeconfig).toBe(
      "~/.kube/homecluster",
    );
  });

  it("reports a missing key and a stack file that is no map in one line each", async () => {
    const missing = variant((config) => delete config["homecluster:kubeContext"]);
    await expect(readStack({ stack: "variant", stackFile: missing })).rejects.toThrow(
      new StackError(
        "validating stack config: Stack 'variant' is missing configuration value 'homecluster:kubeContext'",
      ),
    );
    const list = path.join(path.dirname(missing), "Pulumi.list.yaml");
    fs.writeFileSync(list, "- a\n");
    await expect(readStack({ stack: "list", stackFile: list })).rejects.toThrow(
      new StackError(`${list}: must be a YAML map with a 'config:' key`),
    );
  });
});

describe("a Helm release and a namespace added to a component", () => {
  it("show up in the plan's preconditions, preflight's and doctor's facts, with nothing else edited", async () => {
    // The program as it is, plus what a change to components/istio.ts would add: a seventh release in a namespace
    // of its own, and a patch of a namespace the stack does not create.
    const load = async () => {
      vi.resetModules();
      const program = (await import("../../index.js")) as Record<string, unknown>;
      const { IstioAmbient } = await import("../../components/istio.js");
      const component = new pulumi.ComponentResource("homecluster:mesh:Extra", "extra");
      // Parented to a new component of the mesh's kind, as a release inside IstioAmbient would be.
      const namespace = new k8s.core.v1.Namespace(
        "extra-namespace",
        { metadata: { name: "kiali" } },
        { parent: component },
      );
      new k8s.helm.v3.Release(
        "extra-kiali",
        {
          name: "kiali",
          chart: "kiali-server",
          version: "2.20.0",
          namespace: "kiali",
          repositoryOpts: { repo: "https://kiali.org/helm-charts" },
        },
        { parent: component, dependsOn: [namespace] },
      );
      new k8s.core.v1.NamespacePatch(
        "extra-label",
        { metadata: { name: "observability", labels: { team: "ops" } } },
        { parent: component },
      );
      void IstioAmbient;
      return program;
    };
    const stack = await readStack({ load });
    expect(stack.facts.kubernetes.releases).toContainEqual(
      expect.objectContaining({
        release: "kiali",
        namespace: "kiali",
        chart: "kiali-server",
        version: "2.20.0",
        // A chart the stack does not pin keeps its release name as its adoption key.
        key: "kiali",
        adopted: false,
      }),
    );
    expect(stack.facts.kubernetes.objects.map((o) => `${o.kind} ${o.name}`)).toContain("Namespace kiali");
    expect(stack.facts.kubernetes.namespaces).toContainEqual({
      name: "observability",
      neededBy: ["patched by extra-label"],
    });
    const plan = buildPlan(stack);
    expect(plan.preconditions.releases.map((r) => r.release)).toContain("kiali");
    expect(plan.preconditions.namespaces.map((n) => n.name)).toContain("observability");
    expect(plan.preconditions.assumptions.join("\n")).toContain("kiali/kiali");
  });
});
