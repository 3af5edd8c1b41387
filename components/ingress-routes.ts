/**
 * homecluster:mesh:IngressRoutes — the public hostnames served by the Istio ingress gateway.
 *
 * Creates, after Istio's CRDs:
 * - the Istio `Gateway` `public` on the ingress gateway with every gateway route's hostname (none when there is no
 *   gateway route), after the gateway's Namespace;
 * - one `VirtualService` per gateway route the stack serves, in the route's namespace (an application stack brings its
 *   own for a hostname it binds);
 * - for the gateway routes behind Access, a `RequestAuthentication` and a DENY `AuthorizationPolicy` on the gateway
 *   (policies/gateway-access.ts), so a request that did not pass Access is refused there too.
 * Direct routes go from the tunnel straight to their origin and get nothing here.
 */
import * as pulumi from "@pulumi/pulumi";
import { publicGateway, publicGatewayRef, routeVirtualService } from "../builders/ingress-objects";
import type { HomeclusterOutputs } from "../contract";
import { SECURITY_API } from "../crds/istio-io";
import { deferredCustomResource, typedCustomResource } from "../lib/custom-resource";
import { principal } from "../model/identity";
import type { IngressGateway } from "../model/ingress-gateway";
import type { AccessCheck } from "../model/access";
import { gatewayRoutes, protectedRoutes, servedRoutes, type Route } from "../model/routes";
import { accessDenyPolicy, accessRequestAuthentication } from "../policies/gateway-access";

export interface IngressRoutesArgs {
  /** The normalised routes; only gateway routes are used. */
  routes: readonly Route[];
  /** What Istio provides (the IstioAmbient component): its CRDs, the gateway and its Namespace. */
  mesh: { crds: pulumi.Resource; gateway: IngressGateway; gatewayNamespace: pulumi.Resource };
  /** Access (the Access component): the gateway checks its token on protected routes. Unset: none is. */
  access?: AccessCheck;
}

export class IngressRoutes extends pulumi.ComponentResource {
  /** The gateway as application stacks bind to it: the `ingressGateway` output. */
  public readonly ingressGateway: HomeclusterOutputs["ingressGateway"];

  constructor(name: string, args: IngressRoutesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:mesh:IngressRoutes", name, {}, opts);
    const { gateway, crds, gatewayNamespace } = args.mesh;
    const routes = gatewayRoutes(args.routes);
    if (routes.length > 0) {
      typedCustomResource(`${name}-gateway`, publicGateway(gateway, routes), {
        parent: this,
        dependsOn: [crds, gatewayNamespace],
      });
    }
    for (const route of servedRoutes(routes)) {
      typedCustomResource(`${name}-${route.name}`, routeVirtualService(route, gateway), {
        parent: this,
        dependsOn: [crds],
      });
    }
    const guarded = protectedRoutes(routes);
    if (args.access && guarded.length > 0) {
      const hosts = args.access.audiences.apply((audiences) =>
        guarded.map((route) => ({ hostname: route.hostname, aud: audiences[route.hostname]! })),
      );
      const afterGateway = { parent: this, dependsOn: [crds, gatewayNamespace] };
      const teamDomain = args.access.teamDomain;
      deferredCustomResource(
        `${name}-access-jwt`,
        { apiVersion: SECURITY_API, kind: "RequestAuthentication" },
        pulumi.all([teamDomain, hosts]).apply(([team, h]) => accessRequestAuthentication(gateway, team, h)),
        afterGateway,
      );
      deferredCustomResource(
        `${name}-access-deny`,
        { apiVersion: SECURITY_API, kind: "AuthorizationPolicy" },
        pulumi.all([teamDomain, hosts]).apply(([team, h]) => accessDenyPolicy(gateway, team, h)),
        afterGateway,
      );
    }
    this.ingressGateway = {
      namespace: gateway.namespace,
      service: gateway.service,
      port: gateway.port,
      selector: gateway.selector,
      gateway: publicGatewayRef(gateway),
      principal: principal(gateway),
    };
    this.registerOutputs({ ingressGateway: this.ingressGateway });
  }
}
