/**
 * Namespaces: those the stack writes into without creating them must exist before `pulumi up`; those it enrols in
 * the mesh must carry the ambient label after it.
 */
import type { StackFacts } from "../../stack/facts";
import { fail, listing, ok, type Check, type Result } from "../check";
import type { CheckContext } from "../context";
import { KUBE_API } from "./cluster";
import type { Meta } from "./objects";

export interface NamespaceObject {
  metadata?: Meta;
}

const listNamespaces = (context: CheckContext): Promise<NamespaceObject[]> =>
  context.shared("namespaces", async () => {
    const kube = await context.kube();
    return (await kube.request((api) => api.core.listNamespace())).items;
  });

export function requiredNamespacesResult(
  namespaces: readonly NamespaceObject[],
  required: StackFacts["kubernetes"]["namespaces"],
): Result {
  if (required.length === 0) return ok("the stack needs no namespace it does not create");
  const existing = new Set(namespaces.map((ns) => ns.metadata?.name));
  const missing = required.filter((ns) => !existing.has(ns.name));
  return missing.length > 0
    ? fail(
        `missing: ${missing.map((ns) => `${ns.name} (needed by ${ns.neededBy.join(", ")})`).join("; ")}`,
        missing.map((ns) => `kubectl create namespace ${ns.name}`).join(" && "),
      )
    : ok(`${listing(required.map((ns) => ns.name))} exist${required.length === 1 ? "s" : ""}`);
}

export const requiredNamespacesCheck: Check<CheckContext> = {
  id: "kube-namespaces",
  component: "Kubernetes",
  name: "Namespaces",
  needs: [KUBE_API],
  run: async (context) => requiredNamespacesResult(await listNamespaces(context), context.facts.kubernetes.namespaces),
};

export function enrolmentResult(namespaces: readonly NamespaceObject[], istio: StackFacts["istio"]): Result {
  const { key, value } = istio.ambientLabel;
  const byName = new Map(namespaces.map((ns) => [ns.metadata?.name, ns]));
  const missing = istio.meshNamespaces.filter((name) => !byName.has(name));
  const unlabelled = istio.meshNamespaces.filter(
    (name) => byName.has(name) && byName.get(name)?.metadata?.labels?.[key] !== value,
  );
  const problems = [
    ...(missing.length > 0 ? [`missing: ${listing(missing)}`] : []),
    ...(unlabelled.length > 0 ? [`not labelled ${key}=${value}: ${listing(unlabelled)}`] : []),
  ];
  return problems.length > 0
    ? fail(problems.join("; "), "pulumi up (the stack labels them; a missing namespace must be created first)")
    : ok(`${listing(istio.meshNamespaces)} carry ${key}=${value}`);
}

export const enrolmentCheck: Check<CheckContext> = {
  id: "istio-enrolment",
  component: "Istio",
  name: "Mesh namespaces",
  needs: [KUBE_API],
  run: async (context) => enrolmentResult(await listNamespaces(context), context.facts.istio),
};
