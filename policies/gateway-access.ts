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
import type { Deferred, Leaves } from "../crds/object";
import type { AccessGuard } from "../model/access";
import type { IngressGateway } from "../model/ingress-gateway";

/** The header Access puts its JWT in, on every request it lets through. */
const ACCESS_JWT_HEADER = "Cf-Access-Jwt-Assertion";

/** Every form of the Host a request may carry: bare, and with any port (`h:*` is a prefix match). */
const hostForms = (hostname: string) => [hostname, `${hostname}:*`];

/** Validates the team's tokens for the guarded hosts' applications; a token that fails is refused (401 or 403). */
export function accessRequestAuthentication(
  gateway: IngressGateway,
  guard: AccessGuard,
): Deferred<RequestAuthentication> {
  return {
    apiVersion: SECURITY_API,
    kind: "RequestAuthentication",
    metadata: { name: "cloudflare-access", namespace: gateway.namespace },
    spec: {
      selector: { matchLabels: gateway.selector },
      jwtRules: [
        {
          issuer: guard.issuer,
          jwksUri: guard.jwksUri,
          audiences: guard.hosts.map((h) => h.aud),
          fromHeaders: [{ name: ACCESS_JWT_HEADER }],
          // Apps behind Access may read the header themselves (Grafana's JWT auth, for one).
          forwardOriginalToken: true,
        },
      ],
    },
  };
}

/**
 * DENY on the gateway: a guarded host without a valid token of the team (its issuer absent), and each guarded host
 * with a token Access issued for another of the team's applications (its `aud` not this host's).
 */
export function accessDenyPolicy(gateway: IngressGateway, guard: AccessGuard): Deferred<AuthorizationPolicy> {
  const withoutToken: Leaves<AuthorizationRule> = {
    to: [{ operation: { hosts: guard.hosts.flatMap((h) => hostForms(h.hostname)) } }],
    when: [{ key: "request.auth.claims[iss]", notValues: [guard.issuer] }],
  };
  const otherApplication = guard.hosts.map((h): Leaves<AuthorizationRule> => ({
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
