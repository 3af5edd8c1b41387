/**
 * The ingress gateway checks Access's token a second time, for the protected gateway routes: whatever reaches the
 * gateway without passing Access (the LAN LoadBalancer, a pod in the cluster) is refused. The gateway is an Envoy
 * proxy, so it sees HTTP: a RequestAuthentication validates the JWT in `Cf-Access-Jwt-Assertion` against the team's
 * keys, and a DENY policy refuses a protected host without a valid token, or with a token for another application.
 *
 * The DENY rules test claims every Access token carries: its issuer and its audience. Not the request principal:
 * Istio's `requestPrincipals: ["*"]` needs a non-empty `sub`, and a service token's JWT has `"sub": ""`, so a rule
 * on it would refuse every service token. `notValues` matches a request without a token too.
 */
import {
  SECURITY_API,
  type AuthorizationPolicy,
  type AuthorizationRule,
  type RequestAuthentication,
} from "../crds/istio-io";
import type { IngressGateway } from "../model/ingress-gateway";

/** A protected hostname and the `aud` tag of its Access application. */
export interface ProtectedHost {
  hostname: string;
  aud: string;
}

/** The header Access puts its JWT in, on every request it lets through. */
const ACCESS_JWT_HEADER = "Cf-Access-Jwt-Assertion";

/** Every form of the Host a request may carry: bare, and with any port (`h:*` is a prefix match). */
const hostForms = (hostname: string) => [hostname, `${hostname}:*`];

/** The issuer of the team's tokens. */
const issuer = (teamDomain: string) => `https://${teamDomain}`;

export function accessRequestAuthentication(
  gateway: IngressGateway,
  teamDomain: string,
  hosts: readonly ProtectedHost[],
): RequestAuthentication {
  return {
    apiVersion: SECURITY_API,
    kind: "RequestAuthentication",
    metadata: { name: "cloudflare-access", namespace: gateway.namespace },
    spec: {
      selector: { matchLabels: gateway.selector },
      jwtRules: [
        {
          issuer: issuer(teamDomain),
          jwksUri: `https://${teamDomain}/cdn-cgi/access/certs`,
          audiences: hosts.map((h) => h.aud),
          fromHeaders: [{ name: ACCESS_JWT_HEADER }],
          // Apps behind Access may read the header themselves (Grafana's JWT auth, for one).
          forwardOriginalToken: true,
        },
      ],
    },
  };
}

/**
 * DENY on the gateway: a protected host without a valid token of the team (its issuer absent), and each protected host
 * with a token Access issued for another of the team's applications (its `aud` not this host's).
 */
export function accessDenyPolicy(
  gateway: IngressGateway,
  teamDomain: string,
  hosts: readonly ProtectedHost[],
): AuthorizationPolicy {
  const withoutToken: AuthorizationRule = {
    to: [{ operation: { hosts: hosts.flatMap((h) => hostForms(h.hostname)) } }],
    when: [{ key: "request.auth.claims[iss]", notValues: [issuer(teamDomain)] }],
  };
  const otherApplication = hosts.map((h): AuthorizationRule => ({
    to: [{ operation: { hosts: hostForms(h.hostname) } }],
    when: [{ key: "request.auth.audiences", notValues: [h.aud] }],
  }));
  return {
    apiVersion: SECURITY_API,
    kind: "AuthorizationPolicy",
    metadata: { name: "require-cloudflare-access", namespace: gateway.namespace },
    spec: { selector: { matchLabels: gateway.selector }, action: "DENY", rules: [withoutToken, ...otherApplication] },
  };
}
