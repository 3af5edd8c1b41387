/**
 * The offline plan as data: what the program registered in its offline run (secrets redacted), grouped by component,
 * plus what an `up` assumes and what in the config deserves a second look, and the routes end to end. `--json`
 * prints it, `--diff` compares two of them, and the text rendering reads it.
 */
import { componentOf, objectsOf } from "../../offline/graph";
import { isSecretValue, redact } from "../../offline/values";
import type { Preconditions } from "./preconditions";
import type { Stack } from "./load";
import { UserError } from "./errors";

/** Bumped when the JSON shape changes, so `--diff` refuses a plan it cannot read. */
export const PLAN_FORMAT = 2;

export interface PlannedResource {
  urn: string;
  type: string;
  name: string;
  /** The top-level component it belongs to (`<type> <name>`), or `providers`, or `stack` for none. */
  component: string;
  protect: boolean;
  /** Replaced by deleting it first. */
  deleteBeforeReplace: boolean;
  /** Read from the cluster, not created (a namespace the stack needs to exist). */
  read: boolean;
  /** Names of the resources it waits for. */
  after: string[];
  /** Its inputs, each secret value replaced by `[secret]`, each value a provider computes by `[computed]`. */
  inputs: Record<string, unknown>;
}

/** One public hostname: where the tunnel sends it, through which gateway, to what, allowed by which policy. */
export interface RouteRow {
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

/** Each tunnel rule, the route behind it, and what the program made of it. */
function routeRows(stack: Stack): RouteRow[] {
  const { config, run } = stack.offline;
  const objects = objectsOf(run).filter((o) => o.mode === "create");
  const gateway = objects.find((o) => o.kind === "Gateway");
  const allows = objects.filter((o) => o.kind === "AuthorizationPolicy");
  const byHostname = new Map(config.routes.map((route) => [route.hostname, route]));
  return stack.facts.tunnel.config.ingress.map((rule) => {
    const route = rule.hostname === undefined ? undefined : byHostname.get(rule.hostname);
    if (!route) {
      return { hostname: "(anything else)", tunnelRule: rule.service, gateway: "", backend: "", allow: "", access: "" };
    }
    const { backend } = route;
    const allow =
      backend && allows.find((o) => o.namespace === backend.namespace && o.name.endsWith(`-to-${route.name}`));
    return {
      hostname: route.hostname,
      tunnelRule: rule.service,
      gateway: route.kind === "gateway" && gateway ? `${gateway.namespace}/${gateway.name}` : "—",
      backend:
        route.kind === "gateway"
          ? backend
            ? `${backend.service}.${backend.namespace}.svc.cluster.local:${backend.port}`
            : `(an application stack in ${route.namespace})`
          : backend
            ? `(direct) ${backend.service}.${backend.namespace}:${backend.targetPort ?? backend.port}`
            : "(direct, outside the cluster)",
      allow: allow ? `${allow.namespace}/${allow.name}` : "—",
      access: route.access.length > 0 ? route.access.join(", ") : "public",
    };
  });
}

export function buildPlan(stack: Stack): Plan {
  const { run } = stack.offline;
  // Grouped in the order index.ts creates the components (their children register asynchronously).
  const groups = ["providers", ...run.resources.filter((r) => !r.custom).map((c) => `${c.type} ${c.name}`), "stack"];
  const custom = run.resources
    .filter((r) => r.custom)
    .map((r) => ({ resource: r, component: componentOf(r, run.resources) }))
    .sort((a, b) => groups.indexOf(a.component) - groups.indexOf(b.component));
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  return {
    format: PLAN_FORMAT,
    stack: stack.offline.stack,
    placeholders: stack.offline.placeholders,
    preconditions: stack.preconditions,
    warnings: stack.warnings,
    routes: routeRows(stack),
    resources: custom.map(({ resource: r, component }) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      component,
      protect: r.protect,
      deleteBeforeReplace: r.deleteBeforeReplace,
      read: r.read !== undefined,
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
export class PlanFileError extends UserError {
  override name = "PlanFileError";
}
