/**
 * The stack's output contract: what application stacks read from `homecluster` through a StackReference.
 * index.ts exports exactly these keys with these types (test/contract.test.ts guards renames, removals and type
 * changes). Consumers import the type:
 *
 *   import type { HomeclusterOutputs } from "homecluster/contract";
 *   const gateway = ref.requireOutput("ingressGateway") as pulumi.Output<HomeclusterOutputs["ingressGateway"]>;
 *
 * No secret is part of the contract: tokens stay inside this stack and the cluster. It imports only pure types, so
 * a consumer needs nothing else of this project.
 */
import type { LbPoolBlock } from "./crds/cilium-io";
import type { Versions } from "./versions";

export interface HomeclusterOutputs {
  /** The Cloudflare zone's domain, e.g. `example.com`. */
  domain: string;
  /** Cloudflare zone id of the domain. */
  zoneId: string;
  /** Id of the Cloudflare Tunnel. */
  tunnelId: string;
  /** The CNAME target of every tunnel hostname: `<tunnelId>.cfargotunnel.com`. */
  tunnelCname: string;
  /** Every public hostname the tunnel serves, in ingress-rule order. */
  publicHostnames: string[];
  /** Each route: its hostname, whether it goes through the gateway or straight to an origin, and where to. */
  routes: { hostname: string; kind: "gateway" | "direct"; target: string }[];
  /** The Istio ingress gateway apps bind their VirtualServices to. */
  ingressGateway: {
    /** Namespace of the gateway Deployment and Service. */
    namespace: string;
    /** Name of the gateway's Kubernetes Service. */
    service: string;
    /** Its plain-HTTP port (TLS ends at Cloudflare). */
    port: number;
    /** Pod labels that select the gateway (for Istio `Gateway.spec.selector`). */
    selector: Record<string, string>;
    /** The Istio Gateway object as `namespace/name`, for `VirtualService.spec.gateways`. */
    gateway: string;
    /** The gateway's workload identity, for AuthorizationPolicy `from.source.principals`. */
    principal: string;
  };
  /** Namespaces enrolled in the ambient mesh (`istio.io/dataplane-mode=ambient`). */
  meshNamespaces: string[];
  /** Cilium LB IPAM pool blocks. */
  lbPools: LbPoolBlock[];
  /** The pinned versions this stack runs. */
  versions: Versions;
  /** DNS ownership: external-dns' TXT owner id, and the label that keeps external-dns off tunnel objects. */
  dns: { externalDnsOwnerId: string; tunnelRouteLabel: string };
  /**
   * Cloudflare Access: the team domain (the issuer of Access's JWTs is `https://<teamDomain>`; null when no route is
   * protected) and each protected hostname's application, whose `aud` tag is the JWT's audience.
   */
  access: {
    teamDomain: string | null;
    applications: Record<string, { aud: string; policies: string[] }>;
  };
}
