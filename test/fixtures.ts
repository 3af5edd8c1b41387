/** Plain values the pure-builder tests share: the gateway as IstioAmbient exposes it, and routes as config.ts makes them. */
import { normaliseRoutes, type DirectRoute, type GatewayRoute, type Route } from "../config";
import type { GatewayService } from "../components/istio";

export const gatewayService: GatewayService = {
  namespace: "istio-ingress",
  name: "istio-ingress",
  port: 80,
  selector: { app: "istio-ingress", istio: "ingressgateway" },
  serviceAccount: "istio-ingress",
};

type RouteEntry = Parameters<typeof normaliseRoutes>[0][number];

/**
 * Routes as config.ts normalises them, in the domain example.com; every namespace a route names is in the mesh
 * unless the route says `mesh: false`.
 */
export function normalised(entries: RouteEntry[]): Route[] {
  const namespaces = entries.flatMap((entry) => {
    if (entry.mesh === false) return [];
    if (entry.kind === "gateway") return [entry.namespace];
    const host = /^[a-z+]+:\/\/[^.]+\.([^.:/]+)\.svc/.exec(entry.origin);
    return host ? [host[1]!] : [];
  });
  const { routes, issues } = normaliseRoutes(entries, "example.com", [...new Set(namespaces)]);
  if (issues.length > 0) throw new Error(issues.map((i) => `${i.key}: ${i.message}`).join("; "));
  return routes;
}

/** A gateway route `<name>.example.com` → `<name>.<namespace>:<port>`, in the mesh. */
export function gatewayRoute(name: string, namespace: string, port: number, targetPort?: number): GatewayRoute {
  const entry = { kind: "gateway" as const, host: name, service: name, namespace, port, targetPort };
  return normalised([entry])[0] as GatewayRoute;
}

/** A direct route `<name>.example.com` → `origin` (an in-cluster origin's namespace in the mesh). */
export function directRoute(name: string, origin: string, targetPort?: number): DirectRoute {
  return normalised([{ kind: "direct", host: name, origin, targetPort }])[0] as DirectRoute;
}
