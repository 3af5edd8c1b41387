import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config/issues";
import { parseConfigValues } from "../config/load";
import type { HomeclusterConfig } from "../config/schema";
import { warnings } from "../config/warnings";
import { normaliseRoutes } from "../config/routes";
import { CONFIG_KEYS, configSchema, secretKeys } from "../config/schema";
import { readProjectFile } from "../offline/stack-files";
import { defaultVersions } from "../versions";
import { parsedConfig } from "./support/fixtures";
import {
  cliConfig,
  editStackFile,
  loadProgram,
  runProgramError,
  fixtureConfig,
  STACK,
  type ConfigValues,
} from "./support/harness";
import { runUnderMocks } from "../offline/mock-runtime";

const parse = (overrides: ConfigValues = {}): HomeclusterConfig => parsedConfig(overrides);

/** Parses the test stack's config plus `overrides`, expecting failure; returns the message. */
function failure(overrides: ConfigValues): string {
  try {
    parse(overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(pulumi.RunError);
    return (error as Error).message;
  }
  throw new Error("expected the config to be rejected");
}

const fixture = fixtureConfig();
const cilium = fixture.cilium as Record<string, unknown>;
const network = fixture.network as Record<string, unknown>;

describe("the test stack's config", () => {
  it("loads with defaults applied in one place", () => {
    const config = parse();
    expect(config.distribution).toBe("talos");
    expect(config.cilium.k8sServiceHost).toBe("localhost");
    expect(config.cilium.k8sServicePort).toBe(7445);
    expect(config.cilium.k8sClientRateLimit).toEqual({ qps: 30, burst: 60 });
    expect(config.versions).toEqual(defaultVersions);
    expect(config.istio.defaultDeny).toBe(true);
    expect(config.istio.allowSameNamespace).toBe(true);
    expect(config.tunnel).toMatchObject({
      name: "homecluster",
      protect: true,
      cloudflared: { replicas: 2, protocol: "http2" },
    });
    expect(config.externalDns).toMatchObject({ policy: "sync", proxied: false, txtOwnerId: "homecluster-homecluster" });
  });

  it("normalises routes: relative, apex, direct", () => {
    const backend = (service: string, namespace: string, port: number, targetPort?: number) => ({
      service,
      namespace,
      port,
      ...(targetPort ? { targetPort } : {}),
      mesh: true,
    });
    expect(parse().routes).toEqual([
      {
        kind: "gateway",
        hostname: "grafana.example.com",
        name: "grafana",
        configKey: "homecluster:routes[0]",
        namespace: "monitoring",
        mesh: true,
        backend: backend("grafana", "monitoring", 80, 3000),
        access: ["admins"],
      },
      {
        kind: "gateway",
        hostname: "jellyfin.example.com",
        name: "jellyfin",
        configKey: "homecluster:routes[1]",
        namespace: "media",
        mesh: true,
        backend: backend("jellyfin", "media", 8096),
        access: [],
      },
      {
        kind: "gateway",
        hostname: "example.com",
        name: "apex",
        configKey: "homecluster:routes[2]",
        namespace: "media",
        mesh: true,
        backend: backend("homepage", "media", 3000),
        access: [],
      },
      {
        kind: "direct",
        hostname: "ssh.example.com",
        name: "ssh",
        configKey: "homecluster:routes[3]",
        origin: "ssh://bastion.infra.svc.cluster.local:22",
        backend: backend("bastion", "infra", 22),
        access: ["admins"],
      },
    ]);
  });

  it("takes a route without a Service as one an application stack in its namespace binds", () => {
    const routes = parse({ routes: [{ host: "whoami", namespace: "media" }] }).routes;
    expect(routes).toEqual([
      {
        kind: "gateway",
        hostname: "whoami.example.com",
        name: "whoami",
        configKey: "homecluster:routes[0]",
        namespace: "media",
        mesh: true,
        access: [],
      },
    ]);
  });

  it("overrides a pinned version from config", () => {
    expect(parse({ versions: { cilium: "1.20.1" } }).versions).toEqual({ ...defaultVersions, cilium: "1.20.1" });
  });

  it("defaults the API port to 6443 off Talos and takes the host from config", () => {
    const config = parse({ distribution: "kubeadm", cilium: { ...cilium, k8sServiceHost: "192.168.1.10" } });
    expect(config.cilium.k8sServiceHost).toBe("192.168.1.10");
    expect(config.cilium.k8sServicePort).toBe(6443);
  });
});

describe("warnings", () => {
  it("has nothing to say about the test stack's config but its LAN gateway", () => {
    expect(warnings(parse())).toEqual([
      "homecluster:istio.gateway.serviceType is LoadBalancer: every gateway route is also served on the LAN at 192.168.1.225",
    ]);
  });

  it("names each setting that weakens the stack or surprises a reader", () => {
    const istio = fixture.istio as Record<string, unknown>;
    const routes = [
      { host: "wiki", service: "wiki", namespace: "legacy", port: 80, mesh: false },
      { host: "a.lab.example.com", service: "a", namespace: "media", port: 80 },
    ];
    const config = parse({
      routes,
      tunnel: { protect: false },
      externalDns: { proxied: true },
      istio: {
        ...istio,
        defaultDeny: false,
        gateway: { serviceType: "ClusterIP" },
        mtlsExceptions: [{ namespace: "media", selector: { app: "jellyfin" }, ports: [8096] }],
      },
    });
    expect(warnings(config)).toEqual([
      "homecluster:tunnel.protect is false: a destroy deletes the tunnel and its DNS records, and a replacement (another account, zone or tunnel config source) deletes them before it creates the new ones: every public route is down in between",
      "homecluster:istio.defaultDeny is false: every mesh workload accepts any mesh peer",
      "homecluster:externalDns.proxied is true: records of LAN addresses stop working behind Cloudflare's proxy",
      "homecluster:routes[0] (wiki.example.com) stays outside the mesh in 'legacy': no policy protects it",
      "homecluster:routes[1] (a.lab.example.com) is more than one level below example.com: Cloudflare's free Universal SSL certificate does not cover it; order an Advanced Certificate for it or use a one-level name",
      "homecluster:istio.mtlsExceptions[0]: pods app=jellyfin in 'media' accept plaintext on ports 8096",
    ]);
  });
});

describe("normaliseRoutes", () => {
  it("keeps a route outside the mesh when it says mesh: false, and takes a direct route's targetPort", () => {
    const { routes, issues } = normaliseRoutes(
      [
        { kind: "gateway", host: "wiki", service: "wiki", namespace: "legacy", port: 80, mesh: false },
        { kind: "direct", host: "db", origin: "tcp://postgres.data.svc:5432", targetPort: 15432, public: true },
        { kind: "direct", host: "nas", origin: "https://192.168.1.10:5001" },
      ],
      { domain: "example.com", meshNamespaces: ["data"], accessPolicies: [] },
    );
    expect(issues).toEqual([]);
    expect(routes).toEqual([
      {
        kind: "gateway",
        hostname: "wiki.example.com",
        name: "wiki",
        configKey: "homecluster:routes[0]",
        namespace: "legacy",
        mesh: false,
        backend: { service: "wiki", namespace: "legacy", port: 80, mesh: false },
        access: [],
      },
      {
        kind: "direct",
        hostname: "db.example.com",
        name: "db",
        configKey: "homecluster:routes[1]",
        origin: "tcp://postgres.data.svc:5432",
        backend: { service: "postgres", namespace: "data", port: 5432, targetPort: 15432, mesh: true },
        access: [],
      },
      {
        kind: "direct",
        hostname: "nas.example.com",
        name: "nas",
        configKey: "homecluster:routes[2]",
        origin: "https://192.168.1.10:5001",
        access: [],
      },
    ]);
  });

  it("finds in-cluster origins with and without the cluster domain, with scheme default ports", () => {
    const origins = ["ssh://bastion.infra.svc.cluster.local", "http://web.infra.svc", "https://web.infra.svc"];
    const { routes } = normaliseRoutes(
      origins.map((origin, i) => ({ kind: "direct" as const, host: `o${i}`, origin, public: true as const })),
      { domain: "example.com", meshNamespaces: ["infra"], accessPolicies: [] },
    );
    expect(routes.map((r) => (r.kind === "direct" ? r.backend : undefined))).toEqual([
      { service: "bastion", namespace: "infra", port: 22, mesh: true },
      { service: "web", namespace: "infra", port: 80, mesh: true },
      { service: "web", namespace: "infra", port: 443, mesh: true },
    ]);
  });

  it("accepts wildcards (below the domain or a name in it) and absolute hostnames within the domain", () => {
    const hosts = ["*", "a.b.example.com", "*.lab", "*.lab.example.com"];
    const { routes, issues } = normaliseRoutes(
      hosts.map((host, i) => ({ kind: "gateway" as const, host, service: `s${i}`, namespace: "web", port: 80 })),
      { domain: "example.com", meshNamespaces: ["web"], accessPolicies: [] },
    );
    expect(routes.map((r) => [r.hostname, r.name])).toEqual([
      ["*.example.com", "wildcard"],
      ["a.b.example.com", "a-b"],
      ["*.lab.example.com", "wildcard-lab"],
    ]);
    // The same wildcard, written absolutely.
    expect(issues).toEqual([
      { key: "homecluster:routes[3].host", message: "*.lab.example.com is already routed by homecluster:routes[2]" },
    ]);
    expect(
      normaliseRoutes([{ kind: "gateway", host: "*.*", service: "s", namespace: "web", port: 80 }], {
        domain: "example.com",
        meshNamespaces: ["web"],
        accessPolicies: [],
      }).issues,
    ).toEqual([{ key: "homecluster:routes[0].host", message: "'*.*' is not a valid hostname" }]);
  });
});

describe("bad config fails with one message naming the key", () => {
  const cases: [string, ConfigValues, RegExp][] = [
    ["a bad domain", { domain: "https://example.com" }, /homecluster:domain: must be a lower-case DNS name/],
    [
      "a bad CIDR in the LB pool",
      { cilium: { ...cilium, lbPool: [{ cidr: "192.168.1.300/28" }] } },
      /homecluster:cilium\.lbPool\[0\]\.cidr: must be a network in CIDR form/,
    ],
    [
      "a CIDR with host bits set",
      { network: { ...network, serviceCidr: "10.96.0.1/12" } },
      /homecluster:network\.serviceCidr: must be a network in CIDR form/,
    ],
    [
      "an LB pool overlapping the pod network",
      { cilium: { ...cilium, lbPool: [{ cidr: "10.244.10.0/24" }] } },
      /homecluster:cilium\.lbPool\[0\]: 10\.244\.10\.0\/24 overlaps homecluster:network\.podCidrs\[0\]/,
    ],
    [
      "a start/stop range overlapping the service network",
      { cilium: { ...cilium, lbPool: [{ start: "10.96.0.10", stop: "10.96.0.20" }] } },
      /homecluster:cilium\.lbPool\[0\]: 10\.96\.0\.10-10\.96\.0\.20 overlaps homecluster:network\.serviceCidr/,
    ],
    [
      "a start/stop range that runs backwards",
      { cilium: { ...cilium, lbPool: [{ start: "192.168.1.250", stop: "192.168.1.240" }] } },
      /homecluster:cilium\.lbPool\[0\]: stop must not be below start/,
    ],
    [
      "two overlapping pool blocks",
      {
        cilium: {
          ...cilium,
          lbPool: [{ cidr: "192.168.1.224/28" }, { start: "192.168.1.230", stop: "192.168.1.231" }],
        },
      },
      /homecluster:cilium\.lbPool\[1\]: 192\.168\.1\.230-192\.168\.1\.231 overlaps homecluster:cilium\.lbPool\[0\]/,
    ],
    [
      "an API port out of range",
      { cilium: { ...cilium, k8sServicePort: 70000 } },
      /homecluster:cilium\.k8sServicePort: must be 1-65535/,
    ],
    [
      "an unknown distribution",
      { distribution: "microk8s" },
      /homecluster:distribution: Invalid option: expected one of "talos"\|"k3s"\|"kubeadm"/,
    ],
    ["a missing required key", { kubeContext: undefined }, /homecluster:kubeContext: is required but not set/],
    ["a missing network", { network: undefined }, /homecluster:network: is required but not set/],
    [
      "a misspelt field",
      { cilium: { ...cilium, hubbleUI: false } },
      /homecluster:cilium: has unknown field\(s\) 'hubbleUI'/,
    ],
    [
      "a bad zone id",
      { cloudflareZoneId: "example.com" },
      /homecluster:cloudflareZoneId: must be a 32-character hexadecimal/,
    ],
    [
      "no API host off Talos",
      { distribution: "k3s" },
      /homecluster:cilium\.k8sServiceHost: is required for distribution 'k3s'/,
    ],
    [
      "a gateway address outside the LB pool",
      { istio: { gateway: { serviceType: "LoadBalancer", loadBalancerIP: "192.168.1.100" } } },
      /homecluster:istio\.gateway\.loadBalancerIP: 192\.168\.1\.100 is not inside homecluster:cilium\.lbPool/,
    ],
    [
      "a cloudflared tag of 'latest'",
      { versions: { cloudflared: "latest" } },
      /homecluster:versions\.cloudflared: must be a cloudflared release tag/,
    ],
    ["a version range", { versions: { istio: "^1.30.0" } }, /homecluster:versions\.istio: must be an exact version/],
    [
      "a route port out of range",
      { routes: [{ host: "grafana", service: "grafana", namespace: "monitoring", port: 0 }] },
      /homecluster:routes\[0\]\.port: must be 1-65535/,
    ],
    [
      "a route hostname outside the domain",
      { routes: [{ host: "grafana.example.org", service: "grafana", namespace: "monitoring", port: 80 }] },
      /homecluster:routes\[0\]\.host: 'grafana\.example\.org' is outside the domain example\.com/,
    ],
    [
      "a duplicate route hostname",
      {
        routes: [
          { host: "grafana", service: "grafana", namespace: "monitoring", port: 80 },
          { host: "grafana.example.com", service: "other", namespace: "monitoring", port: 80 },
        ],
      },
      /homecluster:routes\[1\]\.host: grafana\.example\.com is already routed by homecluster:routes\[0\]/,
    ],
    [
      "a gateway route missing fields",
      { routes: [{ host: "grafana", service: "grafana" }] },
      /homecluster:routes\[0\]\.namespace: is required but not set\n {2}- homecluster:routes\[0\]\.port: is required but not set/,
    ],
    [
      "a route that is not an object",
      { routes: ["grafana"] },
      /homecluster:routes\[0\]: must be \{ host, service, namespace, port \} \(through the gateway\), \{ host, namespace \} \(bound by an application stack\) or \{ host, origin \} \(direct\)/,
    ],
    [
      "a route namespace that is not a Kubernetes name",
      { routes: [{ host: "grafana", service: "grafana", namespace: "Monitoring_NS", port: 80 }] },
      /homecluster:routes\[0\]\.namespace: must be a Kubernetes name/,
    ],
    [
      "a hostname claimed by the tunnel and external-dns",
      { externalDns: { hostnames: ["grafana.example.com"] } },
      /homecluster:externalDns\.hostnames\[0\]: grafana\.example\.com is a tunnel route \(homecluster:routes\[0\]\)/,
    ],
  ];
  const istio = fixture.istio as Record<string, unknown>;
  const grafana = (fixture.routes as Record<string, unknown>[])[0]!;
  cases.push(
    [
      "a quoted number",
      { cilium: { ...cilium, k8sServicePort: "6443" } },
      /homecluster:cilium\.k8sServicePort: Invalid input: expected number, received string/,
    ],
    [
      "routes written as a map",
      { routes: { grafana } },
      /homecluster:routes: Invalid input: expected array, received object/,
    ],
    [
      "a namespace list written as one string",
      { istio: { ...istio, meshNamespaces: "media" } },
      /homecluster:istio\.meshNamespaces: Invalid input: expected array, received string/,
    ],
    [
      "a namespace listed twice",
      { istio: { ...istio, meshNamespaces: ["media", "media"] } },
      /homecluster:istio\.meshNamespaces: lists a namespace twice/,
    ],
    [
      "a misspelt route field",
      { routes: [{ ...grafana, prot: 80 }] },
      /homecluster:routes\[0\]: has unknown field\(s\) 'prot'/,
    ],
    [
      "a quoted route port",
      { routes: [{ ...grafana, port: "80" }] },
      /homecluster:routes\[0\]\.port: Invalid input: expected number, received string/,
    ],
    [
      "two hostnames that derive the same resource name",
      {
        routes: [
          { ...grafana, host: "a.b.example.com" },
          { ...grafana, host: "a-b" },
        ],
      },
      /homecluster:routes\[1\]\.host: a-b\.example\.com gets the same resource name 'a-b' as homecluster:routes\[0\]; rename one/,
    ],
    [
      "a tcp origin without a port",
      { routes: [{ host: "db", origin: "tcp://db.data.svc.cluster.local" }] },
      /homecluster:routes\[0\]\.origin: needs a port for tcp:\/\/ \(such as tcp:\/\/db\.data\.svc:5432\)/,
    ],
    [
      "an origin that is not a URL",
      { routes: [{ host: "db", origin: "tcp://[::1" }] },
      /homecluster:routes\[0\]\.origin: must be a valid URL/,
    ],
    [
      "an external-dns chart that ignores the label filter",
      { versions: { externalDns: "1.20.0" } },
      /homecluster:versions\.externalDns: must be 1\.21\.0 or newer \(older external-dns ignores the label filter on Istio sources\)/,
    ],
    [
      "a Cilium chart older than 1.19",
      { versions: { cilium: "1.18.4" } },
      /homecluster:versions\.cilium: must be 1\.19\.0 or newer/,
    ],
    [
      "a STATIC ServiceEntry without endpoints",
      {
        istio: {
          ...istio,
          serviceEntries: [
            {
              name: "ntp",
              hosts: ["time.example.org"],
              ports: [{ number: 123, protocol: "TCP", name: "ntp" }],
              resolution: "STATIC",
            },
          ],
        },
      },
      /homecluster:istio\.serviceEntries\[0\]\.resolution: Invalid option: expected one of "DNS"\|"NONE"/,
    ],
    [
      "two ServiceEntries of one name in one namespace",
      {
        istio: {
          ...istio,
          serviceEntries: [1, 2].map((n) => ({
            name: "ntp",
            namespace: "infra",
            hosts: [`time${n}.example.org`],
            ports: [{ number: 123, protocol: "TCP", name: "ntp" }],
          })),
        },
      },
      /homecluster:istio\.serviceEntries\[1\]\.name: 'infra\/ntp' is already istio\.serviceEntries\[0\]; merge their hosts into one entry$/,
    ],
    [
      "two ServiceEntries whose namespace and name meet on one resource name (a-b/c and a/b-c)",
      {
        istio: {
          ...istio,
          meshNamespaces: ["monitoring", "media", "infra", "a", "a-b"],
          serviceEntries: [
            {
              name: "c",
              namespace: "a-b",
              hosts: ["one.example.org"],
              ports: [{ number: 443, protocol: "TLS", name: "tls" }],
            },
            {
              name: "b-c",
              namespace: "a",
              hosts: ["two.example.org"],
              ports: [{ number: 443, protocol: "TLS", name: "tls" }],
            },
          ],
        },
      },
      /homecluster:istio\.serviceEntries\[1\]\.name: 'a\/b-c' and istio\.serviceEntries\[0\] \('a-b\/c'\) would share the resource name service-entry-a-b-c; rename one$/,
    ],
    [
      "istio-system in the mesh (the stack creates the control plane's namespace)",
      { istio: { ...istio, meshNamespaces: ["monitoring", "media", "infra", "istio-system"] } },
      /homecluster:istio\.meshNamespaces: lists 'istio-system', a namespace this stack creates/,
    ],
    [
      "cloudflared's namespace in the mesh list (the stack enrols it itself)",
      { istio: { ...istio, meshNamespaces: ["monitoring", "media", "infra", "cloudflared"] } },
      /homecluster:istio\.meshNamespaces: lists 'cloudflared', a namespace this stack creates and enrols \(or deliberately leaves out\) itself$/,
    ],
    [
      "IPv6 pod networks with cluster-pool IPAM",
      { network: { ...network, podCidrs: ["fd00:10::/56"] }, cilium: { ...cilium, ipamMode: "cluster-pool" } },
      /homecluster:network\.podCidrs\[0\]: fd00:10::\/56 is not IPv4; cilium\.ipamMode cluster-pool takes IPv4 pod networks here/,
    ],
  );
  const allow = (istio.allow as unknown[])[0] as { from: object; to: object };
  cases.push(
    [
      "a gateway route into a namespace outside the mesh",
      { routes: [{ ...grafana, namespace: "wiki" }] },
      /homecluster:routes\[0\]: its namespace 'wiki' is not in homecluster:istio\.meshNamespaces, so no policy protects it; add the namespace to istio\.meshNamespaces, or set 'mesh: false' on the route/,
    ],
    [
      "an in-cluster direct origin in a namespace outside the mesh",
      { routes: [{ host: "db", origin: "tcp://postgres.data.svc:5432", public: true }] },
      /homecluster:routes\[0\]: its namespace 'data' is not in homecluster:istio\.meshNamespaces/,
    ],
    [
      "mesh: false on a route whose namespace is enrolled",
      { routes: [{ ...grafana, mesh: false }] },
      /homecluster:routes\[0\]\.mesh: is false, but 'monitoring' is in homecluster:istio\.meshNamespaces/,
    ],
    [
      "a targetPort on an origin outside the cluster",
      { routes: [{ host: "nas", origin: "http://192.168.1.10:5000", targetPort: 5001 }] },
      /homecluster:routes\[0\]\.targetPort: only applies to an origin in this cluster/,
    ],
    [
      "a unix socket (cloudflared's pod mounts no volume that could hold one)",
      { routes: [{ host: "sock", origin: "unix:/run/app/app.sock" }] },
      /homecluster:routes\[0\]\.origin: a unix socket cannot be reached: cloudflared runs in its own pod, with no volume; point the route at a Service$/,
    ],
    [
      "an origin with a path (cloudflared forwards the request's own path and refuses one)",
      { routes: [{ host: "nas", origin: "https://192.168.1.10:5001/ui" }] },
      /homecluster:routes\[0\]\.origin: must be an origin URL without a path, such as tcp:\/\/db\.data\.svc:5432 or http:\/\/192\.168\.1\.10:8080$/,
    ],
    [
      "an origin with a trailing slash",
      { routes: [{ host: "web", origin: "http://web.media.svc:80/" }] },
      /homecluster:routes\[0\]\.origin: must be an origin URL without a path/,
    ],
    [
      "an allow into a namespace outside the mesh",
      { istio: { ...istio, allow: [{ ...allow, to: { namespace: "backup", ports: [80] } }] } },
      /homecluster:istio\.allow\[0\]\.to\.namespace: 'backup' is not in homecluster:istio\.meshNamespaces: ztunnel enforces nothing there/,
    ],
    [
      "an allow from a namespace outside the mesh",
      { istio: { ...istio, allow: [{ ...allow, from: { namespace: "backup" } }] } },
      /homecluster:istio\.allow\[0\]\.from\.namespace: 'backup' is not in the mesh, so its workloads have no identity/,
    ],
    [
      "an mTLS exception for a namespace outside the mesh",
      { istio: { ...istio, mtlsExceptions: [{ namespace: "backup" }] } },
      /homecluster:istio\.mtlsExceptions\[0\]\.namespace: 'backup' is not in homecluster:istio\.meshNamespaces/,
    ],
  );
  const access = fixture.access as Record<string, unknown>;
  cases.push(
    [
      "a route naming an Access policy that does not exist",
      { routes: [{ ...grafana, access: "family" }] },
      /homecluster:routes\[0\]\.access: names 'family', which is not a policy in homecluster:access\.policies \(it has: admins\)/,
    ],
    [
      "an Access policy that includes nobody",
      { access: { policies: { admins: { emails: [] } } } },
      /homecluster:access\.policies\.admins: needs at least one of emails, emailDomains, groups or serviceTokens/,
    ],
    [
      "an SSH origin with neither access nor public: true",
      { routes: [{ host: "ssh", origin: "ssh://bastion.infra.svc.cluster.local:22" }] },
      /homecluster:routes\[0\]: ssh:\/\/bastion\.infra\.svc\.cluster\.local:22 is not HTTP, and anyone who knows ssh\.example\.com can reach it through the tunnel; protect it with 'access: <policy>' \(a policy of homecluster:access\.policies\), or set 'public: true' to publish it as it is/,
    ],
    [
      "a route both public and protected",
      { routes: [{ host: "ssh", origin: "ssh://bastion.infra.svc:22", access: "admins", public: true }] },
      /homecluster:routes\[0\]\.public: contradicts its 'access': a route is public or protected/,
    ],
    [
      "public: false (only true means anything)",
      { routes: [{ host: "ssh", origin: "ssh://bastion.infra.svc:22", public: false }] },
      /homecluster:routes\[0\]\.public: Invalid input: expected true/,
    ],
    [
      "Access on a wildcard gateway route",
      { routes: [{ host: "*", service: "fallback", namespace: "media", port: 80, access: "admins" }] },
      /homecluster:routes\[0\]\.access: \*\.example\.com is a wildcard: the gateway cannot check Access's token on every form of its Host header; protect its names as routes of their own/,
    ],
    [
      "a session duration in days",
      { access: { ...access, sessionDuration: "7d" } },
      /homecluster:access\.sessionDuration: must be a duration such as 24h or 2h45m/,
    ],
    [
      "a Helm timeout too short for any release to become ready",
      { helm: { timeout: 5 } },
      /homecluster:helm\.timeout: must be 30-3600 seconds/,
    ],
    [
      "a chart repository that is not a URL Helm fetches from",
      { charts: { istio: "ftp://mirror.home.arpa/istio" } },
      /homecluster:charts\.istio: must be a chart repository URL \(https:\/\/…, http:\/\/…\) or an OCI registry path/,
    ],
    [
      "a chart repository with credentials in it (they would be in the state)",
      { charts: { cilium: "https://user:hunter2@mirror.home.arpa/cilium" } },
      /homecluster:charts\.cilium: .*without credentials/,
    ],
    [
      "a chart family the stack does not install",
      { charts: { kiali: "https://kiali.org/helm-charts" } },
      /homecluster:charts: .*kiali/,
    ],
    [
      "a team domain that is not Cloudflare Access'",
      { access: { ...access, teamDomain: "login.example.com" } },
      /homecluster:access\.teamDomain: must be <team>\.cloudflareaccess\.com/,
    ],
  );
  it.each(cases)("rejects %s", (_what, overrides, expected) => {
    const message = failure(overrides);
    expect(message).toMatch(/^Invalid configuration/);
    expect(message).toMatch(expected);
  });

  it("lists every problem at once, one line per key", () => {
    const message = failure({ domain: "nope", distribution: "minikube" });
    expect(message.split("\n")).toEqual([
      "Invalid configuration:",
      '  - homecluster:distribution: Invalid option: expected one of "talos"|"k3s"|"kubeadm"',
      "  - homecluster:domain: must be a lower-case DNS name such as example.com (no scheme, no trailing dot)",
    ]);
  });

  it("suggests the field a misspelt one is close to (a plural, a swap, a case), and guesses nothing otherwise", () => {
    const istio = fixture.istio as Record<string, unknown>;
    const ssh = (fixture.routes as Record<string, unknown>[])[3]!;
    expect(failure({ istio: { ...istio, meshNamespace: ["media"] } })).toBe(
      "Invalid configuration: homecluster:istio: has unknown field(s) 'meshNamespace' (did you mean 'meshNamespaces'?)",
    );
    // A route's fields are those of its three shapes; each unknown field gets its own guess.
    expect(failure({ routes: [{ ...ssh, Public: true, colour: "blue" }] })).toBe(
      "Invalid configuration: homecluster:routes[0]: has unknown field(s) 'Public' (did you mean 'public'?), 'colour'",
    );
    expect(failure({ istio: { ...istio, colour: "blue" } })).toBe(
      "Invalid configuration: homecluster:istio: has unknown field(s) 'colour'",
    );
  });
});

describe("loadConfig inside the program", () => {
  it("stops the program before any resource is registered, without a stack trace", async () => {
    const error = await runProgramError({ config: { domain: "Example.COM" } });
    expect(error).toBeInstanceOf(pulumi.RunError);
    expect(error.message).toBe(
      "Invalid configuration: homecluster:domain: must be a lower-case DNS name such as example.com (no scheme, no trailing dot)",
    );
  });

  it("rejects a key the stack does not know, suggesting a close one", async () => {
    const known = `(known: ${[...CONFIG_KEYS].sort().join(", ")})`;
    const misspelt = await runProgramError({ config: { domian: "example.com" } });
    expect(misspelt.message).toBe(
      `Invalid configuration: homecluster:domian: is not a setting of this stack; did you mean 'domain'? ${known}`,
    );
    const cut = await runProgramError({ config: { rout: "[]" } });
    expect(cut.message).toBe(
      `Invalid configuration: homecluster:rout: is not a setting of this stack; did you mean 'routes'? ${known}`,
    );
    const unrelated = await runProgramError({ config: { colour: "blue" } });
    expect(unrelated.message).toBe(
      `Invalid configuration: homecluster:colour: is not a setting of this stack ${known}`,
    );
  });

  it("still reports a missing key whose name an unknown key begins (kube, kubeContext)", () => {
    const values = Object.fromEntries(
      Object.entries({ ...fixture, kube: "typo" })
        .filter(([key]) => key !== "kubeContext")
        .map(([key, value]) => [`homecluster:${key}`, typeof value === "string" ? value : JSON.stringify(value)]),
    );
    expect(() => parseConfigValues(values, STACK)).toThrow(
      /homecluster:kube: is not a setting of this stack .*\n {2}- homecluster:kubeContext: is required but not set/s,
    );
  });

  it("rejects a structured key that is not an object", async () => {
    const error = await runProgramError({ config: { cilium: "{not json" } });
    expect(error.message).toBe(
      "Invalid configuration: homecluster:cilium: must be a YAML object or list in the stack file",
    );
  });

  it("registers nothing when the config is bad", async () => {
    const error = await runProgramError({ config: { distribution: "minikube" } });
    expect(error.message).toMatch(/homecluster:distribution/);
    expect(error.registered).toEqual([]);
  });
});

describe("loadConfig when the CLI's gate lets a missing token through (a Pulumi.yaml that no longer declares it)", () => {
  it("still refuses a missing Cloudflare API token, with the command to set it", async () => {
    const { config } = cliConfig(editStackFile({ config: {} }, fixtureConfig(), { cloudflareApiToken: "t" }));
    delete config["homecluster:cloudflareApiToken"];
    const run = runUnderMocks({
      stack: STACK,
      config: { config, secretKeys: [] },
      load: loadProgram,
    });
    await expect(run).rejects.toThrow(
      "Invalid configuration: homecluster:cloudflareApiToken: is required but not set (pulumi config set --secret cloudflareApiToken <token>)",
    );
  });
});

describe("Pulumi.yaml against the schema", () => {
  const project = readProjectFile();
  const declarations = project.config as Record<
    string,
    { type?: string; description?: string; secret?: boolean; default?: unknown }
  >;
  const keyOf = (key: string) => key.replace("homecluster:", "");
  const shape: Record<string, { description?: string; isOptional(): boolean }> = {
    ...configSchema.shape,
    ...secretKeys,
  };

  it("declares exactly the keys config reads, with the schema's descriptions, secrets marked secret", () => {
    expect(project.name).toBe("homecluster");
    expect(Object.keys(declarations).map(keyOf).sort()).toEqual([...CONFIG_KEYS].sort());
    for (const [key, declaration] of Object.entries(declarations)) {
      expect(declaration.description, key).toBe(shape[keyOf(key)]!.description);
      expect(Boolean(declaration.secret), key).toBe(keyOf(key) in secretKeys);
    }
  });

  it("gives every optional key an empty default, so each real default is declared once, in the schema", () => {
    for (const [key, declaration] of Object.entries(declarations)) {
      const optional = shape[keyOf(key)]!.isOptional();
      expect("default" in declaration, key).toBe(optional);
      if (optional)
        expect(["", "{}", "[]"], key).toContain(JSON.stringify(declaration.default).replace(/^"(.*)"$/, "$1"));
    }
  });

  it("commits no secret in plain text", () => {
    for (const secret of Object.keys(secretKeys)) expect(fixture).not.toHaveProperty(secret);
  });
});
