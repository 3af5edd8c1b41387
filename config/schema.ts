/**
 * The schema of every `homecluster:*` key: the one declaration of each config shape, its defaults and the
 * description the reference (docs/configuration.md, generated from this file) prints; and the one resolved type of
 * each section, which config/load.ts returns and components and builders take. Nothing declares them again. It
 * reads nothing: config/load.ts reads Pulumi's config.
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import type { LbPoolBlock } from "../crds/cilium-io";
import { cidrRange, isIpAddress, startStopRange } from "../lib/net";
import type { Adoption } from "../model/adoption";
import type { RecordOwner } from "../model/dns-ownership";
import type { OwnNamespaces } from "../model/namespaces";
import type { Route } from "../model/routes";
import { CLOUDFLARED_TAG, defaultChartRepositories, type Versions } from "../versions";

export const PROJECT = "homecluster";

// ---------------------------------------------------------------------------------------------------------
// Value formats
// ---------------------------------------------------------------------------------------------------------

export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

const k8sName = z
  .string()
  .regex(DNS_LABEL, "must be a Kubernetes name (lower-case letters, digits and '-', at most 63 characters)");
const domainName = z
  .string()
  .regex(DOMAIN, "must be a lower-case DNS name such as example.com (no scheme, no trailing dot)");
const cloudflareId = z
  .string()
  .regex(/^[0-9a-f]{32}$/, "must be a 32-character hexadecimal Cloudflare id (in quotes if it is all digits)");
const port = z.number().int("must be a whole number").min(1, "must be 1-65535").max(65535, "must be 1-65535");
const semver = z.string().regex(/^\d+\.\d+\.\d+$/, "must be an exact version such as 1.2.3 (no range, no 'v')");
const cidr = z.string().refine((s) => cidrRange(s) !== undefined, "must be a network in CIDR form such as 10.0.0.0/16");
const ipAddress = z.string().refine(isIpAddress, "must be an IP address");
const labelMap = z.record(z.string().min(1), z.string());
/** A free-form Helm values object (escape hatch), deep-merged last. */
const helmValues = z.record(z.string(), z.unknown());

// ---------------------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------------------

const distribution = z
  .enum(["talos", "k3s", "kubeadm"])
  .default("kubeadm")
  .describe(
    "Cluster distribution: selects the Cilium preset (talos: KubePrism API endpoint localhost:7445, cgroup mounted by Talos, no SYS_MODULE).",
  );

/** Distribution-provided API endpoint: Talos serves the API on every node through KubePrism. */
export const DISTRIBUTION_API: Partial<Record<Distribution, { host: string; port: number }>> = {
  talos: { host: "localhost", port: 7445 },
};

const lbPoolBlock = z.union(
  [
    z.strictObject({ cidr }),
    z
      .strictObject({ start: ipAddress, stop: ipAddress })
      .refine((b) => startStopRange(b.start, b.stop) !== undefined, "stop must not be below start (same IP family)"),
  ],
  { error: "must be { cidr } or { start, stop }" },
) satisfies z.ZodType<LbPoolBlock>;

const ciliumSchema = z
  .strictObject({
    k8sServiceHost: z
      .string()
      .min(1)
      .optional()
      .describe(
        "API server address the agents use instead of kube-proxy. Talos: localhost (KubePrism); required elsewhere.",
      ),
    k8sServicePort: port.optional().describe("API server port. Talos: 7445 (KubePrism); elsewhere 6443."),
    ipamMode: z
      .enum(["kubernetes", "cluster-pool"])
      .default("kubernetes")
      .describe("Pod IPAM: the nodes' podCIDRs (kubernetes), or network.podCidrs handed out by Cilium (cluster-pool)."),
    clusterName: k8sName.default(PROJECT).describe("Cilium cluster name."),
    clusterId: z
      .number()
      .int()
      .min(0)
      .max(255)
      .default(1)
      .describe("Cilium cluster id (1-255 for a future cluster mesh)."),
    operatorReplicas: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(1)
      .describe("cilium-operator replicas: 1 fits one node, 2 for HA."),
    hubbleUi: z.boolean().default(true).describe("Deploy the Hubble UI next to Hubble Relay (Relay is always on)."),
    encryption: z
      .enum(["wireguard", "none"])
      .default("wireguard")
      .describe(
        "Transparent encryption of pod traffic between nodes (WireGuard, Linux 5.6 or newer): cloudflared reaches the gateway in plaintext, Access tokens included, since the gateway takes no mTLS.",
      ),
    k8sClientRateLimit: z
      .strictObject({
        qps: z.number().int().min(1).default(30).describe("Sustained requests per second."),
        burst: z.number().int().min(1).default(60).describe("Burst requests per second."),
      })
      .prefault({})
      .describe(
        "The agents' API rate limit, raised from the chart's 10/20 because L2 announcements hold one lease per LoadBalancer Service; the operator keeps the chart's 100/200.",
      ),
    lbPool: z
      .array(lbPoolBlock)
      .min(1, "needs at least one block")
      .describe(
        "LB IPAM pool for LoadBalancer Services: free LAN addresses outside the DHCP range, as { cidr } or { start, stop } blocks.",
      ),
    l2: z
      .strictObject({
        interfaces: z
          .array(z.string().min(1))
          .min(1)
          .default(["^eth[0-9]+", "^en.+"])
          .describe("Regular expressions of the node interfaces that answer ARP for LoadBalancer addresses."),
        nodeSelector: labelMap.default({}).describe("Labels of the nodes that may announce (empty: all)."),
      })
      .prefault({})
      .describe("L2 announcements of LoadBalancer addresses."),
    values: helmValues.default({}).describe("Escape hatch: Cilium chart values deep-merged over everything above."),
  })
  .describe("Cilium, the CNI: kube-proxy replacement, LB IPAM with L2 announcements, Hubble.");

const networkSchema = z
  .strictObject({
    podCidrs: z
      .array(cidr)
      .min(1)
      .describe("Pod networks (cluster-pool IPAM hands them out; the LB pool may not overlap)."),
    serviceCidr: cidr.describe("The Service network (k3s: 10.43.0.0/16; kubeadm: 10.96.0.0/12)."),
  })
  .describe("The cluster's networks, for overlap checks and cluster-pool IPAM.");

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

const versionsSchema = z
  .strictObject({
    cilium: versionFrom("1.19.0", "older charts need the removed externalIPs/nodePort toggles")
      .optional()
      .describe("Cilium chart version."),
    istio: versionFrom("1.24.0", "ambient mode is generally available from 1.24")
      .optional()
      .describe("Version of all five Istio charts."),
    externalDns: versionFrom("1.21.0", "older external-dns ignores the label filter on Istio sources")
      .optional()
      .describe("external-dns chart version."),
    cloudflared: z
      .string()
      .regex(CLOUDFLARED_TAG, "must be a cloudflared release tag such as 2026.8.2 (never 'latest')")
      .optional()
      .describe("cloudflared image tag."),
  })
  .prefault({})
  .describe("Overrides of the pinned versions in versions.ts (each defaults to its pin).");

/** A chart repository: Helm's (http, https) or an OCI registry path; credentials never in the URL (it is in the state). */
function isChartRepository(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return ["https:", "http:", "oci:"].includes(url.protocol) && url.host !== "" && !url.username && !url.password;
}
const chartRepository = (family: keyof typeof defaultChartRepositories, charts: string) =>
  z
    .string()
    .refine(
      isChartRepository,
      "must be a chart repository URL (https://…, http://…) or an OCI registry path (oci://registry/path), without credentials",
    )
    .default(defaultChartRepositories[family])
    .describe(`Where the ${charts} come from (default: ${defaultChartRepositories[family]}).`);

const chartsSchema = z
  .strictObject({
    cilium: chartRepository("cilium", "Cilium chart"),
    istio: chartRepository("istio", "five Istio charts (base, istiod, cni, ztunnel, gateway)"),
    externalDns: chartRepository("externalDns", "external-dns chart"),
  })
  .prefault({})
  .describe(
    "Where each chart family comes from: the upstream repositories, or a mirror, an OCI registry or an air-gapped cluster's own repository serving the same charts at the pinned versions.",
  );

const helmSchema = z
  .strictObject({
    timeout: z
      .number()
      .int("must be a whole number of seconds")
      .min(30, "must be 30-3600 seconds")
      .max(3600, "must be 30-3600 seconds")
      .default(600)
      .describe(
        "Seconds each Helm release may take to become ready; past it the up fails and the release rolls back (atomic). Raise it for slow nodes or image pulls.",
      ),
  })
  .prefault({})
  .describe("How the stack's Helm releases are installed and upgraded.");

const meshPeer = z.strictObject({
  namespace: k8sName.describe("A mesh namespace (or cloudflared's, or the gateway's)."),
  serviceAccount: k8sName.optional().describe("Only this service account's identity; absent: the whole namespace."),
});

const mtlsException = z
  .strictObject({
    namespace: k8sName.describe("A mesh namespace."),
    ports: z.array(port).default([]).describe("Container ports; empty: every port (ports need a selector)."),
    selector: labelMap
      .refine((m) => Object.keys(m).length > 0, "must name at least one label")
      .optional()
      .describe("Labels of the pods it covers; absent: the whole namespace."),
  })
  .refine((e) => e.ports.length === 0 || e.selector !== undefined, {
    error: "need a selector: Istio applies port-level mTLS only to selected workloads (omit ports for all)",
    path: ["ports"],
  });

const meshAllow = z.strictObject({
  from: meshPeer.describe("Who may connect."),
  to: z
    .strictObject({
      namespace: k8sName.describe("A mesh namespace."),
      ports: z.array(port).min(1).describe("Container ports."),
    })
    .describe("What they may reach."),
});

const serviceEntry = z.strictObject({
  name: k8sName.describe("The ServiceEntry's name."),
  namespace: k8sName.default("istio-system").describe("Namespace of the ServiceEntry (istio-system: mesh-wide)."),
  hosts: z.array(domainName).min(1).describe("The external hostnames."),
  ports: z
    .array(
      z.strictObject({
        number: port.describe("The port."),
        protocol: z.enum(["HTTP", "HTTPS", "HTTP2", "GRPC", "TLS", "TCP"]).describe("Its protocol."),
        name: k8sName.describe("Its name."),
      }),
    )
    .min(1)
    .describe("The ports the mesh may use."),
  // STATIC would need endpoints, which this stack does not take.
  resolution: z.enum(["DNS", "NONE"]).default("DNS").describe("How the mesh resolves the hosts."),
});

const gatewaySchema = z
  .strictObject({
    namespace: k8sName.default("istio-ingress").describe("Namespace the stack creates for the ingress gateway."),
    serviceType: z
      .enum(["ClusterIP", "LoadBalancer"])
      .default("ClusterIP")
      .describe("ClusterIP: reached only through the tunnel; LoadBalancer: also on the LAN."),
    loadBalancerIP: ipAddress.optional().describe("With LoadBalancer: a fixed address inside cilium.lbPool."),
    replicas: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(10, "must be at most 10")
      .default(2)
      .describe(
        "Gateway pods, spread over nodes, with a PodDisruptionBudget keeping one through a drain when there are 2 or more.",
      ),
  })
  .prefault({})
  .describe("The Istio ingress gateway.");

const istioSchema = z
  .strictObject({
    meshNamespaces: z
      .array(k8sName)
      .refine((list) => new Set(list).size === list.length, "lists a namespace twice")
      .default([])
      .describe("Existing namespaces whose pods join the ambient mesh (istio.io/dataplane-mode=ambient)."),
    defaultDeny: z
      .boolean()
      .default(true)
      .describe(
        "Deny whatever no allow lets in (an empty ALLOW policy in istio-system), with the allows the stack needs.",
      ),
    allowSameNamespace: z
      .boolean()
      .default(true)
      .describe("Under the default deny: each mesh namespace may talk to itself."),
    mtlsExceptions: z
      .array(mtlsException)
      .default([])
      .describe(
        "Pods (and ports) that accept plaintext from callers outside the mesh: webhooks, LAN clients, scrapers.",
      ),
    allow: z
      .array(meshAllow)
      .default([])
      .describe("Extra allows under the default deny: from a namespace (or one service account) to ports."),
    serviceEntries: z
      .array(serviceEntry)
      .default([])
      .describe("External services added to the mesh's registry (MESH_EXTERNAL)."),
    gateway: gatewaySchema,
    values: z
      .strictObject({
        base: helmValues.optional().describe("Values of the base chart (CRDs)."),
        istiod: helmValues.optional().describe("Values of istiod."),
        cni: helmValues.optional().describe("Values of istio-cni."),
        ztunnel: helmValues.optional().describe("Values of ztunnel."),
        gateway: helmValues.optional().describe("Values of the ingress gateway."),
      })
      .default({})
      .describe("Escape hatch per chart: values deep-merged last."),
  })
  .prefault({})
  .describe("Istio in ambient mode: mesh membership, mTLS and authorization, the ingress gateway.");

/**
 * Why cloudflared would refuse an origin, or undefined. It takes no path (the request's own path is used), needs a
 * port for tcp://, and could reach no unix socket: its pod mounts no volume.
 */
function originProblem(origin: string): string | undefined {
  if (/^unix(\+tls)?:/.test(origin)) {
    return "a unix socket cannot be reached: cloudflared runs in its own pod, with no volume; point the route at a Service";
  }
  if (!/^(https?|tcp|ssh|rdp|smb):\/\/[^/?#\s]+$/.test(origin)) {
    return "must be an origin URL without a path, such as tcp://db.data.svc:5432 or http://192.168.1.10:8080";
  }
  try {
    const url = new URL(origin);
    return url.protocol === "tcp:" && url.port === ""
      ? "needs a port for tcp:// (such as tcp://db.data.svc:5432)"
      : undefined;
  } catch {
    return "must be a valid URL";
  }
}
const originUrl = z.string().superRefine((origin, ctx) => {
  const problem = originProblem(origin);
  if (problem) ctx.addIssue({ code: "custom", message: problem, input: origin });
});

const routeHost = z
  .string()
  .min(1)
  .describe(
    "One label (grafana → grafana.<domain>), @ (the apex), * (every other name), *.lab (every name below lab) or a full name in the domain.",
  );
const routeMesh = z
  .boolean()
  .optional()
  .describe(
    "false: the namespace stays outside the mesh on purpose (no allow). Otherwise it must be in istio.meshNamespaces.",
  );

const routeAccess = z
  .union([k8sName, z.array(k8sName).min(1)], { error: "must be a policy name or a list of them" })
  .optional()
  .describe("The Access policy (or policies) of access.policies that may reach it; unset: public.");

/** A public hostname through the Istio ingress gateway to a Service. */
const gatewayRouteSchema = z.strictObject({
  kind: z.literal("gateway"),
  host: routeHost,
  service: k8sName.describe("The Service's name."),
  namespace: k8sName.describe("The Service's namespace."),
  port: port.describe("The Service port."),
  targetPort: port.optional().describe("The container port behind `port`, when it differs (policies match this one)."),
  mesh: routeMesh,
  access: routeAccess,
});

/**
 * A public hostname through the gateway that an application stack serves: the stack routes it through the tunnel and
 * lets only `namespace` bind it on the Gateway; the app stack brings the VirtualService and the allow.
 */
const appRouteSchema = z.strictObject({
  kind: z.literal("app"),
  host: routeHost,
  namespace: k8sName.describe("The namespace whose VirtualServices (an application stack's) may bind the hostname."),
  mesh: routeMesh,
  access: routeAccess,
});

/** A public hostname the tunnel sends straight to an origin, bypassing the gateway. */
const directRouteSchema = z.strictObject({
  kind: z.literal("direct"),
  host: routeHost,
  origin: originUrl.describe(
    "Where cloudflared sends it: http(s)://, tcp://, ssh://, rdp://, smb://; scheme, host and port, no path.",
  ),
  targetPort: port
    .optional()
    .describe("For an origin in this cluster: the container port behind the URL's port, when it differs."),
  mesh: routeMesh,
  access: routeAccess,
  public: z
    .literal(true)
    .optional()
    .describe("A non-HTTP origin (ssh, rdp, tcp, smb) needs `access` or, to publish it to anyone, `public: true`."),
});

/** The fields that make a route one the stack serves through the gateway. */
const SERVED_FIELDS = ["service", "port", "targetPort"];

/**
 * A route is direct when it names an `origin`, served through the gateway when it names a Service, and bound by an
 * application stack otherwise. The shape is chosen first, so a misspelt or mistyped field is reported by name rather
 * than as "matches neither shape".
 */
const routeSchema = z.preprocess(
  (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
    const kind = "origin" in value ? "direct" : SERVED_FIELDS.some((field) => field in value) ? "gateway" : "app";
    return { ...value, kind };
  },
  z.discriminatedUnion("kind", [gatewayRouteSchema, appRouteSchema, directRouteSchema], {
    error:
      "must be { host, service, namespace, port } (through the gateway), { host, namespace } (bound by an application stack) or { host, origin } (direct)",
  }),
);

const tunnelSchema = z
  .strictObject({
    name: z.string().min(1).default(PROJECT).describe("The tunnel's name in the Cloudflare account."),
    protect: z
      .boolean()
      .default(true)
      .describe("Protect the tunnel and its DNS records from deletion: deleting them takes every public app offline."),
    originRequest: z
      .strictObject({
        connectTimeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(300)
          .default(30)
          .describe("Seconds to connect to an origin."),
        http2Origin: z.boolean().default(false).describe("Speak HTTP/2 to https origins."),
        noTlsVerify: z.boolean().default(false).describe("Accept any origin certificate."),
      })
      .prefault({})
      .describe("How cloudflared connects to origins (every rule inherits these)."),
    cloudflared: z
      .strictObject({
        namespace: k8sName
          .default("cloudflared")
          .describe("Namespace the stack creates for cloudflared (enrolled in the mesh)."),
        replicas: z
          .number()
          .int()
          .min(2, "must be at least 2 (a second replica keeps the tunnel up while one restarts)")
          .default(2)
          .describe("cloudflared replicas, at least 2."),
        protocol: z
          .enum(["http2", "quic", "auto"])
          .default("http2")
          .describe("Transport to Cloudflare's edge (QUIC needs UDP buffer sizes many home nodes lack)."),
      })
      .prefault({})
      .describe("cloudflared in the cluster."),
  })
  .prefault({})
  .describe("The Cloudflare Tunnel every public hostname goes through.");

const externalDnsSchema = z
  .strictObject({
    namespace: k8sName
      .default("external-dns")
      .describe("Namespace the stack creates for external-dns (not in the mesh)."),
    sources: z
      .array(z.enum(["service", "ingress", "istio-gateway", "istio-virtualservice", "gateway-httproute", "crd"]))
      .min(1)
      .default(["service", "ingress", "istio-gateway", "istio-virtualservice"])
      .describe("Objects external-dns reads."),
    policy: z
      .enum(["sync", "upsert-only"])
      .default("sync")
      .describe("sync deletes the records it owns when their object goes; upsert-only never deletes."),
    proxied: z
      .boolean()
      .default(false)
      .describe(
        "Proxy every record through Cloudflare. Off: records hold LAN addresses the edge cannot reach; one object opts in with the annotation external-dns.alpha.kubernetes.io/cloudflare-proxied.",
      ),
    interval: z
      .string()
      .regex(/^\d+(s|m|h)$/, "must be a duration such as 1m")
      .default("1m")
      .describe("Reconcile interval."),
    logLevel: z.enum(["debug", "info", "warning", "error"]).default("info").describe("Log level."),
    txtOwnerId: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be lower-case letters, digits and '-'")
      .optional()
      .describe("TXT registry owner id; default homecluster-<stack>, unique to this stack."),
    hostnames: z
      .array(domainName)
      .default([])
      .describe("Hostnames you expect external-dns to publish; none may also be a route."),
    serviceMonitor: z
      .boolean()
      .default(false)
      .describe("Create a ServiceMonitor (needs the Prometheus Operator CRDs)."),
  })
  .prefault({})
  .describe("external-dns: publishes the cluster's Services and Istio objects in the zone, never a tunnel hostname.");

const accessPolicy = z
  .strictObject({
    emails: z
      .array(z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "must be an email address"))
      .default([])
      .describe("People, by email address."),
    emailDomains: z.array(domainName).default([]).describe("Everyone with an address in these domains."),
    groups: z.array(z.string().min(1)).default([]).describe("Access group ids."),
    serviceTokens: z
      .array(z.string().min(1))
      .default([])
      .describe("Service token ids (non-interactive clients: they get a Service Auth policy of their own)."),
  })
  .refine(
    (p) => p.emails.length + p.emailDomains.length + p.groups.length + p.serviceTokens.length > 0,
    "needs at least one of emails, emailDomains, groups or serviceTokens",
  );

const accessSchema = z
  .strictObject({
    policies: z
      .record(k8sName, accessPolicy)
      .default({})
      .describe(
        "Named Access policies that routes refer to with `access:`, each allowing whoever any of its lists names.",
      ),
    sessionDuration: z
      .string()
      .regex(/^(\d+(h|m|s|ms))+$/, "must be a duration such as 24h or 2h45m")
      .default("24h")
      .describe("How long a login lasts before Access asks again."),
    teamDomain: domainName
      .refine((d) => d.endsWith(".cloudflareaccess.com"), "must be <team>.cloudflareaccess.com")
      .optional()
      .describe("The Zero Trust team domain; unset: looked up from the account's Zero Trust organisation."),
  })
  .prefault({})
  .describe(
    "Cloudflare Access (Zero Trust) in front of the routes that name a policy; the gateway checks its token too.",
  );

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const HEX32 = "[0-9a-f]{32}";
/** A value of `adopt`: the id Pulumi's `import` option takes, in the form the resource's provider documents. */
const importId = (pattern: string, form: string) =>
  z.string().regex(new RegExp(`^${pattern}$`), `must be ${form}, the id \`pulumi import\` takes`);

const adoptSchema = z
  .strictObject({
    releases: z
      .record(z.string(), importId("[a-z0-9-]+/[a-z0-9][a-z0-9.-]*", "<namespace>/<release>"))
      .default({})
      .describe(
        "Existing Helm releases to upgrade in place, by the stack's release name (as `npm run plan` lists them): `<namespace>/<release>` as `helm list -A` shows it. The stack keeps that name.",
      ),
    namespaces: z
      .array(k8sName)
      .default([])
      .describe(
        "Namespaces the stack creates that exist already (istio-system, cloudflared, …): taken over as they are.",
      ),
    objects: z
      .array(
        z
          .string()
          .regex(
            /^[A-Z][A-Za-z0-9]* ([a-z0-9][a-z0-9-]*\/)?[a-z0-9][a-z0-9.-]*$/,
            "must be `<Kind> <namespace>/<name>` (or `<Kind> <name>` when cluster-scoped), such as `Secret cloudflared/tunnel-token`",
          ),
      )
      .default([])
      .describe(
        "Other objects the stack creates that exist already, as `<Kind> <namespace>/<name>`: taken over, the stack's fields forced over other field managers'.",
      ),
    tunnel: importId(`${HEX32}/${UUID}`, "<account id>/<tunnel id>")
      .optional()
      .describe("The existing tunnel (and its remote configuration) to take over: `<account id>/<tunnel id>`."),
    dnsRecords: z
      .record(z.string(), importId(`${HEX32}/${HEX32}`, "<zone id>/<record id>"))
      .default({})
      .describe("Existing DNS records on routed hostnames, by hostname: `<zone id>/<record id>`."),
    accessApplications: z
      .record(z.string(), importId(`accounts/${HEX32}/${UUID}`, "accounts/<account id>/<application id>"))
      .default({})
      .describe("Existing Access applications of protected routes, by hostname: `accounts/<account id>/<app id>`."),
    accessPolicies: z
      .record(z.string(), importId(`${HEX32}/${UUID}`, "<account id>/<policy id>"))
      .default({})
      .describe(
        "Existing reusable Access policies, by the name the stack gives them (`<policy>`, `<policy> (service tokens)`): `<account id>/<policy id>`.",
      ),
  })
  .prefault({})
  .describe(
    "Take over a running cluster and account (an old Flux setup) instead of creating what exists: `npm run adopt` prints this (docs/migration.md).",
  );

/** Every plain (non-secret) key, as the stack file holds it. */
export const configSchema = z.strictObject({
  kubeContext: z
    .string()
    .min(1)
    .describe(
      "The kube context (from your kubeconfig) of the cluster to deploy to; never the current context implicitly.",
    ),
  kubeconfig: z
    .string()
    .min(1)
    .optional()
    .describe("Path to, or contents of, a kubeconfig; unset: $KUBECONFIG or ~/.kube/config."),
  distribution,
  domain: domainName.describe("The Cloudflare zone's domain (e.g. example.com); every route is a hostname in it."),
  cloudflareAccountId: cloudflareId.describe("Cloudflare account id (32 hex characters) that owns the tunnel."),
  cloudflareZoneId: cloudflareId.describe("Cloudflare zone id (32 hex characters) of the domain."),
  network: networkSchema,
  versions: versionsSchema,
  charts: chartsSchema,
  helm: helmSchema,
  cilium: ciliumSchema,
  istio: istioSchema,
  routes: z
    .array(routeSchema)
    .default([])
    .describe(
      "Public hostnames: each becomes a tunnel rule, a proxied CNAME, and (through the gateway) a VirtualService and its allow.",
    ),
  tunnel: tunnelSchema,
  externalDns: externalDnsSchema,
  access: accessSchema,
  adopt: adoptSchema,
});

/** Secret keys: read only as secrets, never as plain values. */
export const secretKeys = {
  cloudflareApiToken: z
    .string()
    .describe(
      "Cloudflare API token for Pulumi: Account Cloudflare Tunnel Edit, Zone DNS Edit, Zone Read; User API Tokens Edit to mint external-dns' token; Access Apps and Policies Edit when a route is behind Access (README).",
    ),
  externalDnsApiToken: z
    .string()
    .optional()
    .describe("An existing token for external-dns (Zone Read + DNS Edit on the zone); unset, the stack mints one."),
} as const;

/** Every key this stack reads, plain and secret (Pulumi.yaml declares exactly these). */
export const CONFIG_KEYS: readonly string[] = [...Object.keys(configSchema.shape), ...Object.keys(secretKeys)];

/** The schema's output: every key validated and defaulted, before the checks across keys (config/ only). */
export type ParsedConfig = z.output<typeof configSchema>;

/** `homecluster:cilium`, with the API endpoint resolved for the distribution. */
export type CiliumSettings = Omit<ParsedConfig["cilium"], "k8sServiceHost" | "k8sServicePort"> & {
  k8sServiceHost: string;
  k8sServicePort: number;
};
/** `homecluster:externalDns`, with the TXT owner id resolved for the stack. */
export type ExternalDnsSettings = Omit<ParsedConfig["externalDns"], "txtOwnerId"> & { txtOwnerId: string };
export type Distribution = ParsedConfig["distribution"];
export type NetworkSettings = ParsedConfig["network"];
export type IstioSettings = ParsedConfig["istio"];
export type MtlsException = IstioSettings["mtlsExceptions"][number];
export type MeshAllow = IstioSettings["allow"][number];
export type ExternalService = IstioSettings["serviceEntries"][number];
export type TunnelSettings = ParsedConfig["tunnel"];
export type ChartRepositories = ParsedConfig["charts"];
export type HelmSettings = ParsedConfig["helm"];
export type RouteEntry = ParsedConfig["routes"][number];
export type AccessSettings = ParsedConfig["access"];
export type AccessPolicySettings = AccessSettings["policies"][string];
export type AdoptEntries = ParsedConfig["adopt"];

/** The stack's validated plain config: every key checked, the routes normalised, every default applied. */
export interface HomeclusterConfig extends Omit<
  ParsedConfig,
  "routes" | "versions" | "cilium" | "externalDns" | "adopt"
> {
  /** The project and stack this config belongs to (named in the tunnel's DNS record comments). */
  owner: RecordOwner;
  versions: Versions;
  cilium: CiliumSettings;
  routes: Route[];
  externalDns: ExternalDnsSettings;
  /** The namespaces the stack creates (config/namespaces.ts). */
  namespaces: OwnNamespaces;
  /** What the stack takes over instead of creating (config/adoption.ts). */
  adopt: Adoption;
}

/** The stack's secrets, read only as secrets. */
export interface ConfigSecrets {
  cloudflareApiToken: pulumi.Output<string>;
  /** An existing token for external-dns; when absent the stack mints a zone-scoped one. */
  externalDnsApiToken?: pulumi.Output<string>;
}
