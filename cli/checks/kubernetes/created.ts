/**
 * The objects the stack creates itself (read off its resource graph), before `pulumi up`: since @pulumi/kubernetes
 * 4.29 a create no longer adopts an object that exists (the API server answers AlreadyExists), so one left by an
 * earlier install (Flux's istio-system, cloudflared's Secret) stops the first `up` half-way, after the tunnel and its
 * records exist. An object Pulumi manages already (its field manager) is this stack's own, or another stack's.
 */
import type { CreatedObject } from "../../stack/facts";
import { count, fail, ok, warn, type Check, type Result } from "../check";
import type { CheckContext } from "../context";
import { KUBE_API } from "./cluster";
import type { Meta } from "./objects";

/** An object as the API returns it, with the field managers that wrote it. */
export interface ManagedObject {
  metadata?: Meta & { managedFields?: { manager?: string }[] };
}

/** Pulumi's Kubernetes provider writes with field managers named `pulumi-kubernetes-…`. */
const PULUMI_MANAGER = /^pulumi-kubernetes/;

const describe = (o: CreatedObject) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`;

/** `found[i]` is what the cluster holds at `objects[i]`, undefined when nothing. */
export function createdObjectsResult(
  objects: readonly CreatedObject[],
  found: readonly (ManagedObject | undefined)[],
): Result {
  const missing = objects.filter((object, i) => object.adopted && found[i] === undefined);
  if (missing.length > 0) {
    return fail(
      `homecluster:adopt names ${missing.map(describe).join(", ")}, which does not exist: the import fails`,
      "drop the entry (the stack creates it), or correct it: npm run adopt prints homecluster:adopt",
    );
  }
  const existing = objects
    .map((object, i) => ({ object, live: found[i] }))
    .filter((e) => e.live !== undefined && !e.object.adopted);
  const adopted = objects.filter((o) => o.adopted).length;
  if (existing.length === 0) {
    return ok(
      adopted === 0
        ? `none of the ${count(objects.length, "object")} the stack creates exists yet`
        : `the ${count(adopted, "adopted object")} exist; none of the other ${count(objects.length - adopted, "object")} does yet`,
    );
  }
  const pulumis = (e: (typeof existing)[number]) =>
    e.live?.metadata?.managedFields?.some((f) => PULUMI_MANAGER.test(f.manager ?? "")) ?? false;
  const foreign = existing.filter((e) => !pulumis(e));
  if (foreign.length > 0) {
    return fail(
      `${foreign.map((e) => describe(e.object)).join(", ")} exist${foreign.length === 1 ? "s" : ""} already, not made by Pulumi: the first pulumi up stops at ${foreign.length === 1 ? "it" : "them"} (AlreadyExists), half-way`,
      "adopt them (npm run adopt prints homecluster:adopt; docs/migration.md), or delete them (an old install's)",
    );
  }
  return warn(
    `${count(existing.length, "object")} exist${existing.length === 1 ? "s" : ""} already, managed by Pulumi: ${existing.map((e) => describe(e.object)).join(", ")}`,
    "nothing to do if this stack created them; if another stack did, the two fight over them",
  );
}

/** Each of `objects` as the cluster holds it, in their order; undefined where there is none. */
export async function readLive(
  context: CheckContext,
  objects: readonly Pick<CreatedObject, "apiVersion" | "kind" | "name" | "namespace">[],
): Promise<unknown[]> {
  const kube = await context.kube();
  return Promise.all(
    objects.map((o) =>
      kube.find((api) =>
        api.objects.read({
          apiVersion: o.apiVersion,
          kind: o.kind,
          metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) },
        }),
      ),
    ),
  );
}

export const createdObjectsCheck: Check<CheckContext> = {
  id: "kube-objects",
  component: "Kubernetes",
  name: "Stack objects",
  needs: [KUBE_API],
  run: async (context) => {
    const { objects } = context.facts.kubernetes;
    const found = await readLive(context, objects);
    return createdObjectsResult(objects, found as (ManagedObject | undefined)[]);
  },
};
