/**
 * Authorization: the mesh-wide default deny, and the ALLOW policies the stack needs under it. Pure builders;
 * components/mesh-policies.ts registers what they return.
 *
 * In ambient mode ztunnel enforces these at L4 for enrolled pods: a rule can name peers (principals, namespaces)
 * and destination ports, and a port is the workload's (container) port, never the Service's. ztunnel cannot
 * select a Service, so policies for a Service's backends are namespace-wide and narrowed by port.
 */
import type { MeshAllow, MtlsException } from "../config/schema";
import { SECURITY_API, type AuthorizationPolicy, type AuthorizationRule } from "../crds/istio-io";
import { principal, type WorkloadIdentity } from "../model/identity";
import type { IngressGateway } from "../model/ingress-gateway";
import { configAllowKey, configAllowName, mtlsExceptionNames } from "../model/mesh";
import { workloadPort, type DirectRoute, type ServedRoute, type ServiceBackend } from "../model/routes";
import type { MeshPolicy } from "./mesh-policy";

type Allow = MeshPolicy<AuthorizationPolicy>;

/** An ALLOW policy, keyed by its name (`key` when the name repeats across namespaces). */
function allowPolicy(
  name: string,
  namespace: string,
  rules: AuthorizationRule[],
  selector?: Record<string, string>,
  key = name,
): Allow {
  return {
    key,
    object: {
      apiVersion: SECURITY_API,
      kind: "AuthorizationPolicy",
      metadata: { name, namespace },
      spec: { ...(selector ? { selector: { matchLabels: selector } } : {}), action: "ALLOW", rules },
    },
  };
}

const toPorts = (ports: number[]): AuthorizationRule["to"] => [{ operation: { ports: ports.map(String) } }];

/**
 * The default deny: an ALLOW policy with no rules in the root namespace matches nothing, so every workload in the
 * mesh (ambient pods and the ingress gateway) refuses whatever no other ALLOW policy lets in.
 */
export function allowNothing(rootNamespace: string): Allow {
  const name = "allow-nothing";
  return {
    key: name,
    object: {
      apiVersion: SECURITY_API,
      kind: "AuthorizationPolicy",
      metadata: { name, namespace: rootNamespace },
      spec: {},
    },
  };
}

/**
 * Lets clients reach the gateway's HTTP port. This cannot name cloudflared's identity: Istio 1.30's gateway Envoy
 * does not terminate HBONE (it has no inbound 15008 listener and no `networking.istio.io/tunnel` label), so
 * ztunnel hands cloudflared's connection to it in plaintext and the gateway sees no principal; a
 * `principals` rule would refuse every tunnel request. Who can reach the port is decided by the Service type
 * (ClusterIP: pods in the cluster; LoadBalancer: the LAN too); what gets past the gateway is decided by the Gateway's
 * hosts and by the per-route allows, which do check the gateway's own identity.
 */
export function gatewayIngressAllow(gateway: IngressGateway): Allow {
  return allowPolicy("allow-http-ingress", gateway.namespace, [{ to: toPorts([gateway.port]) }], gateway.selector);
}

/**
 * Gateway → one routed service: in the route's namespace, from the gateway's principal (the gateway originates
 * HBONE to ambient pods, so its identity is verified), to the route's workload port. ztunnel cannot select the
 * Service, so the allow covers that port on every workload of the namespace.
 */
export function gatewayToRouteAllow(route: ServedRoute, gateway: WorkloadIdentity): Allow {
  return allowPolicy(`allow-gateway-to-${route.name}`, route.namespace, [
    { from: [{ source: { principals: [principal(gateway)] } }], to: toPorts([workloadPort(route.backend)]) },
  ]);
}

/** Any workload of a namespace may reach any other workload of the same namespace. */
export function sameNamespaceAllow(namespace: string): Allow {
  const name = "allow-same-namespace";
  const rules = [{ from: [{ source: { namespaces: [namespace] } }] }];
  return allowPolicy(name, namespace, rules, undefined, `${name}-${namespace}`);
}

/**
 * An explicit allow from config: from a namespace (optionally one service account) to a namespace's ports, named by
 * who it admits, not by its place in the list.
 */
export function configAllow(rule: MeshAllow): Allow {
  const { namespace, serviceAccount } = rule.from;
  const source = serviceAccount
    ? { principals: [principal({ namespace, serviceAccount })] }
    : { namespaces: [namespace] };
  const rules = [{ from: [{ source }], to: toPorts(rule.to.ports) }];
  return allowPolicy(configAllowName(rule.from), rule.to.namespace, rules, undefined, configAllowKey(rule));
}

/**
 * Under the default deny, plaintext clients have no identity any allow could name, so an mTLS exception also
 * allows unauthenticated peers (`notPrincipals: ["*"]`) to what it covers. Mesh peers still need their own allow.
 */
export function plaintextAllow(exception: MtlsException): Allow {
  const rule: AuthorizationRule = { from: [{ source: { notPrincipals: ["*"] } }] };
  if (exception.ports.length > 0) rule.to = toPorts(exception.ports);
  const { name, key } = mtlsExceptionNames(exception).plaintextAllow;
  return allowPolicy(name, exception.namespace, [rule], exception.selector, key);
}

/**
 * cloudflared → a direct route's in-cluster origin: in the origin's namespace, from cloudflared's principal, to the
 * origin's workload port (`targetPort`, else the URL's port).
 */
export function cloudflaredToOriginAllow(
  route: DirectRoute,
  origin: ServiceBackend,
  cloudflared: WorkloadIdentity,
): Allow {
  return allowPolicy(`allow-cloudflared-to-${route.name}`, origin.namespace, [
    { from: [{ source: { principals: [principal(cloudflared)] } }], to: toPorts([workloadPort(origin)]) },
  ]);
}
