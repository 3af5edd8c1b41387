import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import { beforeAll, describe, expect, it } from "vitest";
import { accessApplicationArgs, accessPolicyParts } from "../builders/access-objects";
import { accessTeam } from "../model/access";
import { Access } from "../components/access";
import { tunnelIngressRules } from "../builders/tunnel-config";
import { accessDenyPolicy, accessRequestAuthentication } from "../policies/gateway-access";
import { directRoute, gateway, gatewayRoute, normalised, parsedConfig } from "./support/fixtures";
import { runProgram, sharedRun, fixtureConfig, TYPES } from "./support/harness";
import type { AuthorizationPolicy, RequestAuthentication } from "../crds/istio-io";
import { decide, type HttpRequest, type Jwt } from "./support/istio-authz";
import { MOCK_TEAM_DOMAIN, mockAud, setBareMocks } from "../offline/mock-runtime";

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const APPLICATION = "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication";
const POLICY = "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy";
const REQUEST_AUTHENTICATION = "kubernetes:security.istio.io/v1:RequestAuthentication";
const ORGANIZATION = "cloudflare:index/getZeroTrustOrganization:getZeroTrustOrganization";

describe("Access builders", () => {
  it("makes one allow policy of the people a config policy names", () => {
    const policy = parsedConfig({
      access: {
        policies: {
          admins: { emails: ["admin@example.com"] },
          family: { emails: ["a@example.com"], emailDomains: ["example.org"], groups: ["g-1"] },
        },
      },
    }).access.policies.family!;
    expect(accessPolicyParts("family", policy, ACCOUNT)).toEqual([
      {
        key: "policy-family",
        args: {
          accountId: ACCOUNT,
          name: "family",
          decision: "allow",
          includes: [
            { email: { email: "a@example.com" } },
            { emailDomain: { domain: "example.org" } },
            { group: { id: "g-1" } },
          ],
        },
      },
    ]);
  });

  it("gives service tokens a Service Auth (non_identity) policy of their own, which the login page cannot block", () => {
    const policy = parsedConfig({
      access: {
        policies: {
          admins: { emails: ["admin@example.com"] },
          ci: { emails: ["ops@example.com"], serviceTokens: ["token-1", "token-2"] },
        },
      },
    }).access.policies.ci!;
    expect(accessPolicyParts("ci", policy, ACCOUNT).map((p) => [p.key, p.args.decision, p.args.includes])).toEqual([
      ["policy-ci", "allow", [{ email: { email: "ops@example.com" } }]],
      [
        "service-policy-ci",
        "non_identity",
        [{ serviceToken: { tokenId: "token-1" } }, { serviceToken: { tokenId: "token-2" } }],
      ],
    ]);
  });

  it("makes a self-hosted application of a protected hostname, its policies in order", () => {
    const grafana = gatewayRoute("grafana", "monitoring", 80);
    expect(accessApplicationArgs(grafana, ACCOUNT, "12h", ["p-1", "p-2"])).toEqual({
      accountId: ACCOUNT,
      name: "grafana.example.com",
      type: "self_hosted",
      domain: "grafana.example.com",
      destinations: [{ type: "public", uri: "grafana.example.com" }],
      sessionDuration: "12h",
      policies: [
        { id: "p-1", precedence: 1 },
        { id: "p-2", precedence: 2 },
      ],
    });
    expect(accessTeam("home.cloudflareaccess.com")).toEqual({
      teamName: "home",
      issuer: "https://home.cloudflareaccess.com",
      jwksUri: "https://home.cloudflareaccess.com/cdn-cgi/access/certs",
    });
  });

  it("has the gateway validate Access's JWT from its header against the team's keys and the applications' audiences", () => {
    const hosts = [{ hostname: "grafana.example.com", aud: "aud-1" }];
    expect(accessRequestAuthentication(gateway, { ...accessTeam("home.cloudflareaccess.com"), hosts })).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "RequestAuthentication",
      metadata: { name: "cloudflare-access", namespace: "istio-ingress" },
      spec: {
        selector: { matchLabels: { app: "istio-ingress", istio: "ingressgateway" } },
        jwtRules: [
          {
            issuer: "https://home.cloudflareaccess.com",
            jwksUri: "https://home.cloudflareaccess.com/cdn-cgi/access/certs",
            audiences: ["aud-1"],
            fromHeaders: [{ name: "Cf-Access-Jwt-Assertion" }],
            forwardOriginalToken: true,
          },
        ],
      },
    });
  });

  it("has the gateway deny a protected host without a valid token, or with another application's", () => {
    const hosts = [
      { hostname: "grafana.example.com", aud: "aud-1" },
      { hostname: "nas.example.com", aud: "aud-2" },
    ];
    expect(accessDenyPolicy(gateway, { ...accessTeam("home.cloudflareaccess.com"), hosts })).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "require-cloudflare-access", namespace: "istio-ingress" },
      spec: {
        selector: { matchLabels: { app: "istio-ingress", istio: "ingressgateway" } },
        action: "DENY",
        rules: [
          {
            to: [
              {
                operation: {
                  hosts: ["grafana.example.com", "grafana.example.com:*", "nas.example.com", "nas.example.com:*"],
                },
              },
            ],
            when: [{ key: "request.auth.claims[iss]", notValues: ["https://home.cloudflareaccess.com"] }],
          },
          {
            to: [{ operation: { hosts: ["grafana.example.com", "grafana.example.com:*"] } }],
            when: [{ key: "request.auth.audiences", notValues: ["aud-1"] }],
          },
          {
            to: [{ operation: { hosts: ["nas.example.com", "nas.example.com:*"] } }],
            when: [{ key: "request.auth.audiences", notValues: ["aud-2"] }],
          },
        ],
      },
    });
  });

  it("has cloudflared require the token of each protected route's application, and leaves public routes alone", () => {
    const routes = normalised([
      { kind: "gateway", host: "grafana", service: "grafana", namespace: "monitoring", port: 80, access: "admins" },
      { kind: "gateway", host: "blog", service: "blog", namespace: "web", port: 80 },
      { kind: "direct", host: "ssh", origin: "ssh://bastion.infra.svc:22", access: ["admins"] },
    ]);
    const hosts = [
      { hostname: "grafana.example.com", aud: "aud-g" },
      { hostname: "ssh.example.com", aud: "aud-s" },
    ];
    expect(tunnelIngressRules(routes, gateway, { ...accessTeam("home.cloudflareaccess.com"), hosts })).toEqual([
      {
        hostname: "grafana.example.com",
        service: "http://istio-ingress.istio-ingress.svc.cluster.local:80",
        originRequest: { access: { required: true, teamName: "home", audTags: ["aud-g"] } },
      },
      { hostname: "blog.example.com", service: "http://istio-ingress.istio-ingress.svc.cluster.local:80" },
      {
        hostname: "ssh.example.com",
        service: "ssh://bastion.infra.svc:22",
        originRequest: { access: { required: true, teamName: "home", audTags: ["aud-s"] } },
      },
      { service: "http_status:404" },
    ]);
    expect(directRoute("nas", "https://192.168.1.10:5001").access).toEqual([]);
  });
});

describe("the Access component with the test stack's config (grafana and ssh behind 'admins')", () => {
  const run = sharedRun();
  const aud = (route: string) => mockAud(`access-app-${route}`);

  it("creates the named policy, and one protected application per protected hostname holding it", () => {
    const policy = run().get(POLICY, "access-policy-admins");
    expect(policy.inputs).toEqual({
      accountId: ACCOUNT,
      name: "admins",
      decision: "allow",
      includes: [{ email: { email: "admin@example.com" } }],
    });
    expect(
      run()
        .all(APPLICATION)
        .map((a) => a.name),
    ).toEqual(["access-app-grafana", "access-app-ssh"]);
    for (const route of parsedConfig().routes.filter((r) => r.access.length > 0)) {
      const application = run().get(APPLICATION, `access-app-${route.name}`);
      expect(application.inputs).toEqual(accessApplicationArgs(route, ACCOUNT, "24h", ["access-policy-admins-id"]));
      expect(application.protect).toBe(true);
    }
  });

  it("looks the team domain up from the account's Zero Trust organisation, through the Cloudflare provider", () => {
    expect(
      run()
        .calls.filter((c) => c.token === ORGANIZATION)
        .map((c) => c.inputs),
    ).toEqual([{ accountId: ACCOUNT }]);
  });

  it("has the gateway check the token of grafana, its one protected gateway route, against its application's aud", () => {
    const hosts = [{ hostname: "grafana.example.com", aud: aud("grafana") }];
    const jwt = run().get(REQUEST_AUTHENTICATION, "routes-access-jwt");
    const guard = { ...accessTeam(MOCK_TEAM_DOMAIN), hosts };
    expect(jwt.inputs).toEqual(accessRequestAuthentication(gateway, guard));
    const deny = run().get(TYPES.authorizationPolicy, "routes-access-deny");
    expect(deny.inputs).toEqual(accessDenyPolicy(gateway, guard));
    for (const object of [jwt, deny]) {
      expect(run().dependsOn(object, run().get(TYPES.release, "istio-base"))).toBe(true);
      expect(run().dependsOn(object, run().get(TYPES.namespace, "istio-gateway-namespace"))).toBe(true);
    }
  });

  it("has cloudflared check grafana's and ssh's tokens; jellyfin and the apex stay public", () => {
    const rules: { hostname?: string; originRequest?: unknown }[] = run().get(TYPES.tunnelConfig, "tunnel-config")
      .inputs.config.ingresses;
    expect(rules.map((r) => [r.hostname, r.originRequest])).toEqual([
      ["grafana.example.com", { access: { required: true, teamName: "homecluster", audTags: [aud("grafana")] } }],
      ["jellyfin.example.com", undefined],
      ["example.com", undefined],
      ["ssh.example.com", { access: { required: true, teamName: "homecluster", audTags: [aud("ssh")] } }],
      [undefined, undefined],
    ]);
  });
});

describe("what the gateway lets through to a protected host, by Istio's rules (support/istio-authz.ts)", () => {
  // admins lets in a person and a service token; grafana is protected by it, jellyfin is public.
  const run = sharedRun({
    config: {
      access: { policies: { admins: { emails: ["admin@example.com"], serviceTokens: ["ci-token-id"] } } },
    },
  });
  const ISSUER = `https://${MOCK_TEAM_DOMAIN}`;
  const GRAFANA = mockAud("access-app-grafana");
  /** The policies that apply to the gateway's pods: its namespace's that select them, and the root namespace's. */
  const atGateway = () => {
    const selects = (spec: { selector?: { matchLabels: Record<string, string> } }) =>
      Object.entries(spec.selector?.matchLabels ?? {}).every(([k, v]) => gateway.selector[k] === v);
    const objects = [...run().all(TYPES.authorizationPolicy), ...run().all(REQUEST_AUTHENTICATION)]
      .map((r) => r.inputs)
      .filter(
        (o) =>
          (o.metadata.namespace === gateway.namespace && selects(o.spec)) ||
          (o.metadata.namespace === "istio-system" && o.spec.selector === undefined),
      );
    return {
      authentication: objects.filter((o): o is RequestAuthentication => o.kind === "RequestAuthentication"),
      policies: objects.filter((o): o is AuthorizationPolicy => o.kind === "AuthorizationPolicy"),
    };
  };
  const person: Jwt = { iss: ISSUER, sub: "7335d417-61da-459d-899c-0a01c76a2f94", aud: [GRAFANA] };
  // Cloudflare's application token for a service token: `sub` is the empty string.
  const serviceToken: Jwt = { iss: ISSUER, sub: "", aud: [GRAFANA] };

  it.each<[string, number, HttpRequest]>([
    ["a person's token", 200, { host: "grafana.example.com", port: 80, jwt: person }],
    ["a service token's token (empty sub)", 200, { host: "grafana.example.com", port: 80, jwt: serviceToken }],
    ["no token", 403, { host: "grafana.example.com", port: 80 }],
    ["no token, the Host with a port", 403, { host: "grafana.example.com:80", port: 80 }],
    ["no token, the Host in upper case", 403, { host: "GRAFANA.Example.com", port: 80 }],
    [
      "a token of the stack's other application (ssh)",
      403,
      { host: "grafana.example.com", port: 80, jwt: { ...person, aud: [mockAud("access-app-ssh")] } },
    ],
    [
      "a token of an application outside the stack",
      403,
      { host: "grafana.example.com", port: 80, jwt: { ...person, aud: ["f".repeat(64)] } },
    ],
    [
      "a token from another team",
      401,
      { host: "grafana.example.com", port: 80, jwt: { ...person, iss: "https://other.cloudflareaccess.com" } },
    ],
    ["a public host, no token", 200, { host: "jellyfin.example.com", port: 80 }],
    ["a public host, any port in the Host", 200, { host: "jellyfin.example.com:8080", port: 80 }],
  ])("%s → %i", (_name, expected, request) => {
    const { authentication, policies } = atGateway();
    expect(authentication).toHaveLength(1);
    expect(decide(request, authentication, policies)).toBe(expected);
  });

  it("would refuse the service token with a rule on request principals, which need a non-empty sub", () => {
    const { authentication } = atGateway();
    const onPrincipals: AuthorizationPolicy = {
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "require-principal", namespace: "istio-ingress" },
      spec: { action: "DENY", rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }] }] },
    };
    const request = { host: "grafana.example.com", port: 80 };
    expect(decide({ ...request, jwt: serviceToken }, authentication, [onPrincipals])).toBe(403);
    expect(decide({ ...request, jwt: person }, authentication, [onPrincipals])).toBe(200);
  });

  it("lets no request through another port of the gateway's pods", () => {
    const { authentication, policies } = atGateway();
    expect(decide({ host: "jellyfin.example.com", port: 15021 }, authentication, policies)).toBe(403);
  });
});

describe("Access with a team domain in config", () => {
  it("uses it without a lookup", async () => {
    const access = { ...(fixtureConfig().access as object), teamDomain: "home.cloudflareaccess.com" };
    const run = await runProgram({ config: { access } });
    expect(run.calls.filter((c) => c.token === ORGANIZATION)).toEqual([]);
    expect(run.get(REQUEST_AUTHENTICATION, "routes-access-jwt").inputs.spec.jwtRules[0].issuer).toBe(
      "https://home.cloudflareaccess.com",
    );
    expect(run.output("access")).toMatchObject({ teamDomain: "home.cloudflareaccess.com" });
  });
});

describe("Access policies whose names look alike", () => {
  it("gives a policy's service tokens and a policy named '<it>-service' resources of their own", async () => {
    const policies = {
      admins: { emails: ["admin@example.com"] },
      ops: { emails: ["ops@example.com"], serviceTokens: ["token-1"] },
      "ops-service": { emails: ["svc@example.com"] },
    };
    const run = await runProgram({ config: { access: { policies } } });
    expect(
      run
        .all(POLICY)
        .map((p) => [p.name, p.inputs.name])
        .sort(),
    ).toEqual([
      ["access-policy-admins", "admins"],
      ["access-policy-ops", "ops"],
      ["access-policy-ops-service", "ops-service"],
      ["access-service-policy-ops", "ops (service tokens)"],
    ]);
  });
});

describe("a stack with no route behind Access", () => {
  it("creates no application and no gateway check, looks nothing up, and leaves public routes unchanged", async () => {
    const routes = (fixtureConfig().routes as Record<string, unknown>[]).map(({ access: _access, ...route }) =>
      "origin" in route ? { ...route, public: true } : route,
    );
    const run = await runProgram({ config: { routes } });
    expect(run.all(APPLICATION)).toEqual([]);
    expect(run.all(REQUEST_AUTHENTICATION)).toEqual([]);
    expect(run.all(TYPES.authorizationPolicy).filter((p) => p.name === "routes-access-deny")).toEqual([]);
    expect(run.calls.filter((c) => c.token === ORGANIZATION)).toEqual([]);
    const rules: { originRequest?: unknown }[] = run.get(TYPES.tunnelConfig, "tunnel-config").inputs.config.ingresses;
    expect(rules.filter((r) => r.originRequest !== undefined)).toEqual([]);
    expect(run.output("access")).toEqual({ teamDomain: null, applications: {} });
  });
});

describe("the Access component's provider", () => {
  beforeAll(() => setBareMocks("homecluster"));
  const args = () => {
    const config = parsedConfig();
    return { access: config.access, accountId: ACCOUNT, routes: config.routes, protect: true, adopt: config.adopt };
  };

  it("refuses to run without an explicit Cloudflare provider (a Kubernetes one is no substitute)", () => {
    expect(() => new Access("no-provider", args())).toThrow("Access needs an explicit cloudflare provider");
    expect(
      () => new Access("k8s-only", args(), { providers: [new k8s.Provider("k8s-only", { context: "c" })] }),
    ).toThrow("Access needs an explicit cloudflare provider");
    const provider = new cloudflare.Provider("cf", { apiToken: "t" });
    expect(() => new Access("given", args(), { providers: [provider] })).not.toThrow();
  });
});
