/**
 * What `pulumi up` assumes and does not create (preconditions), and what in a valid config deserves a second look
 * (warnings). Pure functions of the config: the offline plan prints them first, and preflight checks the
 * preconditions against the live cluster and account.
 */
import { protectedRoutes } from "../model/routes";
import { charts } from "../versions";
import { createdNamespaces, describeBlock } from "./checks";
import type { StackConfig } from "./load";
import { PROJECT } from "./schema";

/** A namespace the stack writes into or labels without creating it, and the config keys that need it. */
interface RequiredNamespace {
  name: string;
  neededBy: string[];
}

/** A Helm release the stack installs. */
interface StackRelease {
  releaseName: string;
  namespace: string;
  chart: string;
}

/** A Cloudflare API token permission group the stack's token needs, where, and for what. */
export interface TokenNeed {
  /** The group's name in the API (`DNS Write`; the dashboard says `DNS: Edit`). */
  group: string;
  scope: "account" | "zone" | "user";
  purpose: string;
}

export interface Preconditions {
  /** Namespaces that must exist before `pulumi up`: the stack labels them or creates objects in them. */
  namespaces: RequiredNamespace[];
  /** Helm releases the stack installs: none may exist already unless this stack installed it. */
  releases: StackRelease[];
  /** The permission groups the stack's Cloudflare token needs. */
  tokenNeeds: TokenNeed[];
  /** Everything else the stack assumes, one sentence each (the token's needs among them). */
  assumptions: string[];
}

/** Every Helm release of the stack, where it goes. */
function stackReleases(config: StackConfig): StackRelease[] {
  const fixed = [charts.cilium, charts.istioBase, charts.istiod, charts.istioCni, charts.ztunnel];
  const release = ({ releaseName, chart }: { releaseName: string; chart: string }, namespace: string) => ({
    releaseName,
    namespace,
    chart,
  });
  return [
    ...fixed.map((chart) => release(chart, chart.namespace)),
    release(charts.istioGateway, config.istio.gateway.namespace),
    release(charts.externalDns, config.externalDns.namespace),
  ];
}

/**
 * The permission groups the stack's token needs: the tunnel, the routes' records and the zone always; minting
 * external-dns' token when config gives none; Access when a route is behind it (and looking up the team domain when
 * config does not name it).
 */
function tokenNeeds(config: StackConfig, mintsExternalDnsToken: boolean): TokenNeed[] {
  const access = protectedRoutes(config.routes).length > 0;
  const need = (group: string, scope: TokenNeed["scope"], purpose: string): TokenNeed[] => [{ group, scope, purpose }];
  return [
    ...need("Cloudflare Tunnel Write", "account", "the tunnel and its configuration"),
    ...need("DNS Write", "zone", "the routes' CNAMEs"),
    ...need("Zone Read", "zone", "the zone"),
    ...(mintsExternalDnsToken ? need("API Tokens Write", "user", "minting external-dns' zone-scoped token") : []),
    ...(access ? need("Access: Apps and Policies Write", "account", "the Access applications") : []),
    ...(access && config.access.teamDomain === undefined
      ? need("Access: Organizations, Identity Providers, and Groups Read", "account", "looking up the team domain")
      : []),
  ];
}

/**
 * What must hold before `pulumi up` with this config. `mintsExternalDnsToken`: no `externalDnsApiToken` is set, so
 * the stack's Cloudflare token must be allowed to create tokens.
 */
export function preconditions(config: StackConfig, mintsExternalDnsToken: boolean): Preconditions {
  const created = new Set(createdNamespaces(config));
  const required = new Map<string, string[]>();
  const need = (namespace: string, by: string) => {
    if (!created.has(namespace)) required.set(namespace, [...(required.get(namespace) ?? []), by]);
  };
  config.istio.meshNamespaces.forEach((ns) => need(ns, `${PROJECT}:istio.meshNamespaces (ambient label)`));
  for (const route of config.routes) {
    if (route.kind === "gateway" && route.backend) {
      need(route.namespace, `${route.configKey} (VirtualService${route.mesh ? ", allow" : ""})`);
    } else if (route.backend?.mesh) {
      need(route.backend.namespace, `${route.configKey} (allow)`);
    }
  }
  config.istio.allow.forEach((rule, i) => need(rule.to.namespace, `${PROJECT}:istio.allow[${i}]`));
  config.istio.mtlsExceptions.forEach((e, i) => need(e.namespace, `${PROJECT}:istio.mtlsExceptions[${i}]`));
  config.istio.serviceEntries.forEach((e, i) => need(e.namespace, `${PROJECT}:istio.serviceEntries[${i}]`));

  const releases = stackReleases(config);
  const needs = tokenNeeds(config, mintsExternalDnsToken);
  const where: Record<TokenNeed["scope"], string> = {
    account: `account ${config.cloudflareAccountId}`,
    zone: `zone ${config.cloudflareZoneId} (${config.domain})`,
    user: "the token's user",
  };
  const hostnames = config.routes.map((r) => r.hostname);
  return {
    namespaces: [...required].map(([name, neededBy]) => ({ name, neededBy })),
    releases,
    tokenNeeds: needs,
    assumptions: [
      `kube context '${config.kubeContext}' exists in ${config.kubeconfig ? `${PROJECT}:kubeconfig` : "$KUBECONFIG or ~/.kube/config"}`,
      `the nodes run no CNI and no kube-proxy: Cilium replaces both, reaching the API server at ${config.cilium.k8sServiceHost}:${config.cilium.k8sServicePort}`,
      `the LB pool (${config.cilium.lbPool.map(describeBlock).join(", ")}) is free on the LAN: outside the DHCP range, used by no host`,
      `no Helm release ${releases.map((r) => `${r.namespace}/${r.releaseName}`).join(", ")} exists unless this stack installed it`,
      `the Cloudflare API token may: ${needs.map((n) => `${n.group} on ${where[n.scope]}, for ${n.purpose}`).join("; ")}`,
      `no tunnel named '${config.tunnel.name}' exists in the account` +
        (hostnames.length > 0 ? `, and no DNS record at ${hostnames.join(", ")} other than this stack's` : ""),
      ...(config.externalDns.serviceMonitor ? ["the Prometheus Operator's ServiceMonitor CRD is installed"] : []),
    ],
  };
}

/** Valid settings that weaken the stack or surprise a reader, one sentence each naming the key. */
export function warnings(config: StackConfig): string[] {
  const out: string[] = [];
  if (!config.tunnel.protect) {
    out.push(
      `${PROJECT}:tunnel.protect is false: a destroy deletes the tunnel and its DNS records, and a replacement (another account, zone or tunnel config source) deletes them before it creates the new ones: every public route is down in between`,
    );
  }
  if (!config.istio.defaultDeny) {
    out.push(`${PROJECT}:istio.defaultDeny is false: every mesh workload accepts any mesh peer`);
  }
  if (config.istio.gateway.serviceType === "LoadBalancer") {
    const at = config.istio.gateway.loadBalancerIP ?? "an address from the LB pool";
    out.push(
      `${PROJECT}:istio.gateway.serviceType is LoadBalancer: every gateway route is also served on the LAN at ${at}`,
    );
  }
  if (config.externalDns.proxied) {
    out.push(`${PROJECT}:externalDns.proxied is true: records of LAN addresses stop working behind Cloudflare's proxy`);
  }
  for (const route of config.routes) {
    // Universal SSL covers the apex and one level below it; deeper names need their own edge certificate.
    if (route.hostname.slice(0, -config.domain.length - 1).includes(".")) {
      out.push(
        `${route.configKey} (${route.hostname}) is more than one level below ${config.domain}: Cloudflare's free Universal SSL certificate does not cover it; order an Advanced Certificate for it or use a one-level name`,
      );
    }
    const outside =
      route.kind === "gateway"
        ? !route.mesh && route.namespace
        : route.backend && !route.backend.mesh && route.backend.namespace;
    if (outside)
      out.push(`${route.configKey} (${route.hostname}) stays outside the mesh in '${outside}': no policy protects it`);
  }
  config.istio.mtlsExceptions.forEach((e, i) => {
    const ports = e.ports.length > 0 ? `ports ${e.ports.join(", ")}` : "every port";
    const pods = e.selector
      ? `pods ${Object.entries(e.selector)
          .map(([k, v]) => `${k}=${v}`)
          .join(",")}`
      : "every pod";
    out.push(`${PROJECT}:istio.mtlsExceptions[${i}]: ${pods} in '${e.namespace}' accept plaintext on ${ports}`);
  });
  return out;
}
