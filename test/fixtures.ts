/** Plain values the pure-builder tests share: the gateway as IstioAmbient exposes it, and route builders. */
import type { DirectRoute, GatewayRoute } from "../config";
import type { GatewayService } from "../components/istio";

export const gatewayService: GatewayService = {
  namespace: "istio-ingress",
  name: "istio-ingress",
  port: 80,
  selector: { app: "istio-ingress", istio: "ingressgateway" },
  serviceAccount: "istio-ingress",
};

/** A normalised gateway route `<name>.example.com` → `<name>.<namespace>:<port>`. */
export function gatewayRoute(name: string, namespace: string, port: number, targetPort?: number): GatewayRoute {
  return {
    kind: "gateway",
    hostname: `${name}.example.com`,
    name,
    configKey: "homecluster:routes[0]",
    service: name,
    namespace,
    port,
    ...(targetPort !== undefined ? { targetPort } : {}),
  };
}

/** A normalised direct route `<name>.example.com` → `origin`. */
export function directRoute(name: string, origin: string, index = 0): DirectRoute {
  return { kind: "direct", hostname: `${name}.example.com`, name, configKey: `homecluster:routes[${index}]`, origin };
}
