/**
 * How Istio 1.30 decides an HTTP request at a proxy (the ingress gateway), written down once for the tests: its
 * RequestAuthentication, then its DENY and ALLOW AuthorizationPolicies. Each rule below is the behaviour of Istio's
 * code, not of this project's:
 *
 * - RequestAuthentication (pilot/pkg/security/authn/policy_applier.go: `requires_any [provider, allow_missing]`): no
 *   token passes unauthenticated; a token from an issuer no rule names is refused with 401; one whose `aud` is none
 *   of the rule's `audiences` with 403 (Envoy's JwtAudienceNotAllowed). A valid token sets `request.auth.*`.
 * - `requestPrincipals: ["*"]` (authz/model/generator.go, requestPrincipalGenerator) is `iss` matching `.+` AND `sub`
 *   matching `.+`: a token with an empty `sub` (a Cloudflare Access service token's) has no request principal.
 * - `values` is an OR of string matchers (`*` is `.+`, `x*` a prefix, `*x` a suffix, else exact, case-sensitive);
 *   `notValues` is NOT of that OR, so it matches when the attribute is absent (no token).
 * - `hosts` match `:authority` as sent, case-insensitively (matcher/header.go HostMatcher), with no port stripped.
 * - Within a rule, `from`, `to` and `when` are ANDed; the entries of `from` and `to` are ORed, those of `when` ANDed.
 * - A DENY policy whose rule matches refuses with 403; otherwise, if any ALLOW policy applies, one of its rules must
 *   match (an ALLOW policy without rules matches nothing).
 */
import type { AuthorizationPolicy, AuthorizationRule, RequestAuthentication } from "../../crds/istio-io";

/** The claims of a JWT (signature taken as valid: the tests' tokens are issued by the issuer they name). */
export interface Jwt {
  iss: string;
  sub: string;
  aud: string | string[];
}

export interface HttpRequest {
  /** `:authority` as the client sent it. */
  host: string;
  /** The workload port the request arrives on. */
  port: number;
  /** The token in the RequestAuthentication's header, if any. */
  jwt?: Jwt;
}

export type Decision = 200 | 401 | 403;

interface Authenticated {
  iss: string;
  sub: string;
  audiences: string[];
}

/** Istio's string matcher for authorization values. */
function matchesValue(pattern: string, value: string): boolean {
  if (pattern === "*") return value.length > 0;
  if (pattern.endsWith("*")) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith("*")) return value.endsWith(pattern.slice(1));
  return value === pattern;
}

/** HostMatcher: like the string matcher, but case-insensitive. */
function matchesHost(pattern: string, host: string): boolean {
  return matchesValue(pattern.toLowerCase(), host.toLowerCase());
}

/** The values of a `when` key for this request; undefined when the request does not carry it. */
function attribute(key: string, auth: Authenticated | undefined): string[] | undefined {
  if (!auth) return undefined;
  if (key === "request.auth.audiences") return auth.audiences;
  const claim = /^request\.auth\.claims\[(.+)\]$/.exec(key)?.[1];
  if (claim === "iss") return [auth.iss];
  if (claim === "sub") return [auth.sub];
  throw new Error(`the test helper does not model the key ${key}`);
}

const anyOf = (patterns: string[], values: string[] | undefined) =>
  values !== undefined && patterns.some((p) => values.some((v) => matchesValue(p, v)));

function requestPrincipal(auth: Authenticated | undefined): string | undefined {
  return auth && auth.iss !== "" && auth.sub !== "" ? `${auth.iss}/${auth.sub}` : undefined;
}

function ruleMatches(rule: AuthorizationRule, request: HttpRequest, auth: Authenticated | undefined): boolean {
  const principal = requestPrincipal(auth);
  const from =
    rule.from === undefined ||
    rule.from.some(({ source }) => {
      if (source.principals || source.notPrincipals || source.namespaces) {
        throw new Error("the test helper models requests at the gateway, which sees no peer identity");
      }
      const excluded = source.notRequestPrincipals?.some((p) => principal !== undefined && matchesValue(p, principal));
      return !excluded;
    });
  const to =
    rule.to === undefined ||
    rule.to.some(({ operation }) => {
      const hosts = operation.hosts === undefined || operation.hosts.some((h) => matchesHost(h, request.host));
      const ports = operation.ports === undefined || operation.ports.includes(String(request.port));
      return hosts && ports;
    });
  const when = (rule.when ?? []).every((condition) => {
    const values = attribute(condition.key, auth);
    const positive = condition.values === undefined || anyOf(condition.values, values);
    const negative = condition.notValues === undefined || !anyOf(condition.notValues, values);
    return positive && negative;
  });
  return from && to && when;
}

/** The decision of a proxy with these policies (all of them apply to it) on one request. */
export function decide(
  request: HttpRequest,
  authentication: RequestAuthentication[],
  policies: AuthorizationPolicy[],
): Decision {
  let auth: Authenticated | undefined;
  if (request.jwt) {
    const rule = authentication.flatMap((ra) => ra.spec.jwtRules).find((r) => r.issuer === request.jwt!.iss);
    if (!rule) return 401;
    const audiences = [request.jwt.aud].flat();
    if (rule.audiences.length > 0 && !audiences.some((aud) => rule.audiences.includes(aud))) return 403;
    auth = { iss: request.jwt.iss, sub: request.jwt.sub, audiences };
  }
  const rulesOf = (action: "ALLOW" | "DENY") =>
    policies.filter((p) => (p.spec.action ?? "ALLOW") === action).map((p) => p.spec.rules ?? []);
  if (rulesOf("DENY").some((rules) => rules.some((rule) => ruleMatches(rule, request, auth)))) return 403;
  const allows = rulesOf("ALLOW");
  if (allows.length > 0 && !allows.some((rules) => rules.some((rule) => ruleMatches(rule, request, auth)))) {
    return 403;
  }
  return 200;
}
