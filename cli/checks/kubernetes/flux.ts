/**
 * Flux still reconciling what the stack adopts: a HelmRelease that owns an adopted release, or a HelmRelease or
 * Kustomization whose labels an adopted object carries, undoes the adopting `up` on its next reconcile unless it is
 * suspended. Flux labels what it applies `<controller>.toolkit.fluxcd.io/name` and `…/namespace`, and names a
 * HelmRelease's release `<targetNamespace>-<name>` unless `releaseName` is set, stored in `storageNamespace` or else
 * the HelmRelease's own namespace.
 */
import { fail, listing, ok, type Check, type Result } from "../check";
import type { CheckContext } from "../context";
import { KUBE_API } from "./cluster";
import { readLive } from "./created";
import type { CustomObject, Meta } from "./objects";

/** A Flux object as the API returns it (the parts read here). */
export interface FluxObject {
  metadata?: Meta;
  spec?: { suspend?: boolean; releaseName?: string; targetNamespace?: string; storageNamespace?: string };
}

const FLUX = {
  helmrelease: { group: "helm.toolkit.fluxcd.io", version: "v2", plural: "helmreleases" },
  kustomization: { group: "kustomize.toolkit.fluxcd.io", version: "v1", plural: "kustomizations" },
} as const;
type FluxKind = keyof typeof FLUX;

/** The release a HelmRelease installs, as `<storage namespace>/<release>`. */
export function fluxRelease(helmRelease: FluxObject): string {
  const { metadata = {}, spec = {} } = helmRelease;
  const name = spec.releaseName ?? (spec.targetNamespace ? `${spec.targetNamespace}-${metadata.name}` : metadata.name);
  return `${spec.storageNamespace ?? metadata.namespace}/${name}`;
}

/** The Flux object (kind and `<namespace>/<name>`) whose labels an applied object carries. */
export function fluxOwner(labels: Record<string, string> | undefined): { kind: FluxKind; id: string } | undefined {
  for (const kind of ["helmrelease", "kustomization"] as const) {
    const prefix = FLUX[kind].group.replace(".toolkit.fluxcd.io", "");
    const name = labels?.[`${prefix}.toolkit.fluxcd.io/name`];
    const namespace = labels?.[`${prefix}.toolkit.fluxcd.io/namespace`];
    if (name && namespace) return { kind, id: `${namespace}/${name}` };
  }
  return undefined;
}

/** An adopted thing and the Flux object that reconciles it. */
export interface FluxClaim {
  adopted: string;
  kind: FluxKind;
  owner: FluxObject;
}

export function fluxResult(claims: readonly FluxClaim[], adoptedCount: number): Result {
  const active = claims.filter((c) => c.owner.spec?.suspend !== true);
  if (active.length === 0) {
    return ok(
      claims.length === 0
        ? `no Flux object reconciles the ${adoptedCount} adopted releases and objects`
        : `every Flux object reconciling an adopted release or object is suspended`,
    );
  }
  const owners = new Map(active.map((c) => [`${c.kind} ${c.owner.metadata?.namespace}/${c.owner.metadata?.name}`, c]));
  return fail(
    `Flux still reconciles what the stack adopts: ${listing(active.map((c) => `${c.adopted} (${c.kind === "helmrelease" ? "HelmRelease" : "Kustomization"} ${c.owner.metadata?.namespace}/${c.owner.metadata?.name})`))}; it would undo the adopting up`,
    [...owners.values()]
      .map((c) => `flux suspend ${c.kind} ${c.owner.metadata?.name} -n ${c.owner.metadata?.namespace}`)
      .join("; "),
  );
}

export const fluxCheck: Check<CheckContext> = {
  id: "kube-flux",
  component: "Kubernetes",
  name: "Flux",
  needs: [KUBE_API],
  run: async (context) => {
    const kube = await context.kube();
    const { releases, objects } = context.facts.kubernetes;
    const adoptedReleases = releases.filter((r) => r.adopted);
    const adoptedObjects = objects.filter((o) => o.adopted);
    // No Flux CRD: nothing of Flux's can own anything.
    const list = async (kind: FluxKind) =>
      ((await kube.find((api) => api.custom.listClusterCustomObject(FLUX[kind]) as Promise<{ items: CustomObject[] }>))
        ?.items ?? []) as FluxObject[];
    const [helmReleases, kustomizations] = await Promise.all([list("helmrelease"), list("kustomization")]);
    const byId = (items: FluxObject[]) =>
      new Map(items.map((item) => [`${item.metadata?.namespace}/${item.metadata?.name}`, item]));
    const owners = { helmrelease: byId(helmReleases), kustomization: byId(kustomizations) };
    const claims: FluxClaim[] = adoptedReleases.flatMap((r) =>
      helmReleases
        .filter((h) => fluxRelease(h) === `${r.namespace}/${r.release}`)
        .map((owner) => ({ adopted: `release ${r.namespace}/${r.release}`, kind: "helmrelease" as const, owner })),
    );
    const live = await readLive(context, adoptedObjects);
    adoptedObjects.forEach((o, i) => {
      const owner = fluxOwner((live[i] as { metadata?: Meta } | undefined)?.metadata?.labels);
      const found = owner && owners[owner.kind].get(owner.id);
      if (owner && found) {
        claims.push({
          adopted: `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`,
          kind: owner.kind,
          owner: found,
        });
      }
    });
    return fluxResult(claims, adoptedReleases.length + adoptedObjects.length);
  },
};
