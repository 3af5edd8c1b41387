/**
 * `homecluster:routes` → the normalised route model (model/routes.ts): hostnames resolved against the domain,
 * in-cluster origins recognised, mesh membership decided. Every problem is a config issue naming the route.
 */
import type { DirectRoute, Route, ServiceBackend } from "../model/routes";
import type { ConfigIssue } from "./issues";
import { DNS_LABEL, PROJECT, type RouteEntry } from "./schema";

/**
 * Resolves a route's `host` against the domain: `@` is the apex, `*` the wildcard, one label is relative, and
 * `*.<name>` a wildcard below that name (`*.lab` → `*.lab.example.com`).
 */
function resolveHost(host: string, domain: string): { hostname: string; name: string } | string {
  const lower = host.toLowerCase();
  if (lower === "@" || lower === domain) return { hostname: domain, name: "apex" };
  if (lower === "*" || lower === `*.${domain}`) return { hostname: `*.${domain}`, name: "wildcard" };
  if (lower.startsWith("*.")) {
    const below = resolveHost(lower.slice(2), domain);
    if (typeof below === "string") return below;
    // A wildcard covers one label: `*.*` means nothing to DNS or the tunnel.
    if (below.hostname.startsWith("*")) return `'${host}' is not a valid hostname`;
    return { hostname: `*.${below.hostname}`, name: `wildcard-${below.name}` };
  }
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
/** The default port of each scheme the schema admits without a port (it requires one for tcp://). */
const SCHEME_PORTS: Record<string, number> = { http: 80, https: 443, ssh: 22, rdp: 3389, smb: 445 };

/** The in-cluster Service an origin URL names and its port; undefined for anything else. */
function inClusterService(origin: string): Omit<ServiceBackend, "mesh"> | undefined {
  const url = new URL(origin);
  const match = IN_CLUSTER_HOST.exec(url.hostname.toLowerCase());
  if (!match) return undefined;
  const port = url.port ? Number(url.port) : SCHEME_PORTS[url.protocol.slice(0, -1)]!;
  return { service: match[1]!, namespace: match[3]!, port };
}

/**
 * Whether a route's namespace is in the mesh, or the config issue that says why not. ztunnel enforces nothing in
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

/** Schemes cloudflared proxies at L7, where Access shows its login page; anything else is a raw stream. */
const HTTP_SCHEMES = ["http:", "https:"];

/**
 * A route's Access policies, by name: each must be one of `access.policies`. A non-HTTP direct origin (SSH, RDP, a
 * database) must name one, or say `public: true`: published as it is, anyone who knows the name reaches it.
 */
function accessOf(
  configKey: string,
  entry: RouteEntry,
  hostname: string,
  policies: ReadonlySet<string>,
): { access: string[] } | { issues: ConfigIssue[] } {
  const names = entry.access === undefined ? [] : typeof entry.access === "string" ? [entry.access] : entry.access;
  const unknown = names.filter((name) => !policies.has(name));
  if (unknown.length > 0) {
    const known = policies.size > 0 ? [...policies].join(", ") : "none";
    return {
      issues: unknown.map((name) => ({
        key: `${configKey}.access`,
        message: `names '${name}', which is not a policy in ${PROJECT}:access.policies (it has: ${known})`,
      })),
    };
  }
  if (entry.kind !== "direct") {
    // The gateway matches Host headers exactly or by prefix or suffix: `*.lab.example.com:8080` escapes a suffix, so a
    // wildcard could not be checked there in every form its requests take.
    if (hostname.startsWith("*.") && names.length > 0) {
      const message = `${hostname} is a wildcard: the gateway cannot check Access's token on every form of its Host header; protect its names as routes of their own`;
      return { issues: [{ key: `${configKey}.access`, message }] };
    }
    return { access: names };
  }
  if (entry.public && names.length > 0) {
    return {
      issues: [{ key: `${configKey}.public`, message: "contradicts its 'access': a route is public or protected" }],
    };
  }
  if (!entry.public && names.length === 0 && !HTTP_SCHEMES.includes(new URL(entry.origin).protocol)) {
    const message =
      `${entry.origin} is not HTTP, and anyone who knows ${hostname} can reach it through the tunnel; ` +
      `protect it with 'access: <policy>' (a policy of ${PROJECT}:access.policies), or set 'public: true' to publish it as it is`;
    return { issues: [{ key: configKey, message }] };
  }
  return { access: names };
}

/** A direct route: its origin, and the in-cluster Service behind it when there is one. */
function directRoute(
  base: Pick<DirectRoute, "hostname" | "name" | "configKey" | "access">,
  entry: Extract<RouteEntry, { kind: "direct" }>,
  enrolled: ReadonlySet<string>,
): DirectRoute | ConfigIssue[] {
  const service = inClusterService(entry.origin);
  if (service === undefined) {
    const misplaced = (["targetPort", "mesh"] as const).filter((field) => entry[field] !== undefined);
    if (misplaced.length > 0) {
      return misplaced.map((field) => ({
        key: `${base.configKey}.${field}`,
        message: "only applies to an origin in this cluster (<service>.<namespace>.svc[.cluster.local])",
      }));
    }
    return { kind: "direct", ...base, origin: entry.origin };
  }
  const mesh = meshMembership(base.configKey, service.namespace, entry.mesh, enrolled);
  if (typeof mesh !== "boolean") return [mesh];
  const targetPort = entry.targetPort !== undefined ? { targetPort: entry.targetPort } : {};
  return { kind: "direct", ...base, origin: entry.origin, backend: { ...service, ...targetPort, mesh } };
}

/** What routes are resolved against: the zone, the mesh, and the Access policies they may name. */
export interface RouteContext {
  domain: string;
  meshNamespaces: readonly string[];
  accessPolicies: readonly string[];
}

/** Normalises config routes into the one list the gateway, policies and tunnel consume. */
export function normaliseRoutes(
  entries: readonly RouteEntry[],
  { domain, meshNamespaces, accessPolicies }: RouteContext,
): { routes: Route[]; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const enrolled = new Set(meshNamespaces);
  const policies = new Set(accessPolicies);
  const byHostname = new Map<string, string>();
  const byName = new Map<string, string>();
  const routes: Route[] = [];
  entries.forEach((entry, index) => {
    const configKey = `${PROJECT}:routes[${index}]`;
    const resolved = resolveHost(entry.host, domain);
    if (typeof resolved === "string") {
      issues.push({ key: `${configKey}.host`, message: resolved });
      return;
    }
    const earlier = byHostname.get(resolved.hostname);
    if (earlier) {
      issues.push({ key: `${configKey}.host`, message: `${resolved.hostname} is already routed by ${earlier}` });
      return;
    }
    // Resource names derive from hostnames; `a.b` and `a-b` would collide in the Pulumi graph.
    const sameName = byName.get(resolved.name);
    if (sameName) {
      issues.push({
        key: `${configKey}.host`,
        message: `${resolved.hostname} gets the same resource name '${resolved.name}' as ${sameName}; rename one`,
      });
      return;
    }
    byHostname.set(resolved.hostname, configKey);
    byName.set(resolved.name, configKey);
    const checked = accessOf(configKey, entry, resolved.hostname, policies);
    if ("issues" in checked) {
      issues.push(...checked.issues);
      return;
    }
    const base = { ...resolved, configKey, access: checked.access };
    if (entry.kind === "direct") {
      const route = directRoute(base, entry, enrolled);
      if (Array.isArray(route)) issues.push(...route);
      else routes.push(route);
      return;
    }
    const mesh = meshMembership(configKey, entry.namespace, entry.mesh, enrolled);
    if (typeof mesh !== "boolean") {
      issues.push(mesh);
      return;
    }
    const { namespace } = entry;
    if (entry.kind === "app") {
      routes.push({ kind: "gateway", ...base, namespace, mesh });
      return;
    }
    const targetPort = entry.targetPort !== undefined ? { targetPort: entry.targetPort } : {};
    const backend = { service: entry.service, namespace, port: entry.port, ...targetPort, mesh };
    routes.push({ kind: "gateway", ...base, namespace, mesh, backend });
  });
  return { routes, issues };
}
