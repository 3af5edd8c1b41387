/**
 * What `pulumi up` assumes and does not create, read off the resource graph (the facts) and the config: the plan
 * prints it, preflight checks it against the live cluster and account.
 */
import { describeBlock } from "../../config/checks";
import { valueAt, releasesOf } from "../../offline/graph";
import type { OfflineStack } from "../../offline/stack-run";
import type { StackFacts, TokenNeed } from "./facts";

export interface Preconditions {
  /** Namespaces that must exist before `pulumi up`: the stack labels or reads them, or creates objects in them. */
  namespaces: StackFacts["kubernetes"]["namespaces"];
  /** Helm releases the stack installs: none may exist already unless this stack installed it. */
  releases: StackFacts["kubernetes"]["releases"];
  /** Objects the stack creates: none may exist already (a create no longer adopts an existing object). */
  objects: string[];
  /** The permission groups the stack's Cloudflare token needs. */
  tokenNeeds: TokenNeed[];
  /** Everything else the stack assumes, one sentence each (the token's needs among them). */
  assumptions: string[];
}

const where = (facts: StackFacts): Record<TokenNeed["scope"], string> => ({
  account: `account ${facts.cloudflare.accountId}`,
  zone: `zone ${facts.cloudflare.zoneId} (${facts.domain})`,
  user: "the token's user",
});

export function preconditions(offline: OfflineStack, facts: StackFacts): Preconditions {
  const { config } = offline;
  const { kubernetes, cloudflare, tunnel } = facts;
  const objects = kubernetes.objects.map((o) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`);
  const serviceMonitor = releasesOf(offline.run).some(
    (r) => r.chart === "external-dns" && valueAt(r.values, "serviceMonitor.enabled") === true,
  );
  return {
    namespaces: kubernetes.namespaces,
    releases: kubernetes.releases,
    objects,
    tokenNeeds: cloudflare.tokenNeeds,
    assumptions: [
      `kube context '${kubernetes.context}' exists in ${config.kubeconfig ? `${offline.project}:kubeconfig` : "$KUBECONFIG or ~/.kube/config"}`,
      `the nodes run no CNI and no kube-proxy: Cilium replaces both, reaching the API server at ${config.cilium.k8sServiceHost}:${config.cilium.k8sServicePort}`,
      "a node takes ordinary pods (no NoSchedule taint but the not-ready one a missing CNI causes): Hubble, istiod, the gateway and cloudflared run there",
      ...(kubernetes.wireguard ? ["every node runs Linux 5.6 or newer (WireGuard, cilium.encryption)"] : []),
      `the LB pool (${config.cilium.lbPool.map(describeBlock).join(", ")}) is free on the LAN: outside the DHCP range, used by no host`,
      `no Helm release ${kubernetes.releases.map((r) => `${r.namespace}/${r.release}`).join(", ")} exists unless this stack installed it`,
      `none of the ${objects.length} objects the stack creates exists yet (preflight lists them)`,
      `the Cloudflare API token may: ${cloudflare.tokenNeeds.map((n) => `${n.group} on ${where(facts)[n.scope]}, for ${n.purpose}`).join("; ")}`,
      ...(cloudflare.mintsToken
        ? ["the Cloudflare API token is a user's (only a user-owned token with API Tokens Write can mint one)"]
        : []),
      ...(cloudflare.access ? ["the account has a Zero Trust organisation (a team): Access needs one"] : []),
      `no tunnel named '${tunnel.name}' exists in the account` +
        (tunnel.hostnames.length > 0
          ? `, and no DNS record at ${tunnel.hostnames.join(", ")} other than this stack's`
          : ""),
      ...(serviceMonitor ? ["the Prometheus Operator's ServiceMonitor CRD is installed"] : []),
    ],
  };
}
