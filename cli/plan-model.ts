/**
 * The offline plan as data: what the program registered under mocks (secrets redacted), grouped by component, plus
 * what the config says before anything runs (preconditions, warnings, the routes). `--json` prints it, `--diff`
 * compares two of them, and the text rendering reads it.
 */
import { tunnelIngressRules } from "../builders/tunnel-config";
import { cloudflaredIdentity } from "../builders/cloudflared-workload";
import { publicGatewayRef } from "../builders/ingress-objects";
import type { HomeclusterConfig, StackConfig } from "../config/load";
import { preconditions, warnings, type Preconditions } from "../config/preconditions";
import { ingressGateway } from "../model/ingress-gateway";
import { serviceHost, workloadPort } from "../model/routes";
import { routeAllow } from "../policies/mesh";
import { isSecretValue, redact, type MockRun, type RecordedResource } from "../test/support/mock-runtime";

/** Bumped when the JSON shape changes, so `--diff` refuses a plan it cannot read. */
export const PLAN_FORMAT = 1;

export interface PlannedResource {
  urn: string;
  type: string;
  name: string;
  /** The top-level component it belongs to (`<type> <name>`), or `providers`, or `stack` for none. */
  component: string;
  protect: boolean;
  /** Names of the resources it waits for. */
  after: string[];
  /** Its inputs, each secret value replaced by `[secret]`. */
  inputs: Record<string, unknown>;
}

/** One public hostname: where the tunnel sends it, through which gateway, to what, allowed by which policy. */
interface RouteRow {
  hostname: string;
  tunnelRule: string;
  gateway: string;
  backend: string;
  allow: string;
  /** The Access policies in front of it, or `public`. */
  access: string;
}

export interface Plan {
  format: typeof PLAN_FORMAT;
  stack: string;
  /** Secrets the stack file holds encrypted or not at all: the plan ran with placeholders. */
  placeholders: string[];
  preconditions: Preconditions;
  warnings: string[];
  routes: RouteRow[];
  resources: PlannedResource[];
  /** How many secret values the inputs held (each printed as `[secret]`). */
  secretValues: number;
  outputs: Record<string, unknown>;
}

function countSecrets(value: unknown): number {
  if (isSecretValue(value)) return 1;
  if (value && typeof value === "object") return Object.values(value).reduce<number>((n, v) => n + countSecrets(v), 0);
  return 0;
}

/** The outermost component of a resource (its top-level ancestor that is not a custom resource). */
function componentOf(resource: RecordedResource, byUrn: ReadonlyMap<string, RecordedResource>): string {
  if (resource.type.startsWith("pulumi:providers:")) return "providers";
  let current: RecordedResource | undefined = resource;
  let component: RecordedResource | undefined;
  while (current?.parent) {
    current = byUrn.get(current.parent);
    if (current && !current.custom) component = current;
  }
  return component ? `${component.type} ${component.name}` : "stack";
}

function routeRows(config: StackConfig): RouteRow[] {
  const gateway = ingressGateway(config.istio.gateway.namespace);
  const cloudflared = cloudflaredIdentity(config.tunnel.cloudflared.namespace);
  const byHostname = new Map(config.routes.map((route) => [route.hostname, route]));
  return tunnelIngressRules(config.routes, gateway).map((rule) => {
    const route = rule.hostname === undefined ? undefined : byHostname.get(rule.hostname);
    if (!route) {
      return { hostname: "(anything else)", tunnelRule: rule.service, gateway: "", backend: "", allow: "", access: "" };
    }
    const allow = config.istio.defaultDeny ? routeAllow(route, gateway, cloudflared)?.object.metadata : undefined;
    return {
      hostname: route.hostname,
      tunnelRule: rule.service,
      gateway: route.kind === "gateway" ? publicGatewayRef(gateway) : "—",
      backend:
        route.kind === "gateway"
          ? route.backend
            ? `${serviceHost(route.backend)}:${route.backend.port}`
            : `(an application stack in ${route.namespace})`
          : route.backend
            ? `(direct) ${route.backend.service}.${route.backend.namespace}:${workloadPort(route.backend)}`
            : "(direct, outside the cluster)",
      allow: allow ? `${allow.namespace}/${allow.name}` : "—",
      access: route.access.length > 0 ? route.access.join(", ") : "public",
    };
  });
}

export function buildPlan(
  run: MockRun,
  config: HomeclusterConfig,
  options: { stack: string; placeholders: string[] },
): Plan {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  // Grouped in the order index.ts creates the components (their children register asynchronously).
  const groups = ["providers", ...run.resources.filter((r) => !r.custom).map((c) => `${c.type} ${c.name}`), "stack"];
  const custom = run.resources
    .filter((r) => r.custom)
    .map((r) => ({ resource: r, component: componentOf(r, byUrn) }))
    .sort((a, b) => groups.indexOf(a.component) - groups.indexOf(b.component));
  return {
    format: PLAN_FORMAT,
    stack: options.stack,
    placeholders: options.placeholders,
    preconditions: preconditions(config, config.externalDnsApiToken === undefined),
    warnings: warnings(config),
    routes: routeRows(config),
    resources: custom.map(({ resource: r, component }) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      component,
      protect: r.protect,
      after: r.dependencies.flatMap((urn) => {
        const dependency = byUrn.get(urn);
        return dependency?.custom ? [dependency.name] : [];
      }),
      inputs: redact(r.rawInputs) as Record<string, unknown>,
    })),
    secretValues: custom.reduce((n, { resource }) => n + countSecrets(resource.rawInputs), 0),
    outputs: Object.fromEntries(
      Object.entries(run.outputs).map(([key, output]) => [key, output.secret ? "[secret]" : output.value]),
    ),
  };
}

/** A plan file that cannot be read, or an --out directory that cannot be written; the message names it. */
export class PlanFileError extends Error {
  override name = "PlanFileError";
}
