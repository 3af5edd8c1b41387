import { createHash } from "node:crypto";
import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CATCH_ALL_RULE,
  cloudflaredDeploymentSpec,
  cloudflaredPdbSpec,
  dnsRecordComment,
  gatewayUrl,
  tunnelConfig,
  tunnelDnsRecordArgs,
  tunnelIngressRules,
  Tunnel,
  type CloudflaredDeploymentArgs,
  type TunnelArgs,
} from "../components/cloudflare-tunnel";
import type { DirectRoute, GatewayRoute, Route } from "../config";
import {
  isSecretAt,
  MOCK_TUNNEL_TOKEN,
  NAMESPACE,
  plainOccurrences,
  RELEASE,
  runProgram,
  SECRET,
  sharedRun,
  TUNNEL_CONFIG,
  type RecordedResource,
} from "./harness";

/** cloudflared's arguments: no self-update, metrics for the probes, the transport protocol, then run. */
const cloudflaredArgs = (protocol: string) => [
  "tunnel",
  "--no-autoupdate",
  "--metrics",
  "0.0.0.0:2000",
  "--protocol",
  protocol,
  "run",
];
/** The token reaches cloudflared only by reference to the Secret. */
const TOKEN_FROM_SECRET = [
  { name: "TUNNEL_TOKEN", valueFrom: { secretKeyRef: { name: "cloudflared-token", key: "token" } } },
];

const TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared";
const DNS = "cloudflare:index/dnsRecord:DnsRecord";
const RANDOM = "random:index/randomBytes:RandomBytes";
const SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const GATEWAY_URL = "http://istio-ingress.istio-ingress.svc.cluster.local:80";

const gatewayRoute = (name: string, hostname: string, service = name): GatewayRoute => ({
  kind: "gateway",
  name,
  hostname,
  configKey: `homecluster:routes[${name}]`,
  service,
  namespace: "apps",
  port: 8080,
  mesh: true,
});
const directRoute = (name: string, hostname: string, origin: string): DirectRoute => ({
  kind: "direct",
  name,
  hostname,
  configKey: `homecluster:routes[${name}]`,
  origin,
});

describe("tunnel ingress rules", () => {
  const wildcard = gatewayRoute("wildcard", "*.example.com", "catchall");
  const grafana = gatewayRoute("grafana", "grafana.example.com");
  const apex = gatewayRoute("apex", "example.com", "homepage");
  const db = directRoute("db", "db.example.com", "tcp://postgres.data.svc.cluster.local:5432");
  const deepWildcard = gatewayRoute("wildcard-lab", "*.lab.example.com");

  it("puts specific hostnames (in route order) before the wildcard and the catch-all last, without hostname", () => {
    const rules = tunnelIngressRules([wildcard, grafana, apex, db], GATEWAY_URL);
    expect(rules).toEqual([
      { hostname: "grafana.example.com", service: GATEWAY_URL },
      { hostname: "example.com", service: GATEWAY_URL },
      { hostname: "db.example.com", service: "tcp://postgres.data.svc.cluster.local:5432" },
      { hostname: "*.example.com", service: GATEWAY_URL },
      { service: "http_status:404" },
    ]);
    expect(rules.at(-1)).toEqual(CATCH_ALL_RULE);
    expect(rules.at(-1)).not.toHaveProperty("hostname");
  });

  it("orders a deeper wildcard before a shallower one", () => {
    expect(tunnelIngressRules([wildcard, deepWildcard, grafana], GATEWAY_URL).map((r) => r.hostname)).toEqual([
      "grafana.example.com",
      "*.lab.example.com",
      "*.example.com",
      undefined,
    ]);
  });

  it("sends gateway routes to the gateway URL and direct routes to their own origin", () => {
    const ssh = directRoute("ssh", "ssh.example.com", "ssh://bastion.infra.svc.cluster.local:22");
    expect(tunnelIngressRules([grafana, ssh, db], "http://gw.mesh.svc.cluster.local:8080")).toEqual([
      { hostname: "grafana.example.com", service: "http://gw.mesh.svc.cluster.local:8080" },
      { hostname: "ssh.example.com", service: "ssh://bastion.infra.svc.cluster.local:22" },
      { hostname: "db.example.com", service: "tcp://postgres.data.svc.cluster.local:5432" },
      { service: "http_status:404" },
    ]);
  });

  it("lists every hostname exactly once", () => {
    const routes: Route[] = [deepWildcard, wildcard, grafana, apex, db];
    const hostnames = tunnelIngressRules(routes, GATEWAY_URL).map((r) => r.hostname);
    expect(hostnames.filter((h) => h !== undefined).sort()).toEqual(routes.map((r) => r.hostname).sort());
    expect(new Set(hostnames).size).toBe(hostnames.length);
  });

  it("with no routes, is only the catch-all", () => {
    expect(tunnelIngressRules([], GATEWAY_URL)).toEqual([{ service: "http_status:404" }]);
  });

  it("builds the gateway URL from the gateway Service", () => {
    expect(gatewayUrl({ name: "istio-ingress", namespace: "istio-ingress", port: 80 })).toBe(GATEWAY_URL);
    expect(gatewayUrl({ name: "gw", namespace: "edge", port: 8080 })).toBe("http://gw.edge.svc.cluster.local:8080");
  });

  it("maps the origin options to the provider's fields (connect timeout in seconds)", () => {
    expect(
      tunnelConfig([grafana], GATEWAY_URL, { connectTimeoutSeconds: 15, http2Origin: true, noTlsVerify: true }),
    ).toEqual({
      ingresses: [{ hostname: "grafana.example.com", service: GATEWAY_URL }, { service: "http_status:404" }],
      originRequest: { connectTimeout: 15, http2Origin: true, noTlsVerify: true },
    });
  });
});

describe("tunnel DNS record args", () => {
  it("is a proxied CNAME with automatic TTL under the FQDN, for normal, apex and wildcard hostnames", () => {
    const comment = dnsRecordComment({ project: "homecluster", stack: "prod" });
    for (const route of [
      gatewayRoute("grafana", "grafana.example.com"),
      gatewayRoute("apex", "example.com"),
      gatewayRoute("wildcard", "*.example.com"),
    ]) {
      expect(tunnelDnsRecordArgs(route, "zone-id", "abc.cfargotunnel.com", comment)).toEqual({
        zoneId: "zone-id",
        name: route.hostname,
        type: "CNAME",
        content: "abc.cfargotunnel.com",
        proxied: true,
        ttl: 1,
        comment: "Cloudflare Tunnel route of Pulumi stack homecluster/prod; do not edit by hand",
      });
    }
  });

  it("keeps the comment within the 100 characters a free zone allows, for a long stack name", () => {
    expect(dnsRecordComment({ project: "homecluster", stack: "a-rather-long-stack-name" }).length).toBeLessThanOrEqual(
      100,
    );
  });
});

describe("cloudflared objects", () => {
  const args: CloudflaredDeploymentArgs = {
    namespace: "cloudflared",
    replicas: 3,
    protocol: "quic",
    version: "2025.11.1",
    tokenSecretName: "cloudflared-token",
    tokenHash: "hash",
  };
  const spec = cloudflaredDeploymentSpec(args) as any;
  const pod = spec.template.spec;
  const container = pod.containers[0];

  it("runs the pinned image with the token only from the Secret, the protocol from args, no auto-update", () => {
    expect(spec.replicas).toBe(3);
    expect(pod.containers).toHaveLength(1);
    expect(container.image).toBe("docker.io/cloudflare/cloudflared:2025.11.1");
    expect(container.args).toEqual(cloudflaredArgs("quic"));
    expect(container.env).toEqual(TOKEN_FROM_SECRET);
    expect(spec.template.metadata.annotations).toEqual({ "homecluster.io/tunnel-token-sha256": "hash" });
  });

  it("probes /ready on the metrics port", () => {
    expect(container.ports).toEqual([{ name: "metrics", containerPort: 2000, protocol: "TCP" }]);
    expect(container.livenessProbe).toEqual({
      httpGet: { path: "/ready", port: "metrics" },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      failureThreshold: 3,
    });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: "/ready", port: "metrics" } });
  });

  it("is hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp, no API token", () => {
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe("cloudflared");
    expect(container.resources).toEqual({
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { cpu: "1", memory: "256Mi" },
    });
  });

  it("spreads replicas over nodes softly and rolls without losing a connector", () => {
    expect(pod.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: { "app.kubernetes.io/name": "cloudflared" } },
      },
    ]);
    expect(spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(spec.selector).toEqual({ matchLabels: { "app.kubernetes.io/name": "cloudflared" } });
    expect(spec.template.metadata.labels).toEqual({ "app.kubernetes.io/name": "cloudflared" });
  });

  it("keeps one pod through disruptions", () => {
    expect(cloudflaredPdbSpec()).toEqual({
      minAvailable: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": "cloudflared" } },
    });
  });
});

describe("Tunnel under mocks with the committed config", () => {
  const run = sharedRun();

  const tunnelUrn = () => run().get(TUNNEL, "tunnel-tunnel").urn;
  // The mocks give every resource the id `<name>-id`.
  const TUNNEL_ID = "tunnel-tunnel-id";

  it("creates a remotely-managed tunnel whose secret is the RandomBytes' base64, as a secret", () => {
    const secret = run().get(RANDOM, "tunnel-secret");
    expect(secret.inputs).toEqual({ length: 32 });
    const tunnel = run().get(TUNNEL, "tunnel-tunnel");
    expect(tunnel.inputs).toEqual({
      accountId: "0123456789abcdef0123456789abcdef",
      name: "homecluster",
      configSrc: "cloudflare",
      tunnelSecret: Buffer.from("random-tunnel-secret").toString("base64"),
    });
    expect(isSecretAt(tunnel.rawInputs, "tunnelSecret")).toBe(true);
    expect(run().dependsOn(tunnel, secret)).toBe(true);
  });

  it("configures the tunnel with the committed routes: gateway routes to the gateway, ssh direct, 404 last", () => {
    const config = run().get(TUNNEL_CONFIG, "tunnel-config");
    expect(config.inputs).toEqual({
      accountId: "0123456789abcdef0123456789abcdef",
      tunnelId: TUNNEL_ID,
      config: {
        ingresses: [
          { hostname: "grafana.example.com", service: GATEWAY_URL },
          { hostname: "jellyfin.example.com", service: GATEWAY_URL },
          { hostname: "example.com", service: GATEWAY_URL },
          { hostname: "ssh.example.com", service: "ssh://bastion.infra.svc.cluster.local:22" },
          { service: "http_status:404" },
        ],
        originRequest: { connectTimeout: 30, http2Origin: false, noTlsVerify: false },
      },
    });
    expect(config.dependencies).toContain(tunnelUrn());
  });

  it("creates one protected, proxied CNAME per hostname pointing at the tunnel", () => {
    const records = run()
      .all(DNS)
      .filter((r) => r.name.startsWith("tunnel-dns-"));
    expect(records.map((r) => [r.name, r.inputs.name])).toEqual([
      ["tunnel-dns-grafana", "grafana.example.com"],
      ["tunnel-dns-jellyfin", "jellyfin.example.com"],
      ["tunnel-dns-apex", "example.com"],
      ["tunnel-dns-ssh", "ssh.example.com"],
    ]);
    for (const record of records) {
      expect(record.inputs).toEqual({
        zoneId: "fedcba9876543210fedcba9876543210",
        name: record.inputs.name,
        type: "CNAME",
        content: `${TUNNEL_ID}.cfargotunnel.com`,
        proxied: true,
        ttl: 1,
        comment: "Cloudflare Tunnel route of Pulumi stack homecluster/homecluster; do not edit by hand",
      });
      expect(record.protect).toBe(true);
      expect(record.dependencies).toContain(tunnelUrn());
    }
    expect(run().get(TUNNEL, "tunnel-tunnel").protect).toBe(true);
  });

  it("honours tunnel.protect=false on the tunnel and the records", async () => {
    const unprotected = await runProgram({ config: { tunnel: { protect: false } } });
    expect(unprotected.get(TUNNEL, "tunnel-tunnel").protect).toBe(false);
    expect(unprotected.all(DNS).filter((r) => r.name.startsWith("tunnel-dns-") && r.protect)).toEqual([]);
  });

  it("reads the token for this tunnel and stores it, as a secret, in the cloudflared namespace", () => {
    const call = run().calls.find(
      (c) => c.token === "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken",
    );
    expect(call?.inputs).toEqual({ accountId: "0123456789abcdef0123456789abcdef", tunnelId: TUNNEL_ID });
    const secret = run().get(SECRET, "tunnel-token");
    expect(secret.inputs).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "cloudflared-token", namespace: "cloudflared" },
      type: "Opaque",
      stringData: { token: MOCK_TUNNEL_TOKEN },
    });
    expect(isSecretAt(secret.rawInputs, "stringData.token")).toBe(true);
  });

  it("never has the token in plain text: not in any resource's inputs nor in a stack output", () => {
    for (const resource of run().resources) {
      expect(plainOccurrences(resource.rawInputs, MOCK_TUNNEL_TOKEN), resource.name).toEqual([]);
    }
    for (const [key, output] of Object.entries(run().outputs)) {
      if (!output.secret) expect(plainOccurrences(output.value, MOCK_TUNNEL_TOKEN), key).toEqual([]);
    }
  });

  it("creates the cloudflared namespace (restricted pod security, not enrolled here) and service account", () => {
    expect(run().get(NAMESPACE, "tunnel-namespace").inputs.metadata).toEqual({
      name: "cloudflared",
      labels: { "pod-security.kubernetes.io/enforce": "restricted" },
    });
    expect(run().get(SERVICE_ACCOUNT, "tunnel-service-account").inputs).toMatchObject({
      metadata: { name: "cloudflared", namespace: "cloudflared" },
      automountServiceAccountToken: false,
    });
  });

  it("deploys hardened cloudflared: pinned tag, replicas, token from the Secret, probes, hash annotation", () => {
    const deployment = run().get(DEPLOYMENT, "tunnel-deployment");
    const spec = deployment.inputs.spec;
    const container = spec.template.spec.containers[0];
    expect(deployment.inputs.metadata).toEqual({
      name: "cloudflared",
      namespace: "cloudflared",
      labels: { "app.kubernetes.io/name": "cloudflared" },
    });
    expect(spec.replicas).toBe(2);
    expect(container.image).toBe("docker.io/cloudflare/cloudflared:2026.8.2");
    expect(container.args).toEqual(cloudflaredArgs("http2"));
    expect(container.env).toEqual(TOKEN_FROM_SECRET);
    expect(container.livenessProbe.httpGet).toEqual({ path: "/ready", port: "metrics" });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/ready", port: "metrics" });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(spec.template.metadata.annotations).toEqual({
      "homecluster.io/tunnel-token-sha256": createHash("sha256").update(MOCK_TUNNEL_TOKEN).digest("hex"),
    });
    // The hash is deliberately plain, so the spec stays visible in preview diffs.
    expect(isSecretAt(deployment.rawInputs, "spec")).toBe(false);
  });

  it("adds a PodDisruptionBudget keeping one cloudflared up", () => {
    expect(run().get(PDB, "tunnel-pdb").inputs).toMatchObject({
      metadata: { name: "cloudflared", namespace: "cloudflared" },
      spec: { minAvailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "cloudflared" } } },
    });
  });

  it("makes only cloudflared's Deployment wait for Cilium (and its tunnel), no Cloudflare resource wait for the cluster", () => {
    const cilium = run().get(RELEASE, "cilium-release");
    const deployment = run().get(DEPLOYMENT, "tunnel-deployment");
    expect(run().dependsOn(deployment, cilium)).toBe(true);
    for (const name of ["tunnel-namespace", "tunnel-token", "tunnel-service-account", "tunnel-pdb"]) {
      const object = run().resources.find((r) => r.name === name)!;
      expect(run().dependsOn(object, cilium), name).toBe(false);
    }
    // `pulumi destroy` goes in reverse order: cloudflared stops before its tunnel is deleted.
    expect(run().dependsOn(deployment, run().get(TUNNEL, "tunnel-tunnel"))).toBe(true);
    expect(run().dependsOn(deployment, run().get(SECRET, "tunnel-token"))).toBe(true);
    const byUrn = new Map(run().resources.map((r) => [r.urn, r]));
    const closure = (resource: RecordedResource): Set<string> => {
      const seen = new Set<string>();
      const visit = (urn: string) => {
        if (seen.has(urn)) return;
        seen.add(urn);
        byUrn.get(urn)?.dependencies.forEach(visit);
      };
      resource.dependencies.forEach(visit);
      return seen;
    };
    const cloudflareResources = run().resources.filter((r) => r.type.startsWith("cloudflare:"));
    expect(cloudflareResources.length).toBeGreaterThanOrEqual(6);
    for (const resource of cloudflareResources) {
      const deps = [...closure(resource)];
      expect(
        deps.filter((urn) => urn.includes(`::${RELEASE}::`)),
        resource.name,
      ).toEqual([]);
      expect(
        deps.filter((urn) => urn.includes("::kubernetes:")),
        resource.name,
      ).toEqual([]);
    }
  });

  it("exports the tunnel id, its CNAME target and the hostnames in rule order, none of them secret", () => {
    expect(run().outputs.tunnelId).toEqual({ value: TUNNEL_ID, secret: false });
    expect(run().outputs.tunnelCname).toEqual({ value: `${TUNNEL_ID}.cfargotunnel.com`, secret: false });
    expect(run().outputs.publicHostnames).toEqual({
      value: ["grafana.example.com", "jellyfin.example.com", "example.com", "ssh.example.com"],
      secret: false,
    });
  });

  it("uses the explicit Cloudflare provider for Cloudflare resources and the k8s provider for cluster ones", () => {
    const component = run().get("homecluster:cloudflare:Tunnel", "tunnel");
    const children = run().resources.filter((r) => r.parent === component.urn);
    expect(children.map((r) => r.name).sort()).toEqual(
      [
        "tunnel-secret",
        "tunnel-tunnel",
        "tunnel-config",
        "tunnel-dns-grafana",
        "tunnel-dns-jellyfin",
        "tunnel-dns-apex",
        "tunnel-dns-ssh",
        "tunnel-namespace",
        "tunnel-token",
        "tunnel-service-account",
        "tunnel-deployment",
        "tunnel-pdb",
      ].sort(),
    );
    for (const child of children) {
      if (child.type.startsWith("cloudflare:"))
        expect(child.provider).toMatch(/^urn:.*::pulumi:providers:cloudflare::cloudflare::/);
      if (child.type.startsWith("kubernetes:"))
        expect(child.provider).toMatch(/^urn:.*::pulumi:providers:kubernetes::k8s::/);
    }
    expect(run().get("pulumi:providers:cloudflare", "cloudflare").inputs.apiToken).toBe("test-cloudflare-api-token");
  });
});

describe("Tunnel arguments, under bare mocks of another stack", () => {
  const registered: pulumi.runtime.MockResourceArgs[] = [];
  beforeAll(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          registered.push(args);
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: (args) => ({ ...args.inputs, token: "token" }),
      },
      "homecluster",
      "checks",
      false,
    );
  });
  const valid = (): TunnelArgs => ({
    accountId: "0123456789abcdef0123456789abcdef",
    zoneId: "fedcba9876543210fedcba9876543210",
    tunnelName: "homecluster",
    routes: [gatewayRoute("grafana", "grafana.example.com")],
    gateway: { name: "istio-ingress", namespace: "istio-ingress", port: 80 },
    originRequest: { connectTimeoutSeconds: 30, http2Origin: false, noTlsVerify: false },
    cloudflared: { namespace: "cloudflared", replicas: 2, protocol: "http2" },
    cloudflaredVersion: "2025.11.1",
    protect: true,
    cniReady: new pulumi.ComponentResource("test:index:Cni", "cni"),
    owner: { project: "homecluster", stack: "prod" },
  });
  const providers = () => ({
    providers: [new cloudflare.Provider("cf", { apiToken: "t" }), new k8s.Provider("k", { context: "c" })],
  });

  it("refuses to run without explicit Cloudflare and Kubernetes providers", () => {
    expect(() => new Tunnel("no-providers", valid())).toThrow("Tunnel needs an explicit cloudflare provider");
    expect(
      () => new Tunnel("no-k8s", valid(), { providers: [new cloudflare.Provider("cf-only", { apiToken: "t" })] }),
    ).toThrow("Tunnel needs an explicit kubernetes provider");
  });

  it("refuses fewer than two replicas, an unpinned image and a hostname routed twice", () => {
    const args = valid();
    expect(
      () => new Tunnel("one", { ...args, cloudflared: { ...args.cloudflared, replicas: 1 } }, providers()),
    ).toThrow("cloudflared needs at least 2 replicas, got 1");
    expect(() => new Tunnel("latest", { ...args, cloudflaredVersion: "latest" }, providers())).toThrow(
      "cloudflared version must be a release tag, got 'latest'",
    );
    const twice = [gatewayRoute("a", "a.example.com"), directRoute("a2", "a.example.com", "tcp://db:5432")];
    expect(() => new Tunnel("twice", { ...args, routes: twice }, providers())).toThrow(
      "hostname a.example.com is routed twice",
    );
  });

  it("names the owner from args, not the stack it runs in, in each DNS record's comment", async () => {
    new Tunnel("owned", valid(), providers());
    await (pulumi.runtime as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs();
    const record = registered.find((r) => r.type === DNS && r.name === "owned-dns-grafana");
    expect(record?.inputs.comment).toBe(
      "Cloudflare Tunnel route of Pulumi stack homecluster/prod; do not edit by hand",
    );
  });
});
