/**
 * `homecluster:adopt` → the resolved Adoption (model/adoption.ts), with every entry checked against what the stack
 * declares: a release the stack installs, in the namespace it installs it to (a Helm release's namespace cannot
 * change in place); a namespace it creates; the account and zone of this config; a routed or protected hostname; an
 * Access policy the stack makes. An entry that names nothing of the stack would import nothing, silently.
 */
import { accessPolicyNames } from "../model/access";
import { objectKey, type Adoption } from "../model/adoption";
import { isProtected, type Route } from "../model/routes";
import { charts } from "../versions";
import type { ConfigIssue } from "./issues";
import { ownNamespaces } from "./namespaces";
import { PROJECT, type ParsedConfig } from "./schema";

const issue = (key: string, message: string): ConfigIssue => ({ key: `${PROJECT}:adopt.${key}`, message });

/** Where the stack installs each of its releases, by release name; the namespace config decides where it does. */
export function releaseNamespaces(config: Pick<ParsedConfig, "istio" | "externalDns">): Record<string, string> {
  const configured: Record<string, string> = {
    [charts.istioGateway.releaseName]: config.istio.gateway.namespace,
    [charts.externalDns.releaseName]: config.externalDns.namespace,
  };
  return Object.fromEntries(
    Object.values(charts).map((chart) => [
      chart.releaseName,
      "namespace" in chart ? chart.namespace : configured[chart.releaseName]!,
    ]),
  );
}

/** Where config says the namespace of the release `release` is set, for a message. */
const namespaceKey = (release: string) =>
  release === charts.istioGateway.releaseName
    ? `; or set ${PROJECT}:istio.gateway.namespace`
    : release === charts.externalDns.releaseName
      ? `; or set ${PROJECT}:externalDns.namespace`
      : "";

function releaseChecks(config: ParsedConfig): ConfigIssue[] {
  const namespaces = releaseNamespaces(config);
  return Object.entries(config.adopt.releases).flatMap(([release, id]) => {
    const wanted = namespaces[release];
    if (wanted === undefined) {
      return [
        issue(
          `releases.${release}`,
          `is not a Helm release of this stack (its releases: ${Object.keys(namespaces).join(", ")})`,
        ),
      ];
    }
    const [namespace] = id.split("/");
    return namespace === wanted
      ? []
      : [
          issue(
            `releases.${release}`,
            `${id} is in namespace ${namespace}, but the stack installs ${release} into ${wanted}, and a Helm release cannot move namespace in place (a Flux release stored in its HelmRelease's namespace is one of these: reinstall it, docs/migration.md${namespaceKey(release)})`,
          ),
        ];
  });
}

function cloudflareChecks(config: ParsedConfig, routes: readonly Route[]): ConfigIssue[] {
  const { adopt } = config;
  const issues: ConfigIssue[] = [];
  const sameAccount = (key: string, id: string, account: string | undefined) => {
    if (account !== config.cloudflareAccountId) {
      issues.push(issue(key, `${id} is in account ${account}, not ${PROJECT}:cloudflareAccountId`));
    }
  };
  if (adopt.tunnel !== undefined) sameAccount("tunnel", adopt.tunnel, adopt.tunnel.split("/")[0]);
  const routed = new Set(routes.map((r) => r.hostname));
  for (const [hostname, id] of Object.entries(adopt.dnsRecords)) {
    const key = `dnsRecords.${hostname}`;
    if (!routed.has(hostname)) issues.push(issue(key, `is not a hostname of ${PROJECT}:routes`));
    else if (id.split("/")[0] !== config.cloudflareZoneId) {
      issues.push(issue(key, `${id} is in zone ${id.split("/")[0]}, not ${PROJECT}:cloudflareZoneId`));
    }
  }
  const guarded = new Set(routes.filter(isProtected).map((r) => r.hostname));
  for (const [hostname, id] of Object.entries(adopt.accessApplications)) {
    const key = `accessApplications.${hostname}`;
    if (!guarded.has(hostname)) issues.push(issue(key, `is not the hostname of a route behind Access`));
    else sameAccount(key, id, id.split("/")[1]);
  }
  const policies = Object.entries(config.access.policies).flatMap(([name, policy]) =>
    Object.values(accessPolicyNames(name, policy)),
  );
  for (const [name, id] of Object.entries(adopt.accessPolicies)) {
    const key = `accessPolicies.${name}`;
    if (!policies.includes(name)) {
      issues.push(issue(key, `is not an Access policy this stack makes (${policies.join(", ") || "none"})`));
    } else sameAccount(key, id, id.split("/")[0]);
  }
  return issues;
}

function namespaceChecks(config: ParsedConfig): ConfigIssue[] {
  const own = Object.values(ownNamespaces(config)).map((ns) => ns.name);
  return config.adopt.namespaces.flatMap((name, index) =>
    own.includes(name)
      ? []
      : [issue(`namespaces[${index}]`, `'${name}' is not a namespace this stack creates (${own.join(", ")})`)],
  );
}

/** Every adoption entry that names nothing the stack declares, or names it in the wrong place. */
export function adoptionChecks(config: ParsedConfig, routes: readonly Route[]): ConfigIssue[] {
  return [...releaseChecks(config), ...namespaceChecks(config), ...cloudflareChecks(config, routes)];
}

/** The checked entries, resolved for the components. */
export function resolveAdoption(adopt: ParsedConfig["adopt"]): Adoption {
  return {
    releases: Object.fromEntries(
      Object.entries(adopt.releases).map(([release, id]) => {
        const [namespace, name] = id.split("/") as [string, string];
        return [release, { namespace, name }];
      }),
    ),
    objects: new Set([...adopt.namespaces.map((name) => objectKey("Namespace", name)), ...adopt.objects]),
    tunnel: adopt.tunnel,
    dnsRecords: adopt.dnsRecords,
    accessApplications: adopt.accessApplications,
    accessPolicies: adopt.accessPolicies,
  };
}
