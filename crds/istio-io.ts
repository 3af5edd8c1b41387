/**
 * TypeScript types of the Istio custom resources this stack creates, transcribed from the CRDs the `base` chart
 * installs (security.istio.io/v1, networking.istio.io/v1, Istio 1.30). Only the fields we use are typed: the API
 * server prunes unknown fields silently, so a field that is not here cannot be misspelt into a hole.
 */
import type { TypedObject } from "./object";

export const SECURITY_API = "security.istio.io/v1";
export const NETWORKING_API = "networking.istio.io/v1";

/** Workload selector of security policies (label keys and values, no wildcards). */
interface WorkloadSelector {
  matchLabels: Record<string, string>;
}

type MtlsMode = "UNSET" | "DISABLE" | "PERMISSIVE" | "STRICT";

export type PeerAuthentication = TypedObject<
  "PeerAuthentication",
  {
    selector?: WorkloadSelector;
    mtls?: { mode: MtlsMode };
    /** Keyed by the workload's (container) port as a string; the CRD requires a selector alongside. */
    portLevelMtls?: Record<string, { mode: MtlsMode }>;
  }
>;

interface AuthorizationSource {
  /** Peer identities, `<trust domain>/ns/<namespace>/sa/<service account>`; `*` means any authenticated peer. */
  principals?: string[];
  notPrincipals?: string[];
  namespaces?: string[];
  /**
   * JWT identities, `<iss>/<sub>`; `*` means issuer and subject both non-empty, which a token with an empty `sub`
   * (a Cloudflare Access service token's) never has (HTTP only: the gateway, a waypoint).
   */
  notRequestPrincipals?: string[];
}

interface AuthorizationOperation {
  /** Destination ports as strings: the workload's port, not the Service's. */
  ports?: string[];
  /** Host headers (HTTP only); `*` at either end matches a prefix or suffix. */
  hosts?: string[];
}

interface AuthorizationCondition {
  /** An Istio attribute, such as `request.auth.audiences` or `request.auth.claims[iss]`. */
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface AuthorizationRule {
  from?: { source: AuthorizationSource }[];
  to?: { operation: AuthorizationOperation }[];
  when?: AuthorizationCondition[];
}

/** Validates a JWT from a header against an issuer's keys; a request with an invalid token is refused (401). */
export type RequestAuthentication = TypedObject<
  "RequestAuthentication",
  {
    selector: WorkloadSelector;
    jwtRules: {
      issuer: string;
      jwksUri: string;
      audiences: string[];
      fromHeaders: { name: string; prefix?: string }[];
      forwardOriginalToken: boolean;
    }[];
  }
>;

/** An empty spec is the "allow nothing" policy: an ALLOW policy that matches nothing. */
export type AuthorizationPolicy = TypedObject<
  "AuthorizationPolicy",
  { selector?: WorkloadSelector; action?: "ALLOW" | "DENY"; rules?: AuthorizationRule[] }
>;

interface GatewayServer {
  port: { number: number; name: string; protocol: "HTTP" };
  hosts: string[];
}

export type Gateway = TypedObject<
  "Gateway",
  {
    /** Pod labels of the gateway deployment this configuration applies to. */
    selector: Record<string, string>;
    servers: GatewayServer[];
  }
>;

interface HttpRouteDestination {
  destination: { host: string; port: { number: number } };
}

export type VirtualService = TypedObject<
  "VirtualService",
  {
    hosts: string[];
    /** `<namespace>/<name>` of each Gateway the routes bind to. */
    gateways: string[];
    http: { route: HttpRouteDestination[] }[];
  }
>;

type ServiceEntryProtocol = "HTTP" | "HTTPS" | "HTTP2" | "GRPC" | "TLS" | "TCP";

export type ServiceEntry = TypedObject<
  "ServiceEntry",
  {
    hosts: string[];
    location: "MESH_EXTERNAL" | "MESH_INTERNAL";
    ports: { number: number; name: string; protocol: ServiceEntryProtocol }[];
    resolution: "NONE" | "STATIC" | "DNS";
  }
>;
