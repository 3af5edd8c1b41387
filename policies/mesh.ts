/**
 * Every Istio policy object of the mesh, from config and the routes: STRICT mTLS mesh-wide with config's
 * exceptions, the default deny with the allows the stack needs under it, and config's ServiceEntries.
 */
import type { IstioSettings } from "../config/schema";
import type { AuthorizationPolicy } from "../crds/istio-io";
import type { WorkloadIdentity } from "../model/identity";
import type { IngressGateway } from "../model/ingress-gateway";
import type { Route } from "../model/routes";
import { charts } from "../versions";
import {
  allowNothing,
  cloudflaredToOriginAllow,
  configAllow,
  gatewayIngressAllow,
  gatewayToRouteAllow,
  plaintextAllow,
  sameNamespaceAllow,
} from "./authorization";
import type { MeshPolicy } from "./mesh-policy";
import { meshStrictMtls, mtlsException } from "./peer-authentication";
import { serviceEntry } from "./service-entries";

/** Istio's root namespace: mesh-wide policies live there. */
const ROOT_NAMESPACE = charts.istiod.namespace;

export interface MeshPolicyInputs {
  istio: IstioSettings;
  routes: readonly Route[];
  gateway: IngressGateway;
  cloudflared: WorkloadIdentity;
}

/**
 * The allow that lets a route's traffic reach its backend: from the gateway to a gateway route's Service, or from
 * cloudflared to an in-cluster direct origin. None for a route outside the mesh (`mesh: false`), an origin outside
 * the cluster (only enrolled namespaces enforce policies), or a hostname an application stack serves (its allow is
 * its own).
 */
export function routeAllow(
  route: Route,
  gateway: WorkloadIdentity,
  cloudflared: WorkloadIdentity,
): MeshPolicy<AuthorizationPolicy> | undefined {
  const { backend } = route;
  if (!backend?.mesh) return undefined;
  return route.kind === "gateway"
    ? gatewayToRouteAllow({ ...route, backend }, gateway)
    : cloudflaredToOriginAllow(route, backend, cloudflared);
}

/**
 * The allows exist only with the default deny: an ALLOW policy also denies everything it does not match to the
 * workloads it selects, so without the default deny they would turn into piecemeal denies.
 */
function allows({ istio, routes, gateway, cloudflared }: MeshPolicyInputs): MeshPolicy[] {
  return [
    allowNothing(ROOT_NAMESPACE),
    gatewayIngressAllow(gateway),
    ...routes.flatMap((route) => routeAllow(route, gateway, cloudflared) ?? []),
    ...(istio.allowSameNamespace ? istio.meshNamespaces.map(sameNamespaceAllow) : []),
    ...istio.allow.map(configAllow),
    ...istio.mtlsExceptions.map(plaintextAllow),
  ];
}

export function meshPolicyObjects(inputs: MeshPolicyInputs): MeshPolicy[] {
  const { istio } = inputs;
  return [
    meshStrictMtls(ROOT_NAMESPACE),
    ...istio.mtlsExceptions.map(mtlsException),
    ...(istio.defaultDeny ? allows(inputs) : []),
    ...istio.serviceEntries.map(serviceEntry),
  ];
}
