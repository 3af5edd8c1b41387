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
import type { Adoption } from "../model/adoption";
import { ownCustomResource } from "./component";
import type { AccessGuard } from "../model/access";
import { principal } from "../model/identity";
import type { IngressGateway } from "../model/ingress-gateway";
import { gatewayRoutes, servedRoutes, type Route } from "../model/routes";
import { accessDenyPolicy, accessRequestAuthentication } from "../policies/gateway-access";

export interface IngressRoutesArgs {
  /** The normalised routes; only gateway routes are used. */
  routes: readonly Route[];
  /** What Istio provides (the IstioAmbient component): its CRDs, the gateway and its Namespace. */
  mesh: { crds: pulumi.Resource; gateway: IngressGateway; gatewayNamespace: pulumi.Resource };
  /** Access (the Access component): the gateway checks its token on protected routes. Unset: none is. */
  access?: AccessGuard;
  /** What config takes over instead of creating: objects an old setup left under the stack's names. */
  adopt: Pick<Adoption, "objects">;
}

export class IngressRoutes extends pulumi.ComponentResource {
  /** The gateway as application stacks bind to it: the `ingressGateway` output. */
  public readonly ingressGateway: HomeclusterOutputs["ingressGateway"];

  constructor(name: string, args: IngressRoutesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:mesh:IngressRoutes", name, {}, opts);
    const { gateway, crds, gatewayNamespace } = args.mesh;
    const routes = gatewayRoutes(args.routes);
    if (routes.length > 0) {
      ownCustomResource(`${name}-gateway`, publicGateway(gateway, routes), args.adopt, {
        parent: this,
        dependsOn: [crds, gatewayNamespace],
      });
    }
    for (const route of servedRoutes(routes)) {
      ownCustomResource(`${name}-${route.name}`, routeVirtualService(route, gateway), args.adopt, {
        parent: this,
        dependsOn: [crds],
      });
    }
    // The gateway checks the token of the protected gateway routes; direct ones (SSH, say) never reach it.
    const hostnames = new Set(routes.map((r) => r.hostname));
    const hosts = args.access?.hosts.filter((h) => hostnames.has(h.hostname)) ?? [];
    if (args.access && hosts.length > 0) {
      const guard = { ...args.access, hosts };
      const afterGateway = { parent: this, dependsOn: [crds, gatewayNamespace] };
      ownCustomResource(`${name}-access-jwt`, accessRequestAuthentication(gateway, guard), args.adopt, afterGateway);
      ownCustomResource(`${name}-access-deny`, accessDenyPolicy(gateway, guard), args.adopt, afterGateway);
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
