/**
 * The normalised route model: what config/routes.ts makes of `homecluster:routes`, and the one list every
 * component and builder reads. Each route becomes a tunnel rule and a proxied CNAME; a gateway route also a host on
 * the Gateway, and, when the stack serves it, a VirtualService and an allow from the gateway; an in-cluster direct
 * origin an allow from cloudflared.
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

/** A Kubernetes Service a route reaches, and the container port behind its port. */
export interface ServiceBackend {
  service: string;
  namespace: string;
  /** The Service port (for a direct origin, the URL's port or its scheme's default). */
  port: number;
  /** The container port the Service forwards `port` to, when it differs (mesh policies match this one). */
  targetPort?: number;
  /** The namespace is enrolled in the mesh, so the hop is mTLS and an allow applies (`mesh: false`: it is not). */
  mesh: boolean;
}

/** A hostname served through the Istio ingress gateway. */
export interface GatewayRoute extends RouteBase {
  kind: "gateway";
  /** The only namespace whose VirtualServices may bind the hostname on the Gateway (`<namespace>/<hostname>`). */
  namespace: string;
  /** `namespace` is enrolled in the mesh: the gateway's hop is mTLS and the allows there apply. */
  mesh: boolean;
  /**
   * The Service the stack routes it to (in `namespace`, with `mesh` as the route's); absent: an application stack in
   * `namespace` binds the hostname, with its own VirtualService and allow.
   */
  backend?: ServiceBackend;
}

/** A hostname the tunnel sends straight to an origin (a TCP service, an SSH host, ...), bypassing the gateway. */
export interface DirectRoute extends RouteBase {
  kind: "direct";
  origin: string;
  /** Set when the origin is a Service in this cluster (`<service>.<namespace>.svc[.cluster.local]`). */
  backend?: ServiceBackend;
}

export type Route = GatewayRoute | DirectRoute;

/** A wildcard route (`*.example.com`): the tunnel matches it only after every specific hostname. */
export function isWildcard(route: Route): boolean {
  return route.hostname.startsWith("*.");
}

/** Behind Cloudflare Access: cloudflared and the gateway check its token. */
export function isProtected(route: Route): boolean {
  return route.access.length > 0;
}

/** The port the backend's pods listen on, which ztunnel matches: never the Service's port when they differ. */
export function workloadPort(backend: ServiceBackend): number {
  return backend.targetPort ?? backend.port;
}

/** The in-cluster DNS name of a Service (`grafana.monitoring.svc.cluster.local`). */
export function serviceHost(backend: Pick<ServiceBackend, "service" | "namespace">): string {
  return `${backend.service}.${backend.namespace}.svc.cluster.local`;
}

export function gatewayRoutes(routes: readonly Route[]): GatewayRoute[] {
  return routes.filter((r): r is GatewayRoute => r.kind === "gateway");
}

/** A gateway route the stack serves itself, with a VirtualService to its Service. */
export type ServedRoute = GatewayRoute & { backend: ServiceBackend };

/** The gateway routes the stack itself serves (with a VirtualService and an allow): not those an app stack binds. */
export function servedRoutes(routes: readonly Route[]): ServedRoute[] {
  return gatewayRoutes(routes).filter((r): r is ServedRoute => r.backend !== undefined);
}

/** The routes behind Cloudflare Access. */
export function protectedRoutes<R extends Route>(routes: readonly R[]): R[] {
  return routes.filter(isProtected);
}
