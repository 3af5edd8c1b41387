/**
 * Properties of route normalisation (config/routes.ts, through the whole config gate) and of the tunnel's rule order
 * (builders/tunnel-config.ts), for any list of routes the gate accepts. Routes are generated from a plain model of
 * a hostname (wildcard or not, its labels below the domain) written in every spelling the schema admits, so each
 * property can state what the hostname must come out as without asking the code under test.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tunnelIngressRules } from "../builders/tunnel-config";
import { parseConfig } from "../config/load";
import { ConfigError } from "../config/issues";
import type { HomeclusterConfig } from "../config/schema";
import type { AccessGuard } from "../model/access";
import { gateway } from "./support/fixtures";
import { fixtureConfig, STACK } from "./support/harness";

const DOMAIN = "example.com";
const GATEWAY_URL = "http://istio-ingress.istio-ingress.svc.cluster.local:80";
/** The test stack file's meshNamespaces and Access policy, which generated routes may name. */
const MESH_NAMESPACES = ["monitoring", "media", "infra"];
const POLICY = "admins";

/** A hostname as a model: `*.` or not, and its labels below the domain (none: the apex, or `*.<domain>`). */
interface HostModel {
  wildcard: boolean;
  labels: string[];
}

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/);
const hostModel: fc.Arbitrary<HostModel> = fc.record({
  wildcard: fc.boolean(),
  labels: fc.array(label, { maxLength: 3 }),
});

/** The FQDN the model names: what normalisation must make of any spelling of it. */
function fqdn({ wildcard, labels }: HostModel): string {
  return `${wildcard ? "*." : ""}${[...labels, DOMAIN].join(".")}`;
}

/** The resource name docs and model/routes.ts promise: `apex`, `wildcard`, the labels joined by `-`. */
function resourceName({ wildcard, labels }: HostModel): string {
  const below = labels.join("-");
  if (wildcard) return below === "" ? "wildcard" : `wildcard-${below}`;
  return below === "" ? "apex" : below;
}

/**
 * One way the schema lets a user write the host: relative (`@`, `*`, `grafana`, `*.lab`) when at most one label
 * is below the domain, or fully qualified; in any letter case.
 */
interface Spelling {
  relative: boolean;
  upperCase: boolean;
}
const spelling: fc.Arbitrary<Spelling> = fc.record({ relative: fc.boolean(), upperCase: fc.boolean() });

function written(model: HostModel, { relative, upperCase }: Spelling): string {
  let host: string;
  if (relative && model.labels.length <= 1) {
    const below = model.labels[0];
    host = model.wildcard ? (below === undefined ? "*" : `*.${below}`) : (below ?? "@");
  } else {
    host = fqdn(model);
  }
  return upperCase ? host.toUpperCase() : host;
}

/** What a route entry sends traffic to, in each shape the schema admits (kind inferred from the fields, as users write it). */
type Target =
  | { kind: "gateway"; namespace: string; mesh?: false; service: string; port: number; access?: string }
  | { kind: "app"; namespace: string; mesh?: false; access?: string }
  | { kind: "direct"; origin: string; public?: true; access?: string };

const meshNamespace = fc.constantFrom(...MESH_NAMESPACES);
/** A namespace in the mesh, or one outside it that the route says so of. */
const placement = fc.oneof(
  meshNamespace.map((namespace) => ({ namespace })),
  fc.constant({ namespace: "legacy", mesh: false as const }),
);
const port = fc.integer({ min: 1, max: 65535 });
const maybeAccess = fc.option(fc.constant(POLICY), { nil: undefined });

function target(wildcard: boolean): fc.Arbitrary<Target> {
  // The gateway cannot check Access on a wildcard (config/routes.ts refuses it): only specific hosts name a policy.
  const gatewayAccess = wildcard ? fc.constant(undefined) : maybeAccess;
  return fc.oneof(
    fc
      .tuple(placement, label, port, gatewayAccess)
      .map(([where, service, p, access]) => ({ kind: "gateway" as const, ...where, service, port: p, access })),
    fc.tuple(placement, gatewayAccess).map(([where, access]) => ({ kind: "app" as const, ...where, access })),
    fc
      .tuple(fc.constantFrom("http", "https"), fc.integer({ min: 1, max: 254 }), maybeAccess)
      .map(([scheme, host, access]) => ({ kind: "direct" as const, origin: `${scheme}://192.168.1.${host}`, access })),
    // A raw stream must be protected or explicitly public.
    fc.tuple(meshNamespace, port, fc.boolean()).map(([namespace, p, protect]) => ({
      kind: "direct" as const,
      origin: `tcp://db.${namespace}.svc.cluster.local:${p}`,
      ...(protect ? { access: POLICY } : { public: true as const }),
    })),
  );
}

interface GeneratedRoute {
  model: HostModel;
  spelling: Spelling;
  target: Target;
}

/** Routes with distinct resource names (so distinct hostnames): what the gate must accept. */
const routeList = fc.uniqueArray(
  hostModel.chain((model) =>
    fc.record({ model: fc.constant(model), spelling, target: target(model.wildcard) }),
  ) as fc.Arbitrary<GeneratedRoute>,
  { selector: (r) => resourceName(r.model), maxLength: 8 },
);

/** The stack-file entry a user writes: no `kind` (the schema infers it), unset fields absent. */
function entry({ model, spelling: how, target: to }: GeneratedRoute): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries({ host: written(model, how), ...to }).filter(([k, value]) => k !== "kind" && value !== undefined),
  );
}

const BASE = fixtureConfig();
/** The test stack with these routes (and no external-dns hostname a generated route could also take). */
function configWith(entries: Record<string, unknown>[]): HomeclusterConfig {
  return parseConfig(
    { ...BASE, routes: entries, externalDns: { ...(BASE.externalDns as object), hostnames: [] } },
    STACK,
  );
}

const RUNS = { numRuns: 100 };

describe("route normalisation, for any list of valid routes", () => {
  it("passes the gate keeping entry order; each host becomes its lower-case FQDN and its resource name", () => {
    fc.assert(
      fc.property(routeList, (generated) => {
        const { routes } = configWith(generated.map(entry));
        expect(routes.map((r) => [r.configKey, r.hostname, r.name, r.kind])).toEqual(
          generated.map((g, index) => [
            `homecluster:routes[${index}]`,
            fqdn(g.model),
            resourceName(g.model),
            g.target.kind === "direct" ? "direct" : "gateway",
          ]),
        );
        for (const [index, route] of routes.entries()) {
          const to = generated[index]!.target;
          expect(route.access).toEqual(to.access === undefined ? [] : [to.access]);
          if (route.kind === "direct") expect(route.origin).toBe((to as { origin: string }).origin);
          else expect(route.namespace).toBe((to as { namespace: string }).namespace);
        }
      }),
      RUNS,
    );
  });

  it("refuses another spelling of a hostname already routed, naming the entry that has it", () => {
    const withRepeat = routeList
      .filter((list) => list.length > 0)
      .chain((list) => fc.tuple(fc.constant(list), fc.nat({ max: list.length - 1 }), spelling));
    fc.assert(
      fc.property(withRepeat, ([generated, repeated, respelt]) => {
        const original = generated[repeated]!;
        const entries = [...generated.map(entry), entry({ ...original, spelling: respelt })];
        let issues: ConfigError["issues"] = [];
        try {
          configWith(entries);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          issues = error.issues;
        }
        expect(issues).toEqual([
          {
            key: `homecluster:routes[${generated.length}].host`,
            message: `${fqdn(original.model)} is already routed by homecluster:routes[${repeated}]`,
          },
        ]);
      }),
      RUNS,
    );
  });
});

/** How many labels a hostname has: `*.lab.example.com` is deeper than `*.example.com`. */
const depth = (hostname: string) => hostname.split(".").length;

describe("the tunnel's ingress rules, for any list of valid routes", () => {
  it("route every hostname exactly once, specific ones in route order before wildcards (deepest first), a 404 last", () => {
    fc.assert(
      fc.property(routeList, (generated) => {
        const { routes } = configWith(generated.map(entry));
        const rules = tunnelIngressRules(routes, gateway);

        // One catch-all, last: the only rule without a hostname, and the only one answering from the edge.
        expect(rules.at(-1)).toEqual({ service: "http_status:404" });
        const routed = rules.slice(0, -1);
        expect(routed.filter((r) => r.hostname === undefined || r.service.startsWith("http_status:"))).toEqual([]);

        const hostnames = routed.map((r) => r.hostname!);
        const expected = generated.map((g) => fqdn(g.model));
        expect([...hostnames].sort()).toEqual([...expected].sort());
        expect(new Set(hostnames).size).toBe(hostnames.length);

        const isWild = (h: string) => h.startsWith("*.");
        const firstWildcard = hostnames.findIndex(isWild);
        const specific = firstWildcard === -1 ? hostnames : hostnames.slice(0, firstWildcard);
        const wildcards = firstWildcard === -1 ? [] : hostnames.slice(firstWildcard);
        expect(specific).toEqual(expected.filter((h) => !isWild(h)));
        expect(wildcards.every(isWild)).toBe(true);
        wildcards.slice(1).forEach((h, i) => expect(depth(h)).toBeLessThanOrEqual(depth(wildcards[i]!)));

        // Gateway routes go to the gateway, direct ones to their own origin.
        for (const rule of routed) {
          const g = generated.find((candidate) => fqdn(candidate.model) === rule.hostname)!;
          expect(rule.service).toBe(g.target.kind === "direct" ? g.target.origin : GATEWAY_URL);
        }
      }),
      RUNS,
    );
  });

  it("make cloudflared check Access's token on exactly the hostnames the guard names, with each one's aud", () => {
    const withGuard = routeList.chain((list) =>
      fc.tuple(fc.constant(list), fc.subarray(list.map((g) => fqdn(g.model)))),
    );
    fc.assert(
      fc.property(withGuard, ([generated, guarded]) => {
        const { routes } = configWith(generated.map(entry));
        const guard: AccessGuard = {
          teamName: "team",
          issuer: "https://team.cloudflareaccess.com",
          jwksUri: "https://team.cloudflareaccess.com/cdn-cgi/access/certs",
          hosts: guarded.map((hostname) => ({ hostname, aud: `aud-of-${hostname}` })),
        };
        const checked = tunnelIngressRules(routes, gateway, guard).flatMap((rule) =>
          rule.originRequest ? [[rule.hostname, rule.originRequest]] : [],
        );
        expect(checked.map(([hostname]) => hostname).sort()).toEqual([...guarded].sort());
        for (const [hostname, originRequest] of checked) {
          expect(originRequest).toEqual({
            access: { required: true, teamName: "team", audTags: [`aud-of-${hostname}`] },
          });
        }
      }),
      RUNS,
    );
  });
});
