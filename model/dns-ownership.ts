/**
 * DNS ownership split. Pulumi owns every tunnel hostname's CNAME; external-dns owns only what it creates
 * (TXT registry with a stack-unique owner id). The Istio objects this stack creates for tunnel hostnames
 * carry TUNNEL_ROUTE_LABEL, and external-dns runs with EXTERNAL_DNS_LABEL_FILTER, which skips them, so
 * external-dns never sees a tunnel hostname as something it should publish.
 */
export const TUNNEL_ROUTE_LABEL = "homecluster.io/tunnel-route";

/** Labels put on every object that serves a tunnel hostname (Istio Gateway, VirtualServices). */
export const tunnelRouteLabels: Record<string, string> = { [TUNNEL_ROUTE_LABEL]: "true" };

/** The label selector external-dns filters its sources with: everything except tunnel route objects. */
export const EXTERNAL_DNS_LABEL_FILTER = `${TUNNEL_ROUTE_LABEL}!=true`;

/** The CNAME target of every hostname the tunnel serves. */
export function tunnelCnameTarget(tunnelId: string): string {
  return `${tunnelId}.cfargotunnel.com`;
}

/** The Pulumi project and stack that own the tunnel's DNS records. */
export interface RecordOwner {
  project: string;
  stack: string;
}

/** Free zones allow a record comment of 100 characters. */
const COMMENT_LIMIT = 100;

/** The comment on every tunnel CNAME, naming its owner; a stack name too long for the limit is cut short. */
export function dnsRecordComment(owner: RecordOwner): string {
  const comment = (stack: string) =>
    `Cloudflare Tunnel route of Pulumi stack ${owner.project}/${stack}; do not edit by hand`;
  const excess = comment(owner.stack).length - COMMENT_LIMIT;
  return excess <= 0 ? comment(owner.stack) : comment(`${owner.stack.slice(0, -excess - 1)}…`);
}
