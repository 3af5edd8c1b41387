/**
 * homecluster:mesh:IngressRoutes — the public hostnames served by the Istio ingress gateway.
 *
 * Creates, after Istio's CRDs (the `base` release):
 * - one Istio `Gateway` on the ingress gateway, plain HTTP on its HTTP port, whose hosts are every gateway
 *   route's hostname (TLS ends at Cloudflare; the tunnel delivers plain HTTP). None when there is no gateway route;
 * - one `VirtualService` per gateway route, in the route's namespace, to the Service's cluster FQDN and port.
 * Direct routes go from the tunnel straight to their origin and get nothing here. Every object carries the
 * tunnel-route label, so external-dns leaves these hostnames to the tunnel.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayRoute, Route } from "../config";
import { NETWORKING_API, type Gateway, type VirtualService } from "../crds/istio";
import { typedCustomResource } from "./custom-resource";
import { tunnelRouteLabels } from "./dns-ownership";
import type { GatewayService } from "./istio";

/** Name of the Istio Gateway object. */
export const PUBLIC_GATEWAY_NAME = "public";

export function gatewayRoutes(routes: Route[]): GatewayRoute[] {
  return routes.filter((r): r is GatewayRoute => r.kind === "gateway");
}

/** The Istio Gateway for the given routes: one plain-HTTP server with every hostname. Pure. */
export function publicGateway(name: string, gateway: GatewayService, routes: GatewayRoute[]): Gateway {
  return {
    apiVersion: NETWORKING_API,
    kind: "Gateway",
    metadata: { name, namespace: gateway.namespace, labels: tunnelRouteLabels },
    spec: {
      selector: gateway.selector,
      servers: [
        { port: { number: gateway.port, name: "http", protocol: "HTTP" }, hosts: routes.map((r) => r.hostname) },
      ],
    },
  };
}

/** One route's VirtualService: its hostname on the Gateway `<namespace>/<name>`, to its Service. Pure. */
export function routeVirtualService(route: GatewayRoute, gatewayRef: string): VirtualService {
  return {
    apiVersion: NETWORKING_API,
    kind: "VirtualService",
    metadata: { name: route.name, namespace: route.namespace, labels: tunnelRouteLabels },
    spec: {
      hosts: [route.hostname],
      gateways: [gatewayRef],
      http: [
        {
          route: [
            {
              destination: {
                host: `${route.service}.${route.namespace}.svc.cluster.local`,
                port: { number: route.port },
              },
            },
          ],
        },
      ],
    },
  };
}

export interface IngressRoutesArgs {
  /** The normalised routes from config; only gateway routes are used. Default in config: none. */
  routes: Route[];
  /** The ingress gateway's Service and pod labels (IstioAmbient.gatewayService). Required. */
  gateway: GatewayService;
  /** Istio's `base` release (the Gateway and VirtualService CRDs). Required. */
  istioBase: pulumi.Resource;
  /** The gateway's Namespace, where the Gateway object lives. Required. */
  gatewayNamespace: pulumi.Resource;
}

export class IngressRoutes extends pulumi.ComponentResource {
  /** The Istio Gateway object: bind VirtualServices to `<gatewayNamespace>/<gatewayName>`. */
  public readonly gatewayName: string;
  public readonly gatewayNamespace: string;
  /** Undefined when config has no gateway route. */
  public readonly gateway: k8s.apiextensions.CustomResource | undefined;
  public readonly virtualServices: k8s.apiextensions.CustomResource[];

  constructor(name: string, args: IngressRoutesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:mesh:IngressRoutes", name, {}, opts);
    const routes = gatewayRoutes(args.routes);
    const hostnames = routes.map((r) => r.hostname);
    const duplicate = hostnames.find((h, i) => hostnames.indexOf(h) !== i);
    if (duplicate) throw new pulumi.ResourceError(`hostname ${duplicate} is routed twice`, this);

    this.gatewayName = PUBLIC_GATEWAY_NAME;
    this.gatewayNamespace = args.gateway.namespace;
    this.gateway =
      routes.length > 0
        ? typedCustomResource(`${name}-gateway`, publicGateway(this.gatewayName, args.gateway, routes), {
            parent: this,
            dependsOn: [args.istioBase, args.gatewayNamespace],
          })
        : undefined;
    const gatewayRef = `${this.gatewayNamespace}/${this.gatewayName}`;
    this.virtualServices = routes.map((route) =>
      typedCustomResource(`${name}-${route.name}`, routeVirtualService(route, gatewayRef), {
        parent: this,
        dependsOn: [args.istioBase],
      }),
    );
    this.registerOutputs({
      gatewayName: this.gatewayName,
      gatewayNamespace: this.gatewayNamespace,
      gateway: this.gateway,
      virtualServices: this.virtualServices,
    });
  }
}
