/**
 * The checks that need more than one key: the LB pool against the pod and Service networks, the gateway's address,
 * the API endpoint per distribution, DNS ownership between the tunnel and external-dns, and mesh membership of
 * what the policies name. Each returns the issues it finds, keyed by the config key to fix.
 */
import { cidrRange, rangeContains, rangesOverlap, startStopRange, type AddressRange } from "../lib/net";
import { configAllowKey, mtlsExceptionNames, serviceEntryKey } from "../model/mesh";
import type { Route } from "../model/routes";
import type { ConfigIssue } from "./issues";
import { ownNamespaces } from "./namespaces";
import type { LbPoolBlock } from "../crds/cilium-io";
import { DISTRIBUTION_API, PROJECT, type MeshAllow, type ParsedConfig } from "./schema";

export function blockRange(block: LbPoolBlock): AddressRange {
  // Both shapes were validated by the schema, so the ranges exist.
  return ("cidr" in block ? cidrRange(block.cidr) : startStopRange(block.start, block.stop))!;
}

export function describeBlock(block: LbPoolBlock): string {
  return "cidr" in block ? block.cidr : `${block.start}-${block.stop}`;
}

const issue = (key: string, message: string): ConfigIssue => ({ key: `${PROJECT}:${key}`, message });

/** The LB pool, the pod networks and the Service network must not overlap; cluster-pool IPAM takes IPv4 only. */
function addressChecks(config: ParsedConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const networks = [
    ...config.network.podCidrs.map((c, i) => ({ key: `network.podCidrs[${i}]`, text: c, range: cidrRange(c)! })),
    { key: "network.serviceCidr", text: config.network.serviceCidr, range: cidrRange(config.network.serviceCidr)! },
  ];
  const blocks = config.cilium.lbPool.map((block) => ({ block, range: blockRange(block) }));
  blocks.forEach(({ block, range }, index) => {
    for (const net of networks.filter((n) => rangesOverlap(range, n.range))) {
      issues.push(
        issue(
          `cilium.lbPool[${index}]`,
          `${describeBlock(block)} overlaps ${PROJECT}:${net.key} (${net.text}); the LB pool must be outside the pod and service networks`,
        ),
      );
    }
    blocks.slice(index + 1).forEach((other, offset) => {
      if (rangesOverlap(range, other.range)) {
        issues.push(
          issue(
            `cilium.lbPool[${index + offset + 1}]`,
            `${describeBlock(other.block)} overlaps ${PROJECT}:cilium.lbPool[${index}] (${describeBlock(block)})`,
          ),
        );
      }
    });
  });
  networks.forEach((net, index) => {
    for (const other of networks.slice(index + 1).filter((o) => rangesOverlap(net.range, o.range))) {
      issues.push(issue(other.key, `${other.text} overlaps ${PROJECT}:${net.key} (${net.text})`));
    }
  });
  const ip = config.istio.gateway.loadBalancerIP;
  if (ip !== undefined && config.istio.gateway.serviceType !== "LoadBalancer") {
    issues.push(issue("istio.gateway.loadBalancerIP", "is only used with istio.gateway.serviceType LoadBalancer"));
  } else if (ip !== undefined && !blocks.some(({ range }) => rangeContains(range, ip))) {
    issues.push(issue("istio.gateway.loadBalancerIP", `${ip} is not inside ${PROJECT}:cilium.lbPool`));
  }
  if (config.cilium.ipamMode === "cluster-pool") {
    networks
      .filter((net) => net.key.startsWith("network.podCidrs") && net.range.family !== "ipv4")
      .forEach((net) =>
        issues.push(
          issue(net.key, `${net.text} is not IPv4; cilium.ipamMode cluster-pool takes IPv4 pod networks here`),
        ),
      );
  }
  return issues;
}

/** Where the distribution serves the API on no known address, Cilium must be told where it is. */
function apiEndpointChecks(config: ParsedConfig): ConfigIssue[] {
  return DISTRIBUTION_API[config.distribution] === undefined && config.cilium.k8sServiceHost === undefined
    ? [
        issue(
          "cilium.k8sServiceHost",
          `is required for distribution '${config.distribution}' (the API server address Cilium uses instead of kube-proxy)`,
        ),
      ]
    : [];
}

/** A hostname is owned by the tunnel (a route) or by external-dns, never both, and lies in the zone. */
function dnsOwnershipChecks(config: ParsedConfig, routes: readonly Route[]): ConfigIssue[] {
  const tunnelHostnames = new Map(routes.map((r) => [r.hostname, r.configKey]));
  return config.externalDns.hostnames.flatMap((hostname, index) => {
    const key = `externalDns.hostnames[${index}]`;
    const route = tunnelHostnames.get(hostname);
    if (route) {
      return [
        issue(
          key,
          `${hostname} is a tunnel route (${route}); a hostname is owned either by the tunnel or by external-dns, not both`,
        ),
      ];
    }
    const inZone = hostname === config.domain || hostname.endsWith(`.${config.domain}`);
    return inZone ? [] : [issue(key, `${hostname} is outside the domain ${config.domain}`)];
  });
}

/**
 * ztunnel enforces policies only in enrolled namespaces, and only mesh workloads carry an identity an allow can
 * match; the namespaces the stack creates are enrolled (or left out) by the stack itself.
 */
function meshChecks(config: ParsedConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const enrolled = new Set(config.istio.meshNamespaces);
  const identities = new Set([...enrolled, config.tunnel.cloudflared.namespace, config.istio.gateway.namespace]);
  config.istio.allow.forEach((rule, index) => {
    if (!enrolled.has(rule.to.namespace)) {
      issues.push(
        issue(
          `istio.allow[${index}].to.namespace`,
          `'${rule.to.namespace}' is not in ${PROJECT}:istio.meshNamespaces: ztunnel enforces nothing there; enrol it first`,
        ),
      );
    }
    if (!identities.has(rule.from.namespace)) {
      issues.push(
        issue(
          `istio.allow[${index}].from.namespace`,
          `'${rule.from.namespace}' is not in the mesh, so its workloads have no identity an allow can match; enrol it in ${PROJECT}:istio.meshNamespaces, or admit them with an mtlsExceptions entry`,
        ),
      );
    }
  });
  config.istio.mtlsExceptions.forEach((exception, index) => {
    if (!enrolled.has(exception.namespace)) {
      issues.push(
        issue(
          `istio.mtlsExceptions[${index}].namespace`,
          `'${exception.namespace}' is not in ${PROJECT}:istio.meshNamespaces: outside the mesh it takes plaintext anyway; enrol it, or drop the exception`,
        ),
      );
    }
  });
  const peer = (from: MeshAllow["from"]) =>
    from.serviceAccount ? `${from.namespace}/${from.serviceAccount}` : from.namespace;
  issues.push(
    ...sameKey(config.istio.allow, {
      at: "istio.allow",
      field: "from",
      key: configAllowKey,
      shown: (r) => `'${peer(r.from)}' → '${r.to.namespace}'`,
      merge: "ports",
    }),
    ...sameKey(config.istio.mtlsExceptions, {
      at: "istio.mtlsExceptions",
      field: "selector",
      key: (e) => mtlsExceptionNames(e).peerAuthentication.key,
      shown: (e) => `'${e.namespace}' ${e.selector ? JSON.stringify(e.selector) : "(the whole namespace)"}`,
      merge: "ports",
    }),
    ...sameKey(config.istio.serviceEntries, {
      at: "istio.serviceEntries",
      field: "name",
      key: serviceEntryKey,
      shown: (e) => `'${e.namespace}/${e.name}'`,
      merge: "hosts",
    }),
  );
  const own = Object.values(ownNamespaces(config)).map((ns) => ns.name);
  for (const name of own.filter((ns) => enrolled.has(ns))) {
    issues.push(
      issue(
        "istio.meshNamespaces",
        `lists '${name}', a namespace this stack creates and enrols (or deliberately leaves out) itself`,
      ),
    );
  }
  return issues;
}

/**
 * Entries of a config list are named by what they hold (the key of their resource), so two that would share a name
 * are refused: the same thing twice (`shown` alike: merge them), or two things whose names meet (rename one).
 */
function sameKey<T>(
  list: readonly T[],
  rule: { at: string; field: string; key: (item: T) => string; shown: (item: T) => string; merge: string },
): ConfigIssue[] {
  return list.flatMap((item, index) => {
    const first = list.findIndex((other) => rule.key(other) === rule.key(item));
    if (first === index) return [];
    const [shown, other] = [rule.shown(item), rule.shown(list[first]!)];
    return [
      issue(
        `${rule.at}[${index}].${rule.field}`,
        shown === other
          ? `${shown} is already ${rule.at}[${first}]; merge their ${rule.merge} into one entry`
          : `${shown} and ${rule.at}[${first}] (${other}) would share the resource name ${rule.key(item)}; rename one`,
      ),
    ];
  });
}

/** Every check that needs more than one key. */
export function crossChecks(config: ParsedConfig, routes: readonly Route[]): ConfigIssue[] {
  return [
    ...addressChecks(config),
    ...apiEndpointChecks(config),
    ...dnsOwnershipChecks(config, routes),
    ...meshChecks(config),
  ];
}
