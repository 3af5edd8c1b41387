/**
 * The stack's typed configuration: one schema for every `homecluster:*` key, its defaults, the checks that
 * need more than one key (LB pool against pod/service networks, DNS ownership), and the normalisation of
 * routes into the one list every component consumes. `loadConfig()` is called once, by index.ts; invalid
 * config throws a `pulumi.RunError` naming the key before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { cidrRange, isIpAddress, rangeContains, rangesOverlap, startStopRange, type AddressRange } from "./net";
import { charts, CLOUDFLARED_TAG, defaultVersions } from "./components/versions";

export const PROJECT = "homecluster";

// ---------------------------------------------------------------------------------------------------------
// Value formats
// ---------------------------------------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const CLOUDFLARE_ID = /^[0-9a-f]{32}$/;

const k8sName = z
  .string()
  .regex(DNS_LABEL, "must be a Kubernetes name (lower-case letters, digits and '-', at most 63 characters)");
const domainName = z
  .string()
  .regex(DOMAIN, "must be a lower-case DNS name such as example.com (no scheme, no trailing dot)");
const cloudflareId = z.string().regex(CLOUDFLARE_ID, "must be a 32-character hexadecimal Cloudflare id");
const port = z.number().int("must be a whole number").min(1, "must be 1-65535").max(65535, "must be 1-65535");
const semver = z.string().regex(/^\d+\.\d+\.\d+$/, "must be an exact version such as 1.2.3 (no range, no 'v')");
const cidr = z.string().refine((s) => cidrRange(s) !== undefined, "must be a network in CIDR form such as 10.0.0.0/16");
const ipAddress = z.string().refine(isIpAddress, "must be an IP address");
const labelMap = z.record(z.string().min(1), z.string());
/** A free-form Helm values object (escape hatch), deep-merged last. */
const helmValues = z.record(z.string(), z.unknown());

// ---------------------------------------------------------------------------------------------------------
// Schema of every key
// ---------------------------------------------------------------------------------------------------------

const distribution = z.enum(["talos", "k3s", "kubeadm"]);
export type Distribution = z.infer<typeof distribution>;

const lbPoolBlock = z.union(
  [
    z.strictObject({ cidr }),
    z
      .strictObject({ start: ipAddress, stop: ipAddress })
      .refine((b) => startStopRange(b.start, b.stop) !== undefined, "stop must not be below start (same IP family)"),
  ],
  { error: "must be { cidr } or { start, stop }" },
);
export type LbPoolBlock = z.infer<typeof lbPoolBlock>;

const ciliumSchema = z.strictObject({
  /** API server address the agent uses instead of kube-proxy; required unless the distribution provides it. */
  k8sServiceHost: z.string().min(1).optional(),
  k8sServicePort: port.optional(),
  ipamMode: z.enum(["kubernetes", "cluster-pool"]).default("kubernetes"),
  clusterName: k8sName.default(PROJECT),
  clusterId: z.number().int().min(0).max(255).default(1),
  operatorReplicas: z.number().int().min(1).max(5).default(1),
  hubbleUi: z.boolean().default(true),
  /**
   * The agents' client-side rate limit towards the API server: L2 announcements take one lease per LoadBalancer
   * Service, so the chart's 10/20 is raised. The operator keeps the chart's own (higher) limit.
   */
  k8sClientRateLimit: z
    .strictObject({ qps: z.number().int().min(1).default(30), burst: z.number().int().min(1).default(60) })
    .default({ qps: 30, burst: 60 }),
  lbPool: z.array(lbPoolBlock).min(1, "needs at least one block"),
  l2: z
    .strictObject({
      interfaces: z.array(z.string().min(1)).min(1).default(["^eth[0-9]+", "^en.+"]),
      nodeSelector: labelMap.default({}),
    })
    .default({ interfaces: ["^eth[0-9]+", "^en.+"], nodeSelector: {} }),
  values: helmValues.default({}),
});

const networkSchema = z.strictObject({
  podCidrs: z.array(cidr).min(1),
  serviceCidr: cidr,
});

/** An exact version at least `minimum`, which the values and objects this stack emits are written for. */
function versionFrom(minimum: string, why: string) {
  const parts = (v: string) => v.split(".").map(Number);
  const atLeast = (v: string) => {
    const [a, b] = [parts(v), parts(minimum)];
    const index = a.findIndex((n, i) => n !== b[i]);
    return index === -1 || a[index]! > b[index]!;
  };
  return semver.refine(atLeast, `must be ${minimum} or newer (${why})`);
}

const versionsSchema = z.strictObject({
  cilium: versionFrom("1.19.0", "older charts need the removed externalIPs/nodePort toggles").optional(),
  istio: versionFrom("1.24.0", "ambient mode is generally available from 1.24").optional(),
  externalDns: versionFrom("1.21.0", "older external-dns ignores the label filter on Istio sources").optional(),
  cloudflared: z
    .string()
    .regex(CLOUDFLARED_TAG, "must be a cloudflared release tag such as 2026.8.2 (never 'latest')")
    .optional(),
});

const meshPeer = z.strictObject({ namespace: k8sName, serviceAccount: k8sName.optional() });
const istioSchema = z.strictObject({
  /** Existing namespaces to enrol in ambient mode. */
  meshNamespaces: z
    .array(k8sName)
    .refine((list) => new Set(list).size === list.length, "lists a namespace twice")
    .default([]),
  defaultDeny: z.boolean().default(true),
  allowSameNamespace: z.boolean().default(true),
  /**
   * Namespaces whose workloads (optionally only those matching `selector`, optionally only some of their ports)
   * accept plaintext from clients outside the mesh. Istio takes port-level mTLS only with a workload selector.
   */
  mtlsExceptions: z
    .array(
      z
        .strictObject({
          namespace: k8sName,
          ports: z.array(port).default([]),
          selector: labelMap.refine((m) => Object.keys(m).length > 0, "must name at least one label").optional(),
        })
        .refine((e) => e.ports.length === 0 || e.selector !== undefined, {
          error: "need a selector: Istio applies port-level mTLS only to selected workloads (omit ports for all)",
          path: ["ports"],
        }),
    )
    .default([]),
  /** Extra allows under the default deny: from a namespace (optionally one service account) to a namespace's ports. */
  allow: z
    .array(z.strictObject({ from: meshPeer, to: z.strictObject({ namespace: k8sName, ports: z.array(port).min(1) }) }))
    .default([]),
  serviceEntries: z
    .array(
      z.strictObject({
        name: k8sName,
        namespace: k8sName.default("istio-system"),
        hosts: z.array(domainName).min(1),
        ports: z
          .array(
            z.strictObject({
              number: port,
              protocol: z.enum(["HTTP", "HTTPS", "HTTP2", "GRPC", "TLS", "TCP"]),
              name: k8sName,
            }),
          )
          .min(1),
        // STATIC would need endpoints, which this stack does not take.
        resolution: z.enum(["DNS", "NONE"]).default("DNS"),
      }),
    )
    .default([]),
  gateway: z
    .strictObject({
      namespace: k8sName.default("istio-ingress"),
      serviceType: z.enum(["ClusterIP", "LoadBalancer"]).default("ClusterIP"),
      /** With serviceType LoadBalancer: a fixed address from the Cilium pool. */
      loadBalancerIP: ipAddress.optional(),
    })
    .default({ namespace: "istio-ingress", serviceType: "ClusterIP" }),
  values: z
    .strictObject({
      base: helmValues.optional(),
      istiod: helmValues.optional(),
      cni: helmValues.optional(),
      ztunnel: helmValues.optional(),
      gateway: helmValues.optional(),
    })
    .default({}),
});

function parsesAsOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    // cloudflared has no default port for tcp://.
    return url.protocol !== "tcp:" || url.port !== "";
  } catch {
    return false;
  }
}
const originUrl = z
  .string()
  .regex(/^(https?|tcp|ssh|rdp|smb|unix|unix\+tls):\/\/\S+$/, "must be an origin URL such as tcp://db.data.svc:5432")
  .refine(parsesAsOrigin, "must be a valid URL, with a port for tcp:// (such as tcp://db.data.svc:5432)");
/**
 * A route is through the gateway, or direct when it names an `origin`. The shape is chosen first, so a
 * misspelt or mistyped field is reported by name rather than as "matches neither shape".
 */
const routeSchema = z.preprocess(
  (value) =>
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? { ...value, kind: "origin" in value ? "direct" : "gateway" }
      : value,
  z.discriminatedUnion(
    "kind",
    [
      z.strictObject({
        kind: z.literal("gateway"),
        host: z.string().min(1),
        service: k8sName,
        namespace: k8sName,
        port,
        targetPort: port.optional(),
        mesh: z.boolean().optional(),
      }),
      z.strictObject({
        kind: z.literal("direct"),
        host: z.string().min(1),
        origin: originUrl,
        targetPort: port.optional(),
        mesh: z.boolean().optional(),
      }),
    ],
    { error: "must be { host, service, namespace, port } (through the gateway) or { host, origin } (direct)" },
  ),
);

const tunnelSchema = z.strictObject({
  name: z.string().min(1).default(PROJECT),
  /** Protect the tunnel and its DNS records from `pulumi destroy`: deleting them takes every app offline. */
  protect: z.boolean().default(true),
  originRequest: z
    .strictObject({
      connectTimeoutSeconds: z.number().int().min(1).max(300).default(30),
      http2Origin: z.boolean().default(false),
      noTlsVerify: z.boolean().default(false),
    })
    .default({ connectTimeoutSeconds: 30, http2Origin: false, noTlsVerify: false }),
  cloudflared: z
    .strictObject({
      namespace: k8sName.default("cloudflared"),
      replicas: z
        .number()
        .int()
        .min(2, "must be at least 2 (a second replica keeps the tunnel up while one restarts)")
        .default(2),
      protocol: z.enum(["http2", "quic", "auto"]).default("http2"),
    })
    .default({ namespace: "cloudflared", replicas: 2, protocol: "http2" }),
});

const externalDnsSchema = z.strictObject({
  namespace: k8sName.default("external-dns"),
  sources: z
    .array(z.enum(["service", "ingress", "istio-gateway", "istio-virtualservice", "gateway-httproute", "crd"]))
    .min(1)
    .default(["service", "ingress", "istio-gateway", "istio-virtualservice"]),
  policy: z.enum(["sync", "upsert-only"]).default("sync"),
  /**
   * Proxy external-dns' records through Cloudflare. Off: it publishes LAN addresses (LoadBalancer IPs), which
   * Cloudflare's edge cannot reach; an object opts in with `external-dns.alpha.kubernetes.io/cloudflare-proxied`.
   */
  proxied: z.boolean().default(false),
  interval: z
    .string()
    .regex(/^\d+(s|m|h)$/, "must be a duration such as 1m")
    .default("1m"),
  logLevel: z.enum(["debug", "info", "warning", "error"]).default("info"),
  /** TXT registry owner id; defaults to one unique to this stack. */
  txtOwnerId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be lower-case letters, digits and '-'")
    .optional(),
  /** Hostnames external-dns is expected to manage; none may also be a tunnel route. */
  hostnames: z.array(domainName).default([]),
  serviceMonitor: z.boolean().default(false),
});

/** Every plain (non-secret) key, as the stack file holds it. */
const configSchema = z.strictObject({
  kubeContext: z.string().min(1),
  kubeconfig: z.string().min(1).optional(),
  distribution: distribution.default("kubeadm"),
  domain: domainName,
  cloudflareAccountId: cloudflareId,
  cloudflareZoneId: cloudflareId,
  network: networkSchema,
  versions: versionsSchema.default({}),
  cilium: ciliumSchema,
  istio: istioSchema.default(istioSchema.parse({})),
  routes: z.array(routeSchema).default([]),
  tunnel: tunnelSchema.default(tunnelSchema.parse({})),
  externalDns: externalDnsSchema.default(externalDnsSchema.parse({})),
});
type ParsedConfig = z.infer<typeof configSchema>;

/** Secret keys: read only through `getSecret`, never as plain values. */
export const SECRET_KEYS = {
  cloudflareApiToken: "cloudflareApiToken",
  externalDnsApiToken: "externalDnsApiToken",
} as const;

/** Every config key this stack reads, plain and secret (Pulumi.yaml declares exactly these). */
export const CONFIG_KEYS: readonly string[] = [...Object.keys(configSchema.shape), ...Object.values(SECRET_KEYS)];

/** Keys whose stack value is a JSON object or list (Pulumi passes those as JSON text). */
const STRUCTURED_KEYS = new Set(["network", "versions", "cilium", "istio", "routes", "tunnel", "externalDns"]);

// ---------------------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------------------

interface RouteBase {
  /** Fully-qualified public hostname (`grafana.example.com`, `*.example.com`, or the apex). */
  hostname: string;
  /** Kubernetes-safe name derived from the hostname, for resource names (`grafana`, `wildcard`, `apex`). */
  name: string;
  /** What the stack file said, for error messages and the plan. */
  configKey: string;
}
/** A hostname served through the Istio ingress gateway to a Service in the cluster. */
export interface GatewayRoute extends RouteBase {
  kind: "gateway";
  service: string;
  namespace: string;
  /** The Service port. */
  port: number;
  /** The container port the Service forwards `port` to, when it differs (mesh policies match this one). */
  targetPort?: number;
  /** The namespace is enrolled in the mesh, so the gateway's hop is mTLS and an allow applies (`mesh: false`: not). */
  mesh: boolean;
}
/** The Kubernetes Service a direct route's origin names (`<service>.<namespace>.svc[.cluster.local]`). */
export interface InClusterOrigin {
  service: string;
  namespace: string;
  /** The origin URL's port, or its scheme's default. */
  port: number;
  /** The container port behind `port`, when it differs (the allow matches this one). */
  targetPort?: number;
  /** The namespace is enrolled in the mesh, so cloudflared's allow applies (`mesh: false`: it is not). */
  mesh: boolean;
}
/** A hostname the tunnel sends straight to an origin (a TCP service, an SSH host, ...), bypassing the gateway. */
export interface DirectRoute extends RouteBase {
  kind: "direct";
  origin: string;
  /** Set when the origin is a Service in this cluster. */
  inCluster?: InClusterOrigin;
}
export type Route = GatewayRoute | DirectRoute;

/** Each route as other stacks see it: hostname, kind, and where the tunnel sends it. */
export function routeSummaries(
  routes: Route[],
  gateway: { name: string; namespace: string; port: number },
): { hostname: string; kind: Route["kind"]; target: string }[] {
  return routes.map((route) => ({
    hostname: route.hostname,
    kind: route.kind,
    target:
      route.kind === "gateway"
        ? `${gateway.namespace}/${gateway.name}:${gateway.port} → ${route.service}.${route.namespace}.svc.cluster.local:${route.port}`
        : route.origin,
  }));
}

/** A wildcard route (`*.example.com`): the tunnel matches it only after every specific hostname. */
export function isWildcard(route: Route): boolean {
  return route.hostname.startsWith("*.");
}

// ---------------------------------------------------------------------------------------------------------
// The loaded config
// ---------------------------------------------------------------------------------------------------------

export interface HomeclusterConfig extends Omit<ParsedConfig, "routes" | "versions" | "cilium" | "externalDns"> {
  stack: string;
  versions: Required<z.infer<typeof versionsSchema>>;
  cilium: ParsedConfig["cilium"] & { k8sServiceHost: string; k8sServicePort: number };
  routes: Route[];
  externalDns: ParsedConfig["externalDns"] & { txtOwnerId: string };
  cloudflareApiToken: pulumi.Output<string>;
  /** An existing token for external-dns; when absent the stack mints a zone-scoped one. */
  externalDnsApiToken?: pulumi.Output<string>;
}

/** One problem with the config: the full key (`homecluster:cilium.lbPool[0].cidr`) and what is wrong. */
export interface ConfigIssue {
  key: string;
  message: string;
}

export class ConfigError extends pulumi.RunError {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      issues.length === 1
        ? `Invalid configuration: ${issues[0]!.key}: ${issues[0]!.message}`
        : `Invalid configuration:\n${issues.map((i) => `  - ${i.key}: ${i.message}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

function keyOf(path: ReadonlyArray<PropertyKey>): string {
  let key = PROJECT;
  path.forEach((part, index) => {
    if (typeof part === "number") key += `[${part}]`;
    else key += `${index === 0 ? ":" : "."}${String(part)}`;
  });
  return key;
}

function zodIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => {
    const key = keyOf(issue.path);
    // With reportInput, a missing key has input undefined; a present value of the wrong type keeps its input.
    if (issue.code === "invalid_type" && issue.input === undefined) return { key, message: "is required but not set" };
    if (issue.code === "unrecognized_keys") {
      return { key, message: `has unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(", ")}` };
    }
    return { key, message: issue.message };
  });
}

/** Resolves a route's `host` against the domain: `@` is the apex, `*` the wildcard, one label is relative. */
function resolveHost(host: string, domain: string): { hostname: string; name: string } | string {
  const lower = host.toLowerCase();
  if (lower === "@" || lower === domain) return { hostname: domain, name: "apex" };
  if (lower === "*" || lower === `*.${domain}`) return { hostname: `*.${domain}`, name: "wildcard" };
  if (DNS_LABEL.test(lower)) return { hostname: `${lower}.${domain}`, name: lower };
  if (!lower.endsWith(`.${domain}`)) {
    return `'${host}' is outside the domain ${domain} (use one label such as 'grafana', '@', '*', or a name ending in .${domain})`;
  }
  const relative = lower.slice(0, -domain.length - 1);
  if (!relative.split(".").every((label) => DNS_LABEL.test(label))) return `'${host}' is not a valid hostname`;
  return { hostname: lower, name: relative.replaceAll(".", "-") };
}

// `<service>.<namespace>.svc` with or without the cluster domain.
const IN_CLUSTER_HOST = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?)\.([a-z0-9]([a-z0-9-]*[a-z0-9])?)\.svc(\.cluster\.local)?$/;
const SCHEME_PORTS: Record<string, number> = { http: 80, https: 443, ssh: 22, rdp: 3389, smb: 445 };

/** The in-cluster Service an origin URL names and its port; undefined for anything else; a string when portless. */
function inClusterService(origin: string): { service: string; namespace: string; port: number } | string | undefined {
  const url = new URL(origin);
  const match = IN_CLUSTER_HOST.exec(url.hostname.toLowerCase());
  if (!match) return undefined;
  const scheme = url.protocol.slice(0, -1);
  const port = url.port ? Number(url.port) : SCHEME_PORTS[scheme];
  if (port === undefined) return `'${origin}' needs a port (${scheme} has no default)`;
  return { service: match[1]!, namespace: match[3]!, port };
}

/**
 * Whether a route's namespace is in the mesh, or the config error that says why not. ztunnel enforces nothing in
 * a namespace outside the mesh (the allow would be void and the hop plaintext), so that takes an explicit
 * `mesh: false`.
 */
function meshMembership(
  configKey: string,
  namespace: string,
  mesh: boolean | undefined,
  enrolled: ReadonlySet<string>,
): boolean | ConfigIssue {
  if (enrolled.has(namespace)) {
    return mesh === false
      ? { key: `${configKey}.mesh`, message: `is false, but '${namespace}' is in ${PROJECT}:istio.meshNamespaces` }
      : true;
  }
  return mesh === false
    ? false
    : {
        key: configKey,
        message:
          `its namespace '${namespace}' is not in ${PROJECT}:istio.meshNamespaces, so no policy protects it; ` +
          `add the namespace to istio.meshNamespaces, or set 'mesh: false' on the route to keep it outside the mesh`,
      };
}

/** Normalises config routes into the one list the gateway, policies and tunnel consume. */
export function normaliseRoutes(
  routes: ParsedConfig["routes"],
  domain: string,
  meshNamespaces: readonly string[],
): { routes: Route[]; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const enrolled = new Set(meshNamespaces);
  const seen = new Map<string, string>();
  const names = new Map<string, string>();
  const out: Route[] = [];
  routes.forEach((route, index) => {
    const configKey = `${PROJECT}:routes[${index}]`;
    const resolved = resolveHost(route.host, domain);
    if (typeof resolved === "string") {
      issues.push({ key: `${configKey}.host`, message: resolved });
      return;
    }
    const earlier = seen.get(resolved.hostname);
    if (earlier) {
      issues.push({ key: `${configKey}.host`, message: `${resolved.hostname} is already routed by ${earlier}` });
      return;
    }
    // Resource names derive from hostnames; `a.b` and `a-b` would collide in the Pulumi graph.
    const sameName = names.get(resolved.name);
    if (sameName) {
      issues.push({
        key: `${configKey}.host`,
        message: `${resolved.hostname} gets the same resource name '${resolved.name}' as ${sameName}; rename one`,
      });
      return;
    }
    seen.set(resolved.hostname, configKey);
    names.set(resolved.name, configKey);
    const targetPort = route.targetPort !== undefined ? { targetPort: route.targetPort } : {};
    if (route.kind === "gateway") {
      const mesh = meshMembership(configKey, route.namespace, route.mesh, enrolled);
      if (typeof mesh !== "boolean") {
        issues.push(mesh);
        return;
      }
      const { service, namespace, port } = route;
      out.push({ kind: "gateway", ...resolved, configKey, service, namespace, port, ...targetPort, mesh });
      return;
    }
    const service = inClusterService(route.origin);
    if (typeof service === "string") {
      issues.push({ key: `${configKey}.origin`, message: service });
      return;
    }
    if (service === undefined) {
      for (const field of ["targetPort", "mesh"] as const) {
        if (route[field] !== undefined) {
          issues.push({
            key: `${configKey}.${field}`,
            message: "only applies to an origin in this cluster (<service>.<namespace>.svc[.cluster.local])",
          });
        }
      }
      out.push({ kind: "direct", ...resolved, configKey, origin: route.origin });
      return;
    }
    const mesh = meshMembership(configKey, service.namespace, route.mesh, enrolled);
    if (typeof mesh !== "boolean") {
      issues.push(mesh);
      return;
    }
    out.push({
      kind: "direct",
      ...resolved,
      configKey,
      origin: route.origin,
      inCluster: { ...service, ...targetPort, mesh },
    });
  });
  return { routes: out, issues };
}

function blockRange(block: LbPoolBlock): AddressRange {
  // Both shapes were validated by the schema, so the ranges exist.
  return ("cidr" in block ? cidrRange(block.cidr) : startStopRange(block.start, block.stop))!;
}

function describeBlock(block: LbPoolBlock): string {
  return "cidr" in block ? block.cidr : `${block.start}-${block.stop}`;
}

/** Checks that need several keys: the LB pool against the networks, the API endpoint, DNS ownership. */
export function crossChecks(config: ParsedConfig, routes: Route[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const networks = [
    ...config.network.podCidrs.map((c, i) => ({ key: `network.podCidrs[${i}]`, text: c, range: cidrRange(c)! })),
    { key: "network.serviceCidr", text: config.network.serviceCidr, range: cidrRange(config.network.serviceCidr)! },
  ];
  const blocks = config.cilium.lbPool.map((block) => ({ block, range: blockRange(block) }));
  blocks.forEach(({ block, range }, index) => {
    for (const net of networks) {
      if (rangesOverlap(range, net.range)) {
        issues.push({
          key: `${PROJECT}:cilium.lbPool[${index}]`,
          message: `${describeBlock(block)} overlaps ${PROJECT}:${net.key} (${net.text}); the LB pool must be outside the pod and service networks`,
        });
      }
    }
    blocks.slice(index + 1).forEach((other, offset) => {
      if (rangesOverlap(range, other.range)) {
        issues.push({
          key: `${PROJECT}:cilium.lbPool[${index + offset + 1}]`,
          message: `${describeBlock(other.block)} overlaps ${PROJECT}:cilium.lbPool[${index}] (${describeBlock(block)})`,
        });
      }
    });
  });
  networks.forEach((net, index) => {
    networks.slice(index + 1).forEach((other) => {
      if (rangesOverlap(net.range, other.range)) {
        issues.push({
          key: `${PROJECT}:${other.key}`,
          message: `${other.text} overlaps ${PROJECT}:${net.key} (${net.text})`,
        });
      }
    });
  });
  if (config.istio.gateway.loadBalancerIP !== undefined) {
    const ip = config.istio.gateway.loadBalancerIP;
    if (config.istio.gateway.serviceType !== "LoadBalancer") {
      issues.push({
        key: `${PROJECT}:istio.gateway.loadBalancerIP`,
        message: "is only used with istio.gateway.serviceType LoadBalancer",
      });
    } else if (!blocks.some(({ range }) => rangeContains(range, ip))) {
      issues.push({
        key: `${PROJECT}:istio.gateway.loadBalancerIP`,
        message: `${ip} is not inside ${PROJECT}:cilium.lbPool`,
      });
    }
  }
  if (config.cilium.ipamMode === "cluster-pool") {
    networks
      .filter((net) => net.key.startsWith("network.podCidrs") && net.range.family !== "ipv4")
      .forEach((net) =>
        issues.push({
          key: `${PROJECT}:${net.key}`,
          message: `${net.text} is not IPv4; cilium.ipamMode cluster-pool takes IPv4 pod networks here`,
        }),
      );
  }
  if (config.distribution !== "talos" && config.cilium.k8sServiceHost === undefined) {
    issues.push({
      key: `${PROJECT}:cilium.k8sServiceHost`,
      message: `is required for distribution '${config.distribution}' (the API server address Cilium uses instead of kube-proxy)`,
    });
  }
  const tunnelHostnames = new Map(routes.map((r) => [r.hostname, r.configKey]));
  config.externalDns.hostnames.forEach((hostname, index) => {
    const route = tunnelHostnames.get(hostname);
    if (route) {
      issues.push({
        key: `${PROJECT}:externalDns.hostnames[${index}]`,
        message: `${hostname} is a tunnel route (${route}); a hostname is owned either by the tunnel or by external-dns, not both`,
      });
    } else if (hostname !== config.domain && !hostname.endsWith(`.${config.domain}`)) {
      issues.push({
        key: `${PROJECT}:externalDns.hostnames[${index}]`,
        message: `${hostname} is outside the domain ${config.domain}`,
      });
    }
  });
  const enrolled = new Set(config.istio.meshNamespaces);
  // ztunnel enforces policies only in enrolled namespaces, and only mesh workloads carry an identity to match.
  const notEnrolled = (namespace: string) =>
    `'${namespace}' is not in ${PROJECT}:istio.meshNamespaces: ztunnel enforces nothing there; enrol it first`;
  config.istio.allow.forEach((rule, index) => {
    if (!enrolled.has(rule.to.namespace)) {
      issues.push({ key: `${PROJECT}:istio.allow[${index}].to.namespace`, message: notEnrolled(rule.to.namespace) });
    }
    const identities = new Set([...enrolled, config.tunnel.cloudflared.namespace, config.istio.gateway.namespace]);
    if (!identities.has(rule.from.namespace)) {
      issues.push({
        key: `${PROJECT}:istio.allow[${index}].from.namespace`,
        message: `'${rule.from.namespace}' is not in the mesh, so its workloads have no identity an allow can match; enrol it in ${PROJECT}:istio.meshNamespaces, or admit them with an mtlsExceptions entry`,
      });
    }
  });
  config.istio.mtlsExceptions.forEach((exception, index) => {
    if (!enrolled.has(exception.namespace)) {
      issues.push({
        key: `${PROJECT}:istio.mtlsExceptions[${index}].namespace`,
        message: `'${exception.namespace}' is not in ${PROJECT}:istio.meshNamespaces: outside the mesh it takes plaintext anyway; enrol it, or drop the exception`,
      });
    }
  });
  for (const own of [
    config.istio.gateway.namespace,
    config.tunnel.cloudflared.namespace,
    config.externalDns.namespace,
  ]) {
    if (enrolled.has(own)) {
      issues.push({
        key: `${PROJECT}:istio.meshNamespaces`,
        message: `lists '${own}', a namespace this stack creates and enrols (or deliberately leaves out) itself`,
      });
    }
  }
  return issues;
}

/** Distribution-provided API endpoint: Talos serves the API on every node through KubePrism. */
const DISTRIBUTION_API: Partial<Record<Distribution, { host: string; port: number }>> = {
  talos: { host: "localhost", port: 7445 },
};

/** Reads the raw stack values of every known key; structured keys are parsed from JSON. */
function readRaw(
  get: (key: string) => string | undefined,
  allKeys: string[],
): { raw: Record<string, unknown>; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const raw: Record<string, unknown> = {};
  const known = new Set(CONFIG_KEYS);
  for (const fullKey of allKeys) {
    const [namespace, key] = fullKey.split(":");
    if (namespace === PROJECT && key !== undefined && !known.has(key)) {
      issues.push({ key: fullKey, message: `is not a setting of this stack (known: ${[...known].sort().join(", ")})` });
    }
  }
  for (const key of Object.keys(configSchema.shape)) {
    const text = get(`${PROJECT}:${key}`);
    if (text === undefined) continue;
    if (!STRUCTURED_KEYS.has(key)) {
      raw[key] = text;
      continue;
    }
    try {
      raw[key] = JSON.parse(text);
    } catch {
      issues.push({ key: `${PROJECT}:${key}`, message: "must be a YAML object or list in the stack file" });
    }
  }
  return { raw, issues };
}

/**
 * Validates and normalises a raw config object (the stack file's values). Pure: the tests call it directly.
 * Throws ConfigError listing every problem, each naming its key.
 */
export function parseConfig(
  raw: Record<string, unknown>,
  secrets: { cloudflareApiToken?: pulumi.Output<string>; externalDnsApiToken?: pulumi.Output<string> },
  stack: string,
): HomeclusterConfig {
  // Pulumi.yaml gives optional keys an empty default (the CLI requires declared keys without one): empty is unset.
  const set = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== ""));
  const parsed = configSchema.safeParse(set, { reportInput: true });
  const issues: ConfigIssue[] = [];
  if (!secrets.cloudflareApiToken) {
    issues.push({
      key: `${PROJECT}:${SECRET_KEYS.cloudflareApiToken}`,
      message: `is required but not set (pulumi config set --secret ${SECRET_KEYS.cloudflareApiToken} <token>)`,
    });
  }
  if (!parsed.success) throw new ConfigError([...zodIssues(parsed.error), ...issues]);
  const config = parsed.data;
  const normalised = normaliseRoutes(config.routes, config.domain, config.istio.meshNamespaces);
  issues.push(...normalised.issues, ...crossChecks(config, normalised.routes));
  if (issues.length > 0 || !secrets.cloudflareApiToken) throw new ConfigError(issues);

  const api = DISTRIBUTION_API[config.distribution];
  return {
    ...config,
    stack,
    versions: { ...defaultVersions, ...config.versions },
    cilium: {
      ...config.cilium,
      k8sServiceHost: config.cilium.k8sServiceHost ?? api!.host,
      k8sServicePort: config.cilium.k8sServicePort ?? api?.port ?? 6443,
    },
    routes: normalised.routes,
    externalDns: { ...config.externalDns, txtOwnerId: config.externalDns.txtOwnerId ?? `${PROJECT}-${stack}` },
    cloudflareApiToken: secrets.cloudflareApiToken,
    ...(secrets.externalDnsApiToken ? { externalDnsApiToken: secrets.externalDnsApiToken } : {}),
  };
}

/** Loads the stack's config once; index.ts calls this before creating anything. */
export function loadConfig(): HomeclusterConfig {
  const cfg = new pulumi.Config(PROJECT);
  const { raw, issues } = readRaw(pulumi.runtime.getConfig, Object.keys(pulumi.runtime.allConfig()));
  // Presence is checked without reading the value, so a missing secret is a config error, not a stack trace.
  const secret = (key: string) => {
    const value = pulumi.runtime.getConfig(`${PROJECT}:${key}`);
    if (value === undefined || value === "") return undefined;
    if (!isConfigSecret(`${PROJECT}:${key}`)) {
      issues.push({
        key: `${PROJECT}:${key}`,
        message: `is stored in plain text in the stack file; remove it and run: pulumi config set --secret ${key} <token>`,
      });
    }
    return cfg.requireSecret(key);
  };
  const secrets = {
    cloudflareApiToken: secret(SECRET_KEYS.cloudflareApiToken),
    externalDnsApiToken: secret(SECRET_KEYS.externalDnsApiToken),
  };
  if (issues.length > 0) throw new ConfigError(issues);
  return parseConfig(raw, secrets, pulumi.getStack());
}

/**
 * Whether the CLI handed a key over as a secret (encrypted in the stack file). The SDK has this at run time but keeps
 * it out of its typings.
 */
function isConfigSecret(key: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  return runtime.isConfigSecret?.(key) ?? true;
}

// ---------------------------------------------------------------------------------------------------------
// Preconditions: what `pulumi up` assumes and does not create
// ---------------------------------------------------------------------------------------------------------

/** A namespace the stack writes into or labels without creating it, and the config keys that need it. */
export interface RequiredNamespace {
  name: string;
  neededBy: string[];
}

export interface Preconditions {
  /** Namespaces that must exist before `pulumi up`: the stack labels them or creates objects in them. */
  namespaces: RequiredNamespace[];
  /** Helm releases the stack installs: none may exist already unless this stack installed it. */
  releases: { releaseName: string; namespace: string }[];
  /** Everything else the stack assumes, one sentence each. */
  assumptions: string[];
}

/** What must hold before `pulumi up` with this config; pure, read by the offline plan and by preflight. */
export function preconditions(config: HomeclusterConfig): Preconditions {
  const created = new Set([
    charts.istiod.namespace,
    config.istio.gateway.namespace,
    config.tunnel.cloudflared.namespace,
    config.externalDns.namespace,
  ]);
  const needs = new Map<string, string[]>();
  const need = (namespace: string, by: string) => {
    if (!created.has(namespace)) needs.set(namespace, [...(needs.get(namespace) ?? []), by]);
  };
  config.istio.meshNamespaces.forEach((ns) => need(ns, `${PROJECT}:istio.meshNamespaces (ambient label)`));
  for (const route of config.routes) {
    if (route.kind === "gateway")
      need(route.namespace, `${route.configKey} (VirtualService${route.mesh ? ", allow" : ""})`);
    else if (route.inCluster?.mesh) need(route.inCluster.namespace, `${route.configKey} (allow)`);
  }
  config.istio.allow.forEach((rule, i) => need(rule.to.namespace, `${PROJECT}:istio.allow[${i}]`));
  config.istio.mtlsExceptions.forEach((e, i) => need(e.namespace, `${PROJECT}:istio.mtlsExceptions[${i}]`));
  config.istio.serviceEntries.forEach((e, i) => need(e.namespace, `${PROJECT}:istio.serviceEntries[${i}]`));

  const releases = [
    ...[charts.cilium, charts.istioBase, charts.istiod, charts.istioCni, charts.ztunnel].map((c) => ({
      releaseName: c.releaseName,
      namespace: c.namespace,
    })),
    { releaseName: charts.istioGateway.releaseName, namespace: config.istio.gateway.namespace },
    { releaseName: charts.externalDns.releaseName, namespace: config.externalDns.namespace },
  ];
  const pool = config.cilium.lbPool.map(describeBlock).join(", ");
  const tokenRights = [
    `Cloudflare Tunnel Edit on account ${config.cloudflareAccountId}`,
    `DNS Edit and Zone Read on zone ${config.cloudflareZoneId} (${config.domain})`,
    ...(config.externalDnsApiToken ? [] : ["API Tokens Edit (to mint external-dns' token)"]),
  ];
  const hostnames = config.routes.map((r) => r.hostname);
  return {
    namespaces: [...needs].map(([name, neededBy]) => ({ name, neededBy })),
    releases,
    assumptions: [
      `kube context '${config.kubeContext}' exists in ${config.kubeconfig ? `${PROJECT}:kubeconfig` : "$KUBECONFIG or ~/.kube/config"}`,
      `the nodes run no CNI and no kube-proxy: Cilium replaces both, reaching the API server at ${config.cilium.k8sServiceHost}:${config.cilium.k8sServicePort}`,
      `the LB pool (${pool}) is free on the LAN: outside the DHCP range, used by no host`,
      `no Helm release ${releases.map((r) => `${r.namespace}/${r.releaseName}`).join(", ")} exists unless this stack installed it`,
      `the Cloudflare API token may: ${tokenRights.join("; ")}`,
      `no tunnel named '${config.tunnel.name}' exists in the account` +
        (hostnames.length > 0 ? `, and no DNS record at ${hostnames.join(", ")} other than this stack's` : ""),
      ...(config.externalDns.serviceMonitor ? ["the Prometheus Operator's ServiceMonitor CRD is installed"] : []),
    ],
  };
}
