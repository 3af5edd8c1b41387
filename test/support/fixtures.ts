/**
 * What the pure-builder tests start from, made by the project's own code rather than written out by hand: config as
 * config/load.ts parses it (the test stack file plus overrides), routes as config/routes.ts normalises them, and
 * the gateway as model/ingress-gateway.ts derives it.
 */
import { parseConfig } from "../../config/load";
import { normaliseRoutes } from "../../config/routes";
import type { HomeclusterConfig, RouteEntry } from "../../config/schema";
import { ingressGateway } from "../../model/ingress-gateway";
import type { DirectRoute, Route, ServedRoute } from "../../model/routes";
import { fixtureConfig, STACK, type ConfigValues } from "./harness";

export const gateway = ingressGateway("istio-ingress");

/** The test stack file's plain config with `overrides` (`undefined` removes a key), parsed. */
export function parsedConfig(overrides: ConfigValues = {}): HomeclusterConfig {
  const raw: ConfigValues = { ...fixtureConfig(), ...overrides };
  for (const [key, value] of Object.entries(raw)) if (value === undefined) delete raw[key];
  return parseConfig(raw, STACK);
}

/**
 * Routes as config normalises them, in the domain example.com; every namespace a route names is in the mesh unless
 * the route says `mesh: false`, and every Access policy a route names exists.
 */
export function normalised(entries: RouteEntry[]): Route[] {
  const namespaces = entries.flatMap((entry) => {
    if (entry.mesh === false) return [];
    if (entry.kind !== "direct") return [entry.namespace];
    const host = /^[a-z+]+:\/\/[^.]+\.([^.:/]+)\.svc/.exec(entry.origin);
    return host ? [host[1]!] : [];
  });
  const policies = entries.flatMap((entry) => (entry.access === undefined ? [] : [entry.access].flat()));
  const { routes, issues } = normaliseRoutes(entries, {
    domain: "example.com",
    meshNamespaces: [...new Set(namespaces)],
    accessPolicies: policies,
  });
  if (issues.length > 0) throw new Error(issues.map((i) => `${i.key}: ${i.message}`).join("; "));
  return routes;
}

/** A gateway route `<host>.example.com` → `<service>.<namespace>:<port>`, in the mesh. */
export function gatewayRoute(host: string, namespace: string, port: number, targetPort?: number): ServedRoute {
  return normalised([
    { kind: "gateway", host, service: host.startsWith("*") ? "fallback" : host, namespace, port, targetPort },
  ])[0] as ServedRoute;
}

/** A public direct route `<host>.example.com` → `origin` (an in-cluster origin's namespace in the mesh). */
export function directRoute(host: string, origin: string, targetPort?: number): DirectRoute {
  const http = /^https?:/.test(origin);
  return normalised([
    { kind: "direct", host, origin, targetPort, ...(http ? {} : { public: true as const }) },
  ])[0] as DirectRoute;
}
