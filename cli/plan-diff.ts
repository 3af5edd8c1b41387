/**
 * What a change does, between two offline plans (`npm run plan -- --json` on the base and on the head): resources
 * added and removed, and for each changed one the inputs that differ, path by path. Fork pull requests get no
 * secrets and cannot run `pulumi preview`; this diff is what their reviewers read instead.
 */
import * as fs from "node:fs";
import { PLAN_FORMAT, PlanFileError, type Plan, type PlannedResource } from "./stack/plan-model";
import { kindOf, resourceBody } from "./plan-render";

interface InputChange {
  /**
   * Dotted path into the inputs (`values.hubble.ui.enabled`); a list item by its identity
   * (`config.ingresses[hostname=ssh.example.com]`, a set's member by its value: `spec.hosts["grafana.example.com"]`),
   * by its index in a list without one (`spec.rules[0].to`). `<list> (order)`: the items both hold, reordered.
   */
  path: string;
  before: unknown;
  after: unknown;
  /** A list item that is new in the head, or gone from it. */
  item?: "added" | "removed";
}

export interface PlanDiff {
  /** Each with its inputs: `--diff` prints them, as `pulumi preview --diff` does for a create. */
  added: PlannedResource[];
  removed: PlannedResource[];
  /** `replaced`: a changed input the provider cannot update in place, so the resource is replaced. */
  changed: { resource: PlannedResource; changes: InputChange[]; replaced: boolean }[];
  /** What an up assumes (namespaces and what needs each, releases, objects, the token's rights), compared as sets. */
  preconditions: InputChange[];
  warnings: { added: string[]; removed: string[] };
  outputs: InputChange[];
}

/** An earlier `--json` plan, read from a file. */
export function readPlan(file: string): Plan {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new PlanFileError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PlanFileError(`${file}: not JSON (write it with: npm run -s plan -- --json > ${file})`);
  }
  const plan = parsed as Partial<Plan>;
  if (plan.format !== PLAN_FORMAT || !Array.isArray(plan.resources)) {
    throw new PlanFileError(
      `${file}: not an offline plan of format ${PLAN_FORMAT} (write it with: npm run -s plan -- --json > FILE)`,
    );
  }
  return plan as Plan;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * Fields that identify an item of a list, tried in order: a tunnel ingress rule or a route by its hostname (or the
 * config's `host`), a container, env var, port or policy by its name, a Gateway server by its port's name, a spread
 * constraint by its topology key, an LB pool block by its CIDR or its first address (a pool's blocks never overlap), a
 * token's need by its permission group.
 * A group names each item by the first of its fields the item has.
 */
const IDENTITY_FIELDS: (string | string[])[] = [
  "group",
  "hostname",
  "host",
  "name",
  "port.name",
  "topologyKey",
  ["cidr", "start"],
];

function fieldOf(item: unknown, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((value, part) => (isObject(value) ? value[part] : undefined), item);
}

const isScalar = (value: unknown) => value === null || ["string", "number", "boolean"].includes(typeof value);

/** `field=value` for the first field of the group the item has, undefined for none. */
function nameIn(item: unknown, group: string[]): string | undefined {
  const field = group.find((candidate) => fieldOf(item, candidate) !== undefined);
  const value = field === undefined ? undefined : fieldOf(item, field);
  return typeof value === "string" || typeof value === "number" ? `${field}=${value}` : undefined;
}

/**
 * What names each item of a list in both plans, so an item is compared with itself wherever it moved: a list of
 * distinct scalars is a set, each member named by its value; a list of objects, the first identity field whose
 * value is unique to each item in both lists (one item may lack it: the tunnel's catch-all, `hostname=(none)`).
 * Undefined: no identity, so items are compared by index.
 */
function identityOf(lists: unknown[][]): ((item: unknown) => string) | undefined {
  const items = lists.flat();
  if (
    items.every(isScalar) &&
    lists.every((list) => new Set(list.map((v) => JSON.stringify(v))).size === list.length)
  ) {
    return (item) => JSON.stringify(item);
  }
  if (!items.every((item) => isObject(item) && !Array.isArray(item))) return undefined;
  const group = IDENTITY_FIELDS.map((fields) => (typeof fields === "string" ? [fields] : fields)).find((candidate) => {
    const identifies = lists.every((list) => {
      const named = list.flatMap((item) => nameIn(item, candidate) ?? []);
      // An item holding one of the fields but not as a name (an object) disqualifies the group.
      const unnamed = list.filter((item) => candidate.every((field) => fieldOf(item, field) === undefined));
      return (
        named.length + unnamed.length === list.length && unnamed.length <= 1 && new Set(named).size === named.length
      );
    });
    return identifies && items.some((item) => nameIn(item, candidate) !== undefined);
  });
  return group === undefined ? undefined : (item) => nameIn(item, group) ?? `${group[0]}=(none)`;
}

/** Lists matched item by item through their identity; a new order of the items both hold is one change. */
function listChanges(before: unknown[], after: unknown[], at: string): InputChange[] | undefined {
  const identity = identityOf([before, after]);
  if (!identity) return undefined;
  const old = new Map(before.map((item) => [identity(item), item]));
  const now = new Map(after.map((item) => [identity(item), item]));
  const found: InputChange[] = [
    ...[...now].flatMap(([key, item]) =>
      old.has(key)
        ? changes(old.get(key), item, `${at}[${key}]`)
        : [{ path: `${at}[${key}]`, before: undefined, after: item, item: "added" as const }],
    ),
    ...[...old].flatMap(([key, item]) =>
      now.has(key) ? [] : [{ path: `${at}[${key}]`, before: item, after: undefined, item: "removed" as const }],
    ),
  ];
  const [oldOrder, newOrder] = [[...old.keys()].filter((k) => now.has(k)), [...now.keys()].filter((k) => old.has(k))];
  if (oldOrder.some((key, i) => key !== newOrder[i])) {
    // A set's members by value, other items by their identity.
    const shown = (key: string) => (isScalar(old.get(key)) ? old.get(key) : key);
    found.push({ path: `${at} (order)`, before: oldOrder.map(shown), after: newOrder.map(shown) });
  }
  return found;
}

/**
 * Every path where `before` and `after` differ; a value that changes type, or a leaf, is one change. List items are
 * matched by identity where they have one (`config.ingresses[hostname=ssh.example.com]`), so inserting an item
 * changes nothing about the others; a list without one is compared by index (`spec.rules[0]`).
 */
export function changes(before: unknown, after: unknown, at = ""): InputChange[] {
  if (Array.isArray(before) && Array.isArray(after)) {
    const keyed = listChanges(before, after, at);
    if (keyed) return keyed;
  }
  if (isObject(before) && isObject(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => {
      const path = Array.isArray(before) ? `${at}[${key}]` : at ? `${at}.${key}` : key;
      return changes(before[key], after[key], path);
    });
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: at || "(whole)", before, after }];
}

/**
 * Inputs the provider cannot change in place, so a change replaces the resource: a Kubernetes object's name and
 * namespace (a Helm release's too), a Cloudflare resource's account or zone, the tunnel's config source, a record's
 * type (docs/tunnel.md). Everything else is an update.
 */
function replacingInputs(type: string): string[] {
  if (type === "kubernetes:helm.sh/v3:Release") return ["name", "namespace"];
  if (type.startsWith("kubernetes:")) return ["metadata.name", "metadata.namespace"];
  const scope = ["accountId", "zoneId"];
  if (type === "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared") return [...scope, "configSrc"];
  if (type === "cloudflare:index/dnsRecord:DnsRecord") return [...scope, "type"];
  return type.startsWith("cloudflare:") ? scope : [];
}

function replaces(resource: PlannedResource, found: InputChange[]): boolean {
  const inputs = replacingInputs(resource.type);
  return found.some((c) => inputs.some((input) => c.path === input || c.path.startsWith(`${input}.`)));
}

export function diffPlans(before: Plan, after: Plan): PlanDiff {
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const now = new Map(after.resources.map((r) => [r.urn, r]));
  return {
    added: after.resources.filter((r) => !old.has(r.urn)),
    removed: before.resources.filter((r) => !now.has(r.urn)),
    changed: after.resources.flatMap((resource) => {
      const previous = old.get(resource.urn);
      if (!previous) return [];
      const found = [
        ...changes(previous.inputs, resource.inputs),
        ...changes(previous.protect, resource.protect, "(protect)"),
      ];
      return found.length > 0 ? [{ resource, changes: found, replaced: replaces(resource, found) }] : [];
    }),
    // What an up assumes has no order: a new order of the same items is no change.
    preconditions: changes(before.preconditions, after.preconditions).filter((c) => !c.path.endsWith(" (order)")),
    warnings: {
      added: after.warnings.filter((w) => !before.warnings.includes(w)),
      removed: before.warnings.filter((w) => !after.warnings.includes(w)),
    },
    outputs: changes(before.outputs, after.outputs),
  };
}

const show = (value: unknown) => (value === undefined ? "(unset)" : JSON.stringify(value));
/** `+ path: value` for a new list item (a set's member is named by its path alone), `- path` for a gone one. */
const line = (c: InputChange, changed = "") =>
  c.item === "added"
    ? `+ ${c.path}${isScalar(c.after) ? "" : `: ${show(c.after)}`}`
    : c.item === "removed"
      ? `- ${c.path}`
      : `${changed}${c.path}: ${show(c.before)} → ${show(c.after)}`;
const label = (r: PlannedResource) => `${kindOf(r.type)} ${r.name}  (${r.component})`;

/** How Pulumi would replace it: delete first where the resource says so (a name only one may hold), else create first. */
const replacement = (r: PlannedResource) =>
  r.deleteBeforeReplace ? "[replaced by delete, then create]" : "[replaced: create, then delete]";

export function renderDiff(diff: PlanDiff, total: number, { values }: { values: boolean }): string {
  const replaced = diff.changed.filter((c) => c.replaced).length;
  const lines = [
    `Offline plan diff: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed ` +
      `(${replaced} replaced) of ${total} resources`,
  ];
  if (diff.preconditions.length > 0) {
    lines.push(
      "",
      "Preconditions of pulumi up (the stack assumes these and creates none of them)",
      ...diff.preconditions.map((c) => `  ${line(c, "~ ")}`),
    );
  }
  if (diff.warnings.added.length + diff.warnings.removed.length > 0) {
    lines.push(
      "",
      "Warnings",
      ...diff.warnings.added.map((w) => `  + ${w}`),
      ...diff.warnings.removed.map((w) => `  - ${w}`),
    );
  }
  if (diff.added.length + diff.removed.length + diff.changed.length > 0) lines.push("", "Resources");
  for (const resource of diff.added) {
    lines.push(`  + ${label(resource)}${resource.protect ? "  [protected]" : ""}`, ...resourceBody(resource, values));
  }
  lines.push(...diff.removed.map((r) => `  - ${label(r)}${r.protect ? "  [protected: the up will stop here]" : ""}`));
  const guarded = diff.removed.filter((r) => r.protect);
  if (guarded.length > 0) {
    // The up deletes last: by the time it meets a protected resource, the rest of the change is already applied, and
    // a protect flag lifted in config no longer reaches a resource the program stopped declaring.
    lines.push(
      "",
      `Removing ${guarded.map((r) => r.name).join(", ")}, protected: an up would stop there with the rest applied.`,
      "  Lift the protection first, with the removed entries still in config:",
      "  pulumi config set --path tunnel.protect false && pulumi up; then remove them and pulumi up (docs/tunnel.md)",
    );
  }
  for (const { resource, changes: found, replaced: isReplaced } of diff.changed) {
    const header = isReplaced ? `  +- ${label(resource)}  ${replacement(resource)}` : `  ~ ${label(resource)}`;
    lines.push(header, ...found.map((c) => `      ${line(c)}`));
  }
  if (diff.outputs.length > 0) {
    lines.push("", "Outputs", ...diff.outputs.map((c) => `  ${line(c, "~ ")}`));
  }
  return `${lines.join("\n")}\n`;
}
