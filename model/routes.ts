/**
 * The normalised route model: what config/routes.ts makes of `homecluster:routes`, and the one list every
 * component and builder reads. Each route becomes a tunnel rule and a proxied CNAME; a gateway route also a
 * VirtualService and an allow from the gateway; an in-cluster direct origin an allow from cloudflared.
 */

interface RouteBase {
  /** Fully-qualified public hostname (`grafana.example.com`, `*.example.com`, or the apex). */
  hostname: string;
  /** Kubernetes-safe name derived from the hostname, for resource names (`grafana`, `wildcard`, `apex`). */
  name: string;
  /** Where the stack file declares it (`homecluster:routes[0]`), for messages and the plan. */
  configKey: string;
  /** The Access policies that may reach it, by name; empty: public. */
  access: string[];
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

/** A wildcard route (`*.example.com`): the tunnel matches it only after every specific hostname. */
export function isWildcard(route: Route): boolean {
  return route.hostname.startsWith("*.");
}

/** The in-cluster DNS name of a gateway route's Service (`grafana.monitoring.svc.cluster.local`). */
export function serviceHost(route: GatewayRoute): string {
  return `${route.service}.${route.namespace}.svc.cluster.local`;
}

export function gatewayRoutes(routes: readonly Route[]): GatewayRoute[] {
  return routes.filter((r): r is GatewayRoute => r.kind === "gateway");
}

/** The routes behind Cloudflare Access. */
export function protectedRoutes<R extends Route>(routes: readonly R[]): R[] {
  return routes.filter((r) => r.access.length > 0);
}
