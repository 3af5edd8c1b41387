/**
 * The custom resources the stack creates (Istio's policies, Gateway and VirtualServices; Cilium's pool, L2 and probe
 * policies): each exists with the spec the stack sets. A policy edited by hand is a failure, since it may open what
 * the stack closes. A value Cloudflare decides (an Access application's `aud`) is not compared.
 */
import type { ExpectedObject } from "../../stack/facts";
import { count, fail, ok, type Check, type Result } from "../check";
import type { CheckContext } from "../context";
import { KUBE_API } from "./cluster";
import { listKind, matches, type CustomObject } from "./objects";

const keyOf = (kind: string, namespace: string | undefined, name: string | undefined) =>
  `${kind} ${namespace ? `${namespace}/` : ""}${name}`;

/** `found` holds the listed objects of each kind the stack creates. */
export function customObjectsResult(
  expected: readonly ExpectedObject[],
  found: ReadonlyMap<string, CustomObject[]>,
  exact = false,
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
    else if (!matches(object.spec ?? {}, actual.spec ?? {}, exact)) edited.push(key);
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

/**
 * The check of the stack's custom resources of one API group family (`istio.io`, `cilium.io`); `exact` where the
 * family's CRDs default no field (Istio's), so any key the stack did not set is an edit.
 */
export function customObjectsCheck(options: {
  id: string;
  component: string;
  group: string;
  exact: boolean;
}): Check<CheckContext> {
  return {
    id: options.id,
    component: options.component,
    name: "Objects",
    needs: [KUBE_API],
    run: async (context) => {
      const expected = context.facts.customObjects.filter((o) => o.apiVersion.split("/")[0]!.endsWith(options.group));
      const kinds = new Map(expected.map((o) => [o.kind, o]));
      const found = new Map(
        await Promise.all([...kinds].map(async ([kind, object]) => [kind, await listKind(context, object)] as const)),
      );
      return customObjectsResult(expected, found, options.exact);
    },
  };
}
