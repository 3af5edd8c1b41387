/**
 * The Istio objects of the gateway routes: one Gateway on the ingress gateway, plain HTTP on its HTTP port, with every
 * gateway route's hostname (TLS ends at Cloudflare; the tunnel delivers plain HTTP), and one VirtualService per
 * route the stack serves. Every object carries the tunnel-route label, so external-dns leaves these hostnames to the
 * tunnel.
 */
import { NETWORKING_API, type Gateway, type VirtualService } from "../crds/istio-io";
import { tunnelRouteLabels } from "../model/dns-ownership";
import type { IngressGateway } from "../model/ingress-gateway";
import { serviceHost, type GatewayRoute, type ServedRoute } from "../model/routes";

/** Name of the Istio Gateway object. */
const PUBLIC_GATEWAY_NAME = "public";

/** The public Gateway as `<namespace>/<name>`, as VirtualServices (this stack's and app stacks') bind to it. */
export function publicGatewayRef(gateway: IngressGateway): string {
  return `${gateway.namespace}/${PUBLIC_GATEWAY_NAME}`;
}

/**
 * A hostname on the Gateway, scoped to its route's namespace (`monitoring/grafana.example.com`): a VirtualService in
 * any other namespace cannot bind it, so no app can take over another's hostname, a protected one included.
 */
export function gatewayHost(route: GatewayRoute): string {
  return `${route.namespace}/${route.hostname}`;
}

/** The Istio Gateway for the gateway routes: one plain-HTTP server with every hostname. */
export function publicGateway(gateway: IngressGateway, routes: readonly GatewayRoute[]): Gateway {
  return {
    apiVersion: NETWORKING_API,
    kind: "Gateway",
    metadata: { name: PUBLIC_GATEWAY_NAME, namespace: gateway.namespace, labels: tunnelRouteLabels },
    spec: {
      selector: gateway.selector,
      servers: [{ port: { number: gateway.port, name: "http", protocol: "HTTP" }, hosts: routes.map(gatewayHost) }],
    },
  };
}

/** One route's VirtualService: its hostname on the public Gateway, to its Service's cluster FQDN and port. */
export function routeVirtualService(route: ServedRoute, gateway: IngressGateway): VirtualService {
  return {
    apiVersion: NETWORKING_API,
    kind: "VirtualService",
    metadata: { name: route.name, namespace: route.namespace, labels: tunnelRouteLabels },
    spec: {
      hosts: [route.hostname],
      gateways: [publicGatewayRef(gateway)],
      http: [
        {
          route: [
            {
              destination: {
                host: serviceHost(route.backend),
                port: { number: route.backend.port },
              },
            },
          ],
        },
      ],
    },
  };
}
