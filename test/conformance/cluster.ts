/**
 * What the cluster would hold after a `pulumi up` of one stack: each release's objects as its chart renders them and
 * the stack's own objects, placed in their namespaces, with the lookups the seams need (pods, Services, policies).
 */
import { namespacesOf, objectsOf, releasesOf, type DeclaredObject, type DeclaredRelease } from "../../offline/graph";
import type { KubeObject } from "./helm";
import type { StackUnderTest } from "./stacks";

/** One object in the cluster, and where it comes from. */
export interface Placed {
  object: KubeObject;
  kind: string;
  name: string;
  /** Its namespace; a chart's object that names none gets its release's, as `helm install` does. */
  namespace: string | undefined;
  /** The release that rendered it; undefined for the stack's own objects. */
  release: DeclaredRelease | undefined;
}

export interface RenderedRelease {
  release: DeclaredRelease;
  objects: KubeObject[];
}

export interface Container {
  name: string;
  image?: string;
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }[];
  envFrom?: { secretRef?: { name: string; optional?: boolean } }[];
  ports?: { name?: string; containerPort: number }[];
}

export interface PodSpec {
  serviceAccountName?: string;
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { name: string; hostPath?: { path: string } }[];
}

/** The pods a workload runs, as its template describes them. */
export interface PodTemplate {
  owner: Placed;
  labels: Record<string, string>;
  spec: PodSpec;
}

export interface ClusterView {
  stack: StackUnderTest;
  releases: RenderedRelease[];
  /** The charts' objects and the objects the stack creates (not those it only reads or patches). */
  objects: Placed[];
  /** The stack's patches of existing objects (the mesh namespaces' label). */
  patches: DeclaredObject[];
  /** Namespaces whose workloads the charts or the stack run: only there can a reference be checked. */
  owned: Set<string>;
  /** Istio's root namespace (istiod's): its policies apply mesh-wide. */
  rootNamespace: string | undefined;
}

export function clusterView(stack: StackUnderTest, rendered: RenderedRelease[]): ClusterView {
  const declared = objectsOf(stack.run);
  const charted = rendered.flatMap(({ release, objects }) =>
    objects.map((object): Placed => ({
      object,
      kind: object.kind,
      name: object.metadata.name,
      namespace: object.metadata.namespace ?? release.namespace,
      release,
    })),
  );
  const own = declared
    .filter((o) => o.mode === "create")
    .map((o): Placed => ({
      object: { ...o.object, apiVersion: o.apiVersion, kind: o.kind },
      kind: o.kind,
      name: o.name,
      namespace: o.namespace,
      release: undefined,
    }));
  const releases = releasesOf(stack.run);
  return {
    stack,
    releases: rendered,
    objects: [...charted, ...own],
    patches: declared.filter((o) => o.mode === "patch"),
    owned: new Set([...releases.map((r) => r.namespace), ...namespacesOf(stack.run).created]),
    rootNamespace: releases.find((r) => r.chart === "istiod")?.namespace,
  };
}

/** `Deployment istio-ingress/istio-ingress`, and where it comes from. */
export function describe(p: Placed): string {
  const at = p.namespace === undefined ? p.name : `${p.namespace}/${p.name}`;
  return `${p.kind} ${at} (${p.release ? `chart ${p.release.chart}, release ${p.release.release}` : "the stack"})`;
}

export const ofKind = (view: ClusterView, kind: string, namespace?: string): Placed[] =>
  view.objects.filter((p) => p.kind === kind && (namespace === undefined || p.namespace === namespace));

export const find = (view: ClusterView, kind: string, namespace: string | undefined, name: string) =>
  view.objects.find((p) => p.kind === kind && p.namespace === namespace && p.name === name);

export const ofRelease = (view: ClusterView, chart: string) => view.objects.filter((p) => p.release?.chart === chart);

/** A field of an object, untyped: what a chart renders is the chart's to decide. */
export function field<T>(value: unknown, ...keys: string[]): T | undefined {
  let node = value;
  for (const key of keys) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node as T | undefined;
}

const TEMPLATE_PATHS: Record<string, string[]> = {
  Deployment: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
  Pod: [],
};

/** Every pod template of the cluster: each workload's, and each bare Pod's. */
export function podTemplates(view: ClusterView): PodTemplate[] {
  return view.objects.flatMap((owner) => {
    const at = TEMPLATE_PATHS[owner.kind];
    if (!at) return [];
    const template = at.length === 0 ? owner.object : field<Record<string, unknown>>(owner.object, ...at);
    return [
      {
        owner,
        labels: field<Record<string, string>>(template, "metadata", "labels") ?? {},
        spec: field<PodSpec>(template, "spec") ?? {},
      },
    ];
  });
}

export function containersOf(pod: PodTemplate): Container[] {
  return [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])];
}

export const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

export const showLabels = (labels: Record<string, string>) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}}`;
