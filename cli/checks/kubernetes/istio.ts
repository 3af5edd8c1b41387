/**
 * The mesh's policy objects (mesh-wide STRICT mTLS, the default deny and its allows, ServiceEntries): each exists
 * with the spec the stack sets. A policy edited by hand is a failure, since it may open what the stack closes.
 */
import type { ExpectedObject } from "../../stack";
import { count, fail, ok, type Check, type Result } from "../check";
import type { CheckContext } from "../context";
import { KUBE_API } from "./cluster";
import { listKind, matches, type CustomObject } from "./objects";

const keyOf = (kind: string, namespace: string | undefined, name: string | undefined) => `${kind} ${namespace}/${name}`;

/** `found` holds the listed objects of each kind the stack creates. */
export function policiesResult(
  expected: readonly ExpectedObject[],
  found: ReadonlyMap<string, CustomObject[]>,
): Result {
  const existing = new Map(
    [...found].flatMap(([kind, objects]) =>
      objects.map((object) => [keyOf(kind, object.metadata?.namespace, object.metadata?.name), object] as const),
    ),
  );
  const missing: string[] = [];
  const edited: string[] = [];
  for (const object of expected) {
    const key = keyOf(object.kind, object.metadata.namespace, object.metadata.name);
    const actual = existing.get(key);
    if (!actual) missing.push(key);
    else if (!matches(object.spec, actual.spec)) edited.push(key);
  }
  const problems = [
    ...(missing.length > 0 ? [`missing: ${missing.join(", ")}`] : []),
    ...(edited.length > 0 ? [`not as the stack sets it: ${edited.join(", ")}`] : []),
  ];
  if (problems.length > 0) return fail(problems.join("; "), "pulumi up (it restores them)");
  const kinds = [...new Set(expected.map((o) => o.kind))].map(
    (kind) => `${kind}: ${expected.filter((o) => o.kind === kind).length}`,
  );
  return ok(`${count(expected.length, "object")} as the stack sets them (${kinds.join(", ")})`);
}

export const policiesCheck: Check<CheckContext> = {
  id: "istio-policies",
  component: "Istio",
  name: "Mesh policies",
  needs: [KUBE_API],
  run: async (context) => {
    const { policies } = context.facts.istio;
    const kinds = new Map(policies.map((p) => [p.kind, p]));
    const found = new Map(
      await Promise.all([...kinds].map(async ([kind, object]) => [kind, await listKind(context, object)] as const)),
    );
    return policiesResult(policies, found);
  },
};
