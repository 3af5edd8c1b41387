import { createHash } from "node:crypto";
import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { cloudflaredDeploymentSpec } from "../builders/cloudflared-workload";
import { routeSummaries, tunnelConfig, tunnelDnsRecordArgs, tunnelIngressRules } from "../builders/tunnel-config";
import { Tunnel } from "../components/cloudflare-tunnel";
import { dnsRecordComment } from "../model/dns-ownership";
import { gatewayUrl } from "../model/ingress-gateway";
import { directRoute, gateway, gatewayRoute, parsedConfig } from "./support/fixtures";
import { isSecretAt, plainOccurrences, runProgram, sharedRun, TYPES } from "./support/harness";
import { MOCK_TEAM_DOMAIN, MOCK_TUNNEL_TOKEN, mockAud, setBareMocks } from "../offline/mock-runtime";

const GATEWAY_URL = "http://istio-ingress.istio-ingress.svc.cluster.local:80";
const TOKEN_FROM_SECRET = [
  { name: "TUNNEL_TOKEN", valueFrom: { secretKeyRef: { name: "cloudflared-token", key: "token" } } },
];
const HASH_ANNOTATION = "homecluster.io/tunnel-token-sha256";
/** The rule that ends every configuration: whatever no route matched gets a 404 from the edge. */
const NOT_FOUND = { service: "http_status:404" };

describe("tunnel ingress rules", () => {
  const wildcard = gatewayRoute("*", "web", 80);
  const grafana = gatewayRoute("grafana", "monitoring", 80);
  const apex = gatewayRoute("@", "media", 3000);
  const db = directRoute("db", "tcp://postgres.data.svc.cluster.local:5432");
  const deepWildcard = gatewayRoute("*.lab", "lab", 80);

  it("puts specific hostnames (in route order) before the wildcard, and the catch-all 404 last, without hostname", () => {
    const rules = tunnelIngressRules([wildcard, grafana, apex, db], gateway);
    expect(rules).toEqual([
      { hostname: "grafana.example.com", service: GATEWAY_URL },
      { hostname: "example.com", service: GATEWAY_URL },
      { hostname: "db.example.com", service: "tcp://postgres.data.svc.cluster.local:5432" },
      { hostname: "*.example.com", service: GATEWAY_URL },
      NOT_FOUND,
    ]);
  });

  it("orders a deeper wildcard before a shallower one", () => {
    expect(tunnelIngressRules([wildcard, deepWildcard, grafana], gateway).map((r) => r.hostname)).toEqual([
      "grafana.example.com",
      "*.lab.example.com",
      "*.example.com",
      undefined,
    ]);
  });

  it("sends gateway routes to the gateway's in-cluster URL", () => {
    expect(gatewayUrl(gateway)).toBe(GATEWAY_URL);
    expect(gatewayUrl({ ...gateway, namespace: "edge", service: "gw", port: 8080 })).toBe(
      "http://gw.edge.svc.cluster.local:8080",
    );
  });

  it("with no routes, is only the catch-all", () => {
    expect(tunnelIngressRules([], gateway)).toEqual([NOT_FOUND]);
  });

  it("maps the origin options to the provider's fields (connect timeout in seconds)", () => {
    expect(
      tunnelConfig([grafana], gateway, { connectTimeoutSeconds: 15, http2Origin: true, noTlsVerify: true }),
    ).toEqual({
      ingresses: [{ hostname: "grafana.example.com", service: GATEWAY_URL }, NOT_FOUND],
      originRequest: { connectTimeout: 15, http2Origin: true, noTlsVerify: true },
    });
  });

  it("summarises each route for other stacks: through the gateway to its Service, or to its origin", () => {
    expect(routeSummaries([grafana, db], gateway)).toEqual([
      {
        hostname: "grafana.example.com",
        kind: "gateway",
        target: "istio-ingress/istio-ingress:80 → grafana.monitoring.svc.cluster.local:80",
      },
      { hostname: "db.example.com", kind: "direct", target: "tcp://postgres.data.svc.cluster.local:5432" },
    ]);
  });
});

describe("tunnel DNS records", () => {
  it("are proxied CNAMEs with automatic TTL under the FQDN, for normal, apex and wildcard hostnames", () => {
    const comment = dnsRecordComment({ project: "homecluster", stack: "prod" });
    expect(comment).toBe("Cloudflare Tunnel route of Pulumi stack homecluster/prod; do not edit by hand");
    for (const [host, name] of [
      ["grafana", "grafana.example.com"],
      ["@", "example.com"],
      ["*", "*.example.com"],
    ] as const) {
      const route = gatewayRoute(host, "web", 80);
      expect(tunnelDnsRecordArgs(route, "zone-id", "abc.cfargotunnel.com", comment)).toEqual({
        zoneId: "zone-id",
        name,
        type: "CNAME",
        content: "abc.cfargotunnel.com",
        proxied: true,
        ttl: 1,
        comment,
      });
    }
  });

  it("keep the comment within the 100 characters a free zone allows, cutting a long stack name short", () => {
    const long = `lab-${"x".repeat(96)}`; // Pulumi allows stack names of 100 characters
    const comment = dnsRecordComment({ project: "homecluster", stack: long });
    expect(comment).toBe(
      `Cloudflare Tunnel route of Pulumi stack homecluster/lab-${"x".repeat(22)}…; do not edit by hand`,
    );
    expect(comment).toHaveLength(100);
    expect(dnsRecordComment({ project: "homecluster", stack: "prod" })).toBe(
      "Cloudflare Tunnel route of Pulumi stack homecluster/prod; do not edit by hand",
    );
  });
});

describe("cloudflared's workload", () => {
  const spec = cloudflaredDeploymentSpec({
    cloudflared: { namespace: "cloudflared", replicas: 3, protocol: "quic" },
    version: "2026.8.2",
    podAnnotations: { [HASH_ANNOTATION]: "hash" },
  }) as any;
  const pod = spec.template.spec;
  const container = pod.containers[0];

  it("runs the pinned image with the token only from the Secret, the configured protocol, no auto-update", () => {
    expect(spec.replicas).toBe(3);
    expect(pod.containers).toHaveLength(1);
    expect(container.image).toBe("docker.io/cloudflare/cloudflared:2026.8.2");
    expect(container.args).toEqual([
      "tunnel",
      "--no-autoupdate",
      "--metrics",
      "0.0.0.0:2000",
      "--protocol",
      "quic",
      "run",
    ]);
    expect(container.env).toEqual(TOKEN_FROM_SECRET);
    expect(spec.template.metadata.annotations).toEqual({ [HASH_ANNOTATION]: "hash" });
  });

  it("probes /ready on the metrics port", () => {
    expect(container.ports).toEqual([{ name: "metrics", containerPort: 2000, protocol: "TCP" }]);
    expect(container.livenessProbe).toEqual({
      httpGet: { path: "/ready", port: "metrics" },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      failureThreshold: 3,
    });
    expect(container.readinessProbe).toMatchObject({
      httpGet: { path: "/ready", port: "metrics" },
      failureThreshold: 1,
    });
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

  it("spreads replicas over nodes softly, rolls without losing a connector, and keeps one through disruptions", () => {
    const labels = { "app.kubernetes.io/name": "cloudflared" };
    expect(pod.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: labels },
      },
    ]);
    expect(spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(spec.selector).toEqual({ matchLabels: labels });
    expect(spec.template.metadata.labels).toEqual(labels);
  });
});

/** Every resource `resource` waits for, directly or through others. */
describe("the Tunnel component with the test stack's config", () => {
  const run = sharedRun();
  // The mocks give every resource the id `<name>-id`.
  const TUNNEL_ID = "tunnel-tunnel-id";

  it("creates a remotely-managed tunnel whose secret is 32 random bytes, as a secret", () => {
    expect(run().get(TYPES.randomBytes, "tunnel-secret").inputs).toEqual({ length: 32 });
    const tunnel = run().get(TYPES.tunnel, "tunnel-tunnel");
    expect(tunnel.inputs).toMatchObject({
      accountId: "0123456789abcdef0123456789abcdef",
      name: "homecluster",
      configSrc: "cloudflare",
    });
    expect(isSecretAt(tunnel.rawInputs, "tunnelSecret")).toBe(true);
  });

  it("configures the tunnel with a rule per test stack route in order, Access checked on grafana and ssh, a 404 last", () => {
    // The team is the first label of the team domain the (mocked) Zero Trust organisation has.
    expect(MOCK_TEAM_DOMAIN).toBe("homecluster.cloudflareaccess.com");
    const access = (app: string) => ({
      originRequest: { access: { required: true, teamName: "homecluster", audTags: [mockAud(app)] } },
    });
    expect(run().get(TYPES.tunnelConfig, "tunnel-config").inputs).toEqual({
      accountId: "0123456789abcdef0123456789abcdef",
      tunnelId: TUNNEL_ID,
      config: {
        ingresses: [
          { hostname: "grafana.example.com", service: GATEWAY_URL, ...access("access-app-grafana") },
          { hostname: "jellyfin.example.com", service: GATEWAY_URL },
          { hostname: "example.com", service: GATEWAY_URL },
          {
            hostname: "ssh.example.com",
            service: "ssh://bastion.infra.svc.cluster.local:22",
            ...access("access-app-ssh"),
          },
          NOT_FOUND,
        ],
        // The schema's defaults: the test stack file sets no tunnel.originRequest.
        originRequest: { connectTimeout: 30, http2Origin: false, noTlsVerify: false },
      },
    });
  });

  it("creates one protected, proxied CNAME per route pointing at the tunnel, naming this stack as owner", () => {
    const records = run().all(TYPES.dnsRecord);
    expect(records.map((r) => [r.name, r.inputs.name]).sort()).toEqual([
      ["tunnel-dns-apex", "example.com"],
      ["tunnel-dns-grafana", "grafana.example.com"],
      ["tunnel-dns-jellyfin", "jellyfin.example.com"],
      ["tunnel-dns-ssh", "ssh.example.com"],
    ]);
    for (const record of records) {
      expect(record.inputs, record.name).toEqual({
        zoneId: "fedcba9876543210fedcba9876543210",
        name: record.inputs.name,
        type: "CNAME",
        content: `${TUNNEL_ID}.cfargotunnel.com`,
        proxied: true,
        ttl: 1,
        comment: "Cloudflare Tunnel route of Pulumi stack homecluster/homecluster; do not edit by hand",
      });
      expect(record.protect, record.name).toBe(true);
    }
    expect(run().get(TYPES.tunnel, "tunnel-tunnel").protect).toBe(true);
  });

  it("replaces the tunnel and each CNAME by deleting first: a tunnel name and a record's name are taken until then", () => {
    const replaced = [run().get(TYPES.tunnel, "tunnel-tunnel"), ...run().all(TYPES.dnsRecord)];
    expect(replaced.map((r) => [r.name, r.deleteBeforeReplace])).toEqual(replaced.map((r) => [r.name, true]));
    // Nothing else is: the configuration is updated in place, the Kubernetes side creates before it deletes.
    const others = run().resources.filter((r) => r.custom && !replaced.includes(r) && r.deleteBeforeReplace);
    expect(others.map((r) => r.name)).toEqual([]);
  });

  it("reads the token for this tunnel and keeps it, as a secret, only in the cloudflared namespace's Secret", () => {
    const call = run().calls.find((c) => c.token.endsWith(":getZeroTrustTunnelCloudflaredToken"));
    expect(call?.inputs).toEqual({ accountId: "0123456789abcdef0123456789abcdef", tunnelId: TUNNEL_ID });
    const secret = run().get(TYPES.secret, "tunnel-token");
    expect(secret.inputs).toMatchObject({
      metadata: { name: "cloudflared-token", namespace: "cloudflared" },
      stringData: { token: MOCK_TUNNEL_TOKEN },
    });
    expect(isSecretAt(secret.rawInputs, "stringData.token")).toBe(true);
    for (const resource of run().resources) {
      expect(plainOccurrences(resource.rawInputs, MOCK_TUNNEL_TOKEN), resource.name).toEqual([]);
    }
  });

  it("runs the test stack's config's cloudflared in its restricted namespace, the token's hash on the pods", () => {
    expect(run().get(TYPES.namespace, "tunnel-namespace").inputs.metadata).toEqual({
      name: "cloudflared",
      labels: { "pod-security.kubernetes.io/enforce": "restricted" },
    });
    expect(run().get(TYPES.serviceAccount, "tunnel-service-account").inputs).toMatchObject({
      metadata: { name: "cloudflared", namespace: "cloudflared" },
      automountServiceAccountToken: false,
    });
    const deployment = run().get(TYPES.deployment, "tunnel-deployment");
    const hash = createHash("sha256").update(MOCK_TUNNEL_TOKEN).digest("hex");
    // The test stack file sets no tunnel.cloudflared: two replicas over HTTP/2, the schema's defaults.
    expect(deployment.inputs.metadata).toMatchObject({ name: "cloudflared", namespace: "cloudflared" });
    expect(deployment.inputs.spec).toMatchObject({
      replicas: 2,
      template: {
        metadata: { annotations: { [HASH_ANNOTATION]: hash } },
        spec: { serviceAccountName: "cloudflared" },
      },
    });
    const [container] = deployment.inputs.spec.template.spec.containers;
    expect(container.image).toBe("docker.io/cloudflare/cloudflared:2026.8.2");
    expect(container.args).toEqual([
      "tunnel",
      "--no-autoupdate",
      "--metrics",
      "0.0.0.0:2000",
      "--protocol",
      "http2",
      "run",
    ]);
    expect(container.env).toEqual(TOKEN_FROM_SECRET);
    // The hash is deliberately plain, so the spec stays visible in preview diffs.
    expect(isSecretAt(deployment.rawInputs, "spec")).toBe(false);
    expect(run().get(TYPES.pdb, "tunnel-pdb").inputs).toMatchObject({
      metadata: { namespace: "cloudflared" },
      spec: { minAvailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "cloudflared" } } },
    });
  });

  it("makes only cloudflared's Deployment wait for Cilium; no Cloudflare resource waits for anything in the cluster", () => {
    const cilium = run().get(TYPES.release, "cilium-release");
    const deployment = run().get(TYPES.deployment, "tunnel-deployment");
    expect(run().dependsOn(deployment, cilium)).toBe(true);
    // `pulumi destroy` goes in reverse order: cloudflared stops before its tunnel is deleted.
    expect(run().dependsOn(deployment, run().get(TYPES.tunnel, "tunnel-tunnel"))).toBe(true);
    expect(run().dependsOn(deployment, run().get(TYPES.secret, "tunnel-token"))).toBe(true);
    for (const name of ["tunnel-namespace", "tunnel-token", "tunnel-service-account", "tunnel-pdb"]) {
      expect(
        run().dependsOn(
          run().resources.find((r) => r.name === name)!,
          cilium,
        ),
        name,
      ).toBe(false);
    }
    // The deployment waits for the release through the closure too: the check below would see such an edge.
    expect(
      run()
        .waitsFor(deployment)
        .map((r) => r.name),
    ).toContain("cilium-release");
    // Every Cloudflare resource of the stack: the tunnel's, its records, Access's applications and policies.
    const cloudflare = run().resources.filter((r) => r.type.startsWith("cloudflare:"));
    expect(cloudflare.map((r) => r.name)).toEqual(expect.arrayContaining(["access-app-grafana", "tunnel-dns-ssh"]));
    for (const resource of cloudflare) {
      const inCluster = run()
        .waitsFor(resource)
        .filter((r) => r.type.startsWith("kubernetes:"));
      expect(
        inCluster.map((r) => r.name),
        resource.name,
      ).toEqual([]);
    }
  });

  it("exports the tunnel id, its CNAME target and the hostnames in rule order", () => {
    expect(run().output("tunnelId")).toBe(TUNNEL_ID);
    expect(run().output("tunnelCname")).toBe(`${TUNNEL_ID}.cfargotunnel.com`);
    expect(run().output("publicHostnames")).toEqual([
      "grafana.example.com",
      "jellyfin.example.com",
      "example.com",
      "ssh.example.com",
    ]);
  });
});

describe("tunnel.protect: false", () => {
  it("leaves the tunnel and its records unprotected", async () => {
    const unprotected = await runProgram({ config: { tunnel: { protect: false } } });
    expect(unprotected.get(TYPES.tunnel, "tunnel-tunnel").protect).toBe(false);
    expect(unprotected.all(TYPES.dnsRecord).filter((r) => r.protect)).toEqual([]);
  });
});

describe("the Tunnel component's providers and owner, under bare mocks of another stack", () => {
  const registered: pulumi.runtime.MockResourceArgs[] = [];
  beforeAll(async () => {
    await setBareMocks("checks", registered);
  });
  const args = () => {
    const config = parsedConfig();
    return {
      tunnel: config.tunnel,
      namespace: config.namespaces.cloudflared,
      accountId: config.cloudflareAccountId,
      zoneId: config.cloudflareZoneId,
      routes: [gatewayRoute("grafana", "monitoring", 80)],
      gateway,
      version: config.versions.cloudflared,
      owner: { project: "homecluster", stack: "prod" },
      cilium: new pulumi.ComponentResource("test:index:Cilium", "cilium"),
      adopt: config.adopt,
    };
  };

  it("refuses to run without explicit Cloudflare and Kubernetes providers", () => {
    expect(() => new Tunnel("no-providers", args())).toThrow("Tunnel needs an explicit cloudflare provider");
    expect(
      () => new Tunnel("no-k8s", args(), { providers: [new cloudflare.Provider("cf-only", { apiToken: "t" })] }),
    ).toThrow("Tunnel needs an explicit kubernetes provider");
  });

  it("names the owner from args, not the stack it runs in, in each DNS record's comment", async () => {
    new Tunnel("owned", args(), {
      providers: [new cloudflare.Provider("cf", { apiToken: "t" }), new k8s.Provider("k", { context: "c" })],
    });
    await (pulumi.runtime as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs();
    const record = registered.find((r) => r.type === TYPES.dnsRecord && r.name === "owned-dns-grafana");
    expect(record?.inputs.comment).toBe(
      "Cloudflare Tunnel route of Pulumi stack homecluster/prod; do not edit by hand",
    );
  });
});
