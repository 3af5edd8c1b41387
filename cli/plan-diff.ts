/**
 * What a change does, between two offline plans (`npm run plan -- --json` on the base and on the head): resources
 * added and removed, and for each changed one the inputs that differ, path by path. Fork pull requests get no
 * secrets and cannot run `pulumi preview`; this diff is what their reviewers read instead.
 */
import * as fs from "node:fs";
import { PLAN_FORMAT, PlanFileError, type Plan, type PlannedResource } from "./stack/plan-model";
import { kindOf } from "./plan-render";

interface InputChange {
  /** Dotted path into the inputs (`values.hubble.ui.enabled`, `spec.rules[0].to`). */
  path: string;
  before: unknown;
  after: unknown;
}

export interface PlanDiff {
  added: PlannedResource[];
  removed: PlannedResource[];
  changed: { resource: PlannedResource; changes: InputChange[] }[];
  /** Warnings, required namespaces and other assumptions that appear or go. */
  notes: { added: string[]; removed: string[] };
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

/** Every path where `before` and `after` differ; a value that changes type, or a leaf, is one change. */
export function changes(before: unknown, after: unknown, at = ""): InputChange[] {
  if (isObject(before) && isObject(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => {
      const path = Array.isArray(before) ? `${at}[${key}]` : at ? `${at}.${key}` : key;
      return changes(before[key], after[key], path);
    });
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: at || "(whole)", before, after }];
}

/** The sentences a reviewer reads about the config: warnings and what an up assumes (namespaces, token rights…). */
function notesOf(plan: Plan): string[] {
  return [
    ...plan.warnings.map((w) => `warning: ${w}`),
    ...plan.preconditions.namespaces.map((ns) => `namespace ${ns.name} must exist (${ns.neededBy.join(", ")})`),
    ...plan.preconditions.assumptions.map((a) => `assumes ${a}`),
  ];
}

export function diffPlans(before: Plan, after: Plan): PlanDiff {
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const now = new Map(after.resources.map((r) => [r.urn, r]));
  const [oldNotes, newNotes] = [notesOf(before), notesOf(after)];
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
      return found.length > 0 ? [{ resource, changes: found }] : [];
    }),
    notes: {
      added: newNotes.filter((n) => !oldNotes.includes(n)),
      removed: oldNotes.filter((n) => !newNotes.includes(n)),
    },
    outputs: changes(before.outputs, after.outputs),
  };
}

const show = (value: unknown) => (value === undefined ? "(unset)" : JSON.stringify(value));
const label = (r: PlannedResource) => `${kindOf(r.type)} ${r.name}  (${r.component})`;

export function renderDiff(diff: PlanDiff, total: number): string {
  const lines = [
    `Offline plan diff: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed ` +
      `of ${total} resources`,
  ];
  if (diff.notes.added.length + diff.notes.removed.length > 0) {
    lines.push("", "Config", ...diff.notes.added.map((n) => `  + ${n}`), ...diff.notes.removed.map((n) => `  - ${n}`));
  }
  if (diff.added.length + diff.removed.length + diff.changed.length > 0) lines.push("", "Resources");
  lines.push(...diff.added.map((r) => `  + ${label(r)}${r.protect ? "  [protected]" : ""}`));
  lines.push(...diff.removed.map((r) => `  - ${label(r)}${r.protect ? "  [protected: the up will stop here]" : ""}`));
  for (const { resource, changes: found } of diff.changed) {
    lines.push(`  ~ ${label(resource)}`, ...found.map((c) => `      ${c.path}: ${show(c.before)} → ${show(c.after)}`));
  }
  if (diff.outputs.length > 0) {
    lines.push("", "Outputs", ...diff.outputs.map((c) => `  ~ ${c.path}: ${show(c.before)} → ${show(c.after)}`));
  }
  return `${lines.join("\n")}\n`;
}
