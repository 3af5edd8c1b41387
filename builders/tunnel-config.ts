/**
 * The Cloudflare side of the tunnel: its ingress rules (one per route, catch-all last), the origin options, and
 * each routed hostname's proxied CNAME.
 */
import type * as cloudflare from "@pulumi/cloudflare";
import type * as pulumi from "@pulumi/pulumi";
import type { TunnelSettings } from "../config/schema";
import type { HomeclusterOutputs } from "../contract";
import type { AccessGuard } from "../model/access";
import { gatewayUrl, type IngressGateway } from "../model/ingress-gateway";
import { isWildcard, serviceHost, type Route } from "../model/routes";

/** One tunnel ingress rule; the catch-all has no hostname. */
export interface IngressRule {
  hostname?: string;
  service: string;
  /**
   * For a route behind Access: cloudflared refuses a request without a valid token for its application. The team
   * and the `aud` come from Cloudflare (the Access component).
   */
  originRequest?: {
    access: { required: true; teamName: pulumi.Input<string>; audTags: pulumi.Input<string>[] };
  };
}

/** The tunnel configuration, in the provider's field names (`connectTimeout` is in seconds). */
interface TunnelConfig {
  ingresses: IngressRule[];
  originRequest: { connectTimeout: number; http2Origin: boolean; noTlsVerify: boolean };
}

/** The last rule: anything no route matched gets a 404 from the edge instead of reaching the cluster. */
export const CATCH_ALL_RULE: IngressRule = { service: "http_status:404" };

/** Where the tunnel sends a route: the gateway's URL, or the route's own origin. */
function ruleService(route: Route, gateway: IngressGateway): string {
  return route.kind === "gateway" ? gatewayUrl(gateway) : route.origin;
}

/**
 * Cloudflare matches rules in order, so specific hostnames (in route order) come before wildcards (deeper wildcards
 * first), and the catch-all is last.
 */
export function tunnelIngressRules(
  routes: readonly Route[],
  gateway: IngressGateway,
  guard?: AccessGuard,
): IngressRule[] {
  const labels = (r: Route) => r.hostname.split(".").length;
  const specific = routes.filter((r) => !isWildcard(r));
  const wildcards = routes.filter(isWildcard).sort((a, b) => labels(b) - labels(a));
  const audiences = new Map(guard?.hosts.map((h) => [h.hostname, h.aud]));
  return [
    ...[...specific, ...wildcards].map((r) => {
      const aud = audiences.get(r.hostname);
      const check =
        aud !== undefined && guard
          ? { originRequest: { access: { required: true as const, teamName: guard.teamName, audTags: [aud] } } }
          : {};
      return { hostname: r.hostname, service: ruleService(r, gateway), ...check };
    }),
    CATCH_ALL_RULE,
  ];
}

/** The whole tunnel configuration: the ingress rules and the origin options every rule inherits. */
export function tunnelConfig(
  routes: readonly Route[],
  gateway: IngressGateway,
  origin: TunnelSettings["originRequest"],
  guard?: AccessGuard,
): TunnelConfig {
  return {
    ingresses: tunnelIngressRules(routes, gateway, guard),
    originRequest: {
      connectTimeout: origin.connectTimeoutSeconds,
      http2Origin: origin.http2Origin,
      noTlsVerify: origin.noTlsVerify,
    },
  };
}

/**
 * The proxied CNAME of one routed hostname. `name` is the FQDN (apex and `*.` included): provider v6 stores names
 * fully qualified, and a relative name would show a diff on every refresh. TTL 1 is "automatic".
 */
export function tunnelDnsRecordArgs(
  route: Route,
  zoneId: string,
  cname: pulumi.Input<string>,
  comment: string,
): cloudflare.DnsRecordArgs {
  return { zoneId, name: route.hostname, type: "CNAME", content: cname, proxied: true, ttl: 1, comment };
}

/** Each route as other stacks see it (the `routes` output): hostname, kind, and where the tunnel sends it. */
export function routeSummaries(routes: readonly Route[], gateway: IngressGateway): HomeclusterOutputs["routes"] {
  return routes.map((route) => ({
    hostname: route.hostname,
    kind: route.kind,
    target:
      route.kind === "gateway"
        ? `${gateway.namespace}/${gateway.service}:${gateway.port} → ${route.backend ? `${serviceHost(route.backend)}:${route.backend.port}` : `bound in ${route.namespace}`}`
        : route.origin,
  }));
}
