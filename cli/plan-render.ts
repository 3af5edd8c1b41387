/**
 * The offline plan as text for a reviewer: the summary first, then what an up assumes and what deserves a second
 * look, the routes, every resource by component (Helm values folded unless asked for), and the outputs. `--out`
 * also writes the values and every object as files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { PlanFileError, type Plan, type PlannedResource } from "./stack/plan-model";

const RELEASE = "kubernetes:helm.sh/v3:Release";

/** The short kind of a resource type: `kubernetes:helm.sh/v3:Release` → `Release`. */
export function kindOf(type: string): string {
  return type.split(":").pop() ?? type;
}

function yamlBlock(value: unknown, indent: string): string {
  return stringify(value, { lineWidth: 0 })
    .trimEnd()
    .split("\n")
    .map((line) => `${indent}${line}`)
    .join("\n");
}

function table(rows: string[][], indent = "  "): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return rows.map((row) => `${indent}${row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")}`.trimEnd()).join("\n");
}

/** The components in registration order, each with its resources. */
function byComponent(resources: readonly PlannedResource[]): Map<string, PlannedResource[]> {
  const groups = new Map<string, PlannedResource[]>();
  for (const resource of resources)
    groups.set(resource.component, [...(groups.get(resource.component) ?? []), resource]);
  return groups;
}

function summary(plan: Plan): string[] {
  const groups = byComponent(plan.resources);
  const protectedNames = plan.resources.filter((r) => r.protect).map((r) => r.name);
  return [
    `Summary: ${plan.resources.length} resources in ${groups.size} groups, ${protectedNames.length} protected, ` +
      `${plan.secretValues} secret values shown as [secret]`,
    table([
      ["GROUP", "RESOURCES", "PROTECTED"],
      ...[...groups].map(([group, rs]) => [group, String(rs.length), String(rs.filter((r) => r.protect).length)]),
    ]),
    ...(protectedNames.length > 0 ? [`  protected from deletion: ${protectedNames.join(", ")}`] : []),
  ];
}

function preconditionLines(plan: Plan): string[] {
  const { namespaces, assumptions } = plan.preconditions;
  return [
    "Preconditions of pulumi up (the stack assumes these and creates none of them)",
    "  Namespaces that must exist:",
    ...(namespaces.length > 0
      ? [
          table(
            namespaces.map((ns) => [ns.name, ns.neededBy.join(", ")]),
            "    ",
          ),
        ]
      : ["    (none)"]),
    ...assumptions.map((line) => `  - ${line}`),
  ];
}

/**
 * What a resource holds, below its header: the inputs (the kind left out, the header names it), or a release's chart
 * and values, folded unless `showValues`.
 */
export function resourceBody(resource: PlannedResource, showValues: boolean, indent = "      "): string[] {
  if (resource.type !== RELEASE) {
    const rest = Object.fromEntries(
      Object.entries(resource.inputs).filter(([key]) => key !== "apiVersion" && key !== "kind"),
    );
    return [yamlBlock(rest, indent)];
  }
  const r = resource.inputs as {
    chart?: string;
    version?: string;
    repositoryOpts?: { repo?: string };
    namespace?: string;
    name?: string;
    values?: unknown;
  };
  const values = yamlBlock(r.values ?? {}, `${indent}  `);
  return [
    `${indent}chart ${r.chart} ${r.version}${r.repositoryOpts ? ` from ${r.repositoryOpts.repo}` : ""} → release ${r.namespace}/${r.name}`,
    showValues
      ? `${indent}values:\n${values}`
      : `${indent}values: ${values.split("\n").length} lines (npm run plan -- --values shows them)`,
  ];
}

/** A plan creates everything, so how a resource would be replaced (deleteBeforeReplace) is the diff's to say. */
function describe(resource: PlannedResource, showValues: boolean): string {
  const header =
    `  ${resource.read ? "> read" : "+"} ${kindOf(resource.type)} ${resource.name}` +
    (resource.protect ? "  [protected]" : "") +
    (resource.after.length > 0 ? `  (after ${resource.after.join(", ")})` : "");
  return [header, ...resourceBody(resource, showValues)].join("\n");
}

export function renderPlan(plan: Plan, { values }: { values: boolean }): string {
  const lines = [
    `Offline plan of stack ${plan.stack} (a preview before anything exists, offline: nothing was contacted; what the providers compute is [computed])`,
    ...(plan.placeholders.length > 0
      ? [`Secrets the plan cannot read are placeholders: ${plan.placeholders.join(", ")}`]
      : []),
    "",
    ...summary(plan),
    "",
    ...preconditionLines(plan),
    "",
    "Warnings",
    ...(plan.warnings.length > 0 ? plan.warnings.map((w) => `  - ${w}`) : ["  (none)"]),
    "",
    "Routes",
    table([
      ["HOSTNAME", "ACCESS", "TUNNEL RULE", "GATEWAY", "BACKEND", "ALLOW"],
      ...plan.routes.map((r) => [r.hostname, r.access, r.tunnelRule, r.gateway, r.backend, r.allow]),
    ]),
  ];
  for (const [group, resources] of byComponent(plan.resources)) {
    lines.push("", group, ...resources.map((r) => describe(r, values)));
  }
  lines.push(
    "",
    "Outputs",
    ...Object.entries(plan.outputs).map(([key, value]) => `  ${key}:\n${yamlBlock(value, "    ")}`),
  );
  return `${lines.join("\n")}\n`;
}

/**
 * Writes the plan, each release's values and every object as files under `dir`, for diffing in review. An earlier
 * plan there is replaced; any other non-empty directory is refused, so a mistyped `--out .` deletes nothing.
 */
export function writePlanFiles(plan: Plan, dir: string, text: string): void {
  if (fs.existsSync(dir)) {
    if (fs.readdirSync(dir).length > 0 && !fs.existsSync(path.join(dir, "plan.json"))) {
      throw new PlanFileError(`--out ${dir}: not empty and holds no earlier plan; name a new or empty directory`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const write = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  };
  write("plan.txt", text);
  write("plan.json", `${JSON.stringify(plan, null, 2)}\n`);
  for (const resource of plan.resources.filter((r) => r.component !== "providers")) {
    const inputs = resource.inputs as {
      name?: string;
      chart?: string;
      version?: string;
      namespace?: string;
      values?: unknown;
      metadata?: { namespace?: string };
    };
    if (resource.type === RELEASE) {
      const header = `# ${inputs.name}: chart ${inputs.chart} ${inputs.version}, namespace ${inputs.namespace}\n`;
      write(`helm/${inputs.name}.values.yaml`, header + stringify(inputs.values ?? {}, { lineWidth: 0 }));
    } else if (resource.type.startsWith("kubernetes:")) {
      write(
        `kubernetes/${inputs.metadata?.namespace ?? "_cluster"}/${kindOf(resource.type)}-${resource.name}.yaml`,
        stringify(inputs, { lineWidth: 0 }),
      );
    } else {
      write(
        `${resource.type.split(":")[0]}/${kindOf(resource.type)}-${resource.name}.yaml`,
        stringify(inputs, { lineWidth: 0 }),
      );
    }
  }
}
