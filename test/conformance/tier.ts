/**
 * The tier's three steps for one stack: render each Helm release the program declares (read from its resource
 * graph), check the seams over what the cluster would hold, and admit all of it through an API server.
 */
import os from "node:os";
import { COMPUTED } from "../../offline/computed";
import { namespacesOf, objectsOf, releasesOf } from "../../offline/graph";
import { admit, crdsIn, type Submitted } from "./admission";
import { clusterView, type ClusterView, type RenderedRelease } from "./cluster";
import { renderRelease, type HelmOptions, type KubeObject } from "./helm";
import { SEAMS, type SeamResult } from "./seams";
import type { StackUnderTest } from "./stacks";

// Stacks share most releases unchanged (istio-base, ztunnel): each distinct render runs once per process.
const renders = new Map<string, Promise<KubeObject[]>>();
let running = 0;
const queue: (() => void)[] = [];
// helm template is CPU-bound; more at once than cores only slows each one down.
const RENDER_SLOTS = Math.max(2, os.availableParallelism());

async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= RENDER_SLOTS) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    queue.shift()?.();
  }
}

/** Every Helm release of the stack's graph, rendered by real Helm with the values the program gave it. */
export async function renderStack(stack: StackUnderTest, options: HelmOptions): Promise<RenderedRelease[]> {
  return Promise.all(
    releasesOf(stack.run).map(async (release) => {
      const { release: name, chart, repo, version, namespace, values } = release;
      const inputs = [name, chart, repo, version, namespace, values];
      const key = JSON.stringify([options.chartDir ?? options.cacheDir, options.kubeVersion, inputs]);
      let objects = renders.get(key);
      if (!objects) {
        objects = slot(() => renderRelease(release, options));
        renders.set(key, objects);
      }
      return { release, objects: await objects };
    }),
  );
}

export interface SeamReport {
  seam: string;
  result: SeamResult;
}

export function checkSeams(view: ClusterView): SeamReport[] {
  return SEAMS.map((seam) => ({ seam: seam.name, result: seam.check(view) }));
}

/** Renders the stack and checks every seam: the failures, each naming its resource. */
export async function renderAndCheck(stack: StackUnderTest, options: HelmOptions) {
  const view = clusterView(stack, await renderStack(stack, options));
  return { view, seams: checkSeams(view) };
}

export interface AdmissionReport {
  server: string;
  /** Objects sent, namespaces included. */
  sent: number;
  admitted: number;
  /** Each refusal: the resource, where it comes from, and the server's message. */
  failures: string[];
  /** Each warning, with its resource. */
  warnings: string[];
  /** Cilium objects whose CRD was not given ($HOMECLUSTER_CONFORMANCE_CRDS): named, not admitted. */
  unserved: string[];
}

// Pod Security is enforced on pods, which a dry run of their Deployment does not create: the server only warns, and
// the ReplicaSet's pods would be refused. A warning of that kind is a refusal.
const POD_SECURITY = /would violate PodSecurity/;
// cilium-operator registers Cilium's CRDs at run time; any other kind's CRD comes with a chart.
const RUNTIME_CRD_GROUP = /(^|\.)cilium\.io\//;

/**
 * Admits what one stack's `up` would send: its namespaces (with the stack's labels, which Pod Security reads) and
 * CRDs for real, then every chart object and every Kubernetes object of the stack, patches included, as dry runs.
 */
export async function admitStack(
  view: ClusterView,
  options: { kubeconfig: string; crdDir: string | undefined },
): Promise<AdmissionReport> {
  const declared = objectsOf(view.stack.run);
  const source = new Map<KubeObject, string>();
  const submitted: Submitted[] = [];
  const namespaces = new Map<string, KubeObject>();
  const dryRun = (object: KubeObject, from: string, namespace?: string) => {
    source.set(object, from);
    submitted.push({ object, ...(namespace ? { namespace } : {}) });
  };
  // A Namespace an object creates is created for real, before what goes in it.
  const add = (object: KubeObject, from: string, namespace?: string) => {
    if (object.kind !== "Namespace") return dryRun(object, from, namespace);
    source.set(object, from);
    namespaces.set(object.metadata.name, object);
  };
  const crds: KubeObject[] = options.crdDir ? crdsIn(options.crdDir) : [];
  for (const { release, objects } of view.releases) {
    for (const object of objects) {
      if (object.kind === "CustomResourceDefinition") crds.push(object);
      else add(object, `chart ${release.chart}, release ${release.release}`, release.namespace);
    }
  }
  for (const o of declared.filter((d) => d.mode !== "read")) {
    const object = { ...o.object, apiVersion: o.apiVersion, kind: o.kind } as KubeObject;
    // A patch of an existing namespace (the mesh label) is a dry run like any other object.
    (o.mode === "patch" ? dryRun : add)(object, `the stack's ${o.resource.name}`);
  }
  // The namespaces the stack reads or puts objects in without creating them, and the releases', exist bare.
  const needed = [
    ...view.releases.map((r) => r.release.namespace),
    ...namespacesOf(view.stack.run).required.map((r) => r.name),
    ...submitted.flatMap((s) => (s.object.metadata.namespace ? [s.object.metadata.namespace] : [])),
  ];
  for (const name of [...new Set(needed)].filter((n) => !namespaces.has(n))) {
    add({ apiVersion: "v1", kind: "Namespace", metadata: { name } }, "a namespace the stack's objects need");
  }
  const result = await admit({
    kubeconfig: options.kubeconfig,
    namespaces: [...namespaces.values()],
    crds,
    objects: submitted,
  });

  const report: AdmissionReport = {
    server: result.server,
    sent: result.outcomes.length,
    admitted: 0,
    failures: [...result.crdErrors],
    warnings: [],
    unserved: [],
  };
  for (const outcome of result.outcomes) {
    const { object } = outcome;
    const at = outcome.namespace ? `${outcome.namespace}/${object.metadata.name}` : object.metadata.name;
    const what = `${object.kind} ${at} (${source.get(object) ?? "unknown source"})`;
    if (JSON.stringify(object).includes(COMPUTED))
      report.failures.push(`${what}: holds a value only known at up (${COMPUTED})`);
    for (const warning of outcome.warnings) {
      (POD_SECURITY.test(warning) ? report.failures : report.warnings).push(`${what}: ${warning}`);
    }
    if (outcome.ok) report.admitted++;
    else if (outcome.unserved && RUNTIME_CRD_GROUP.test(object.apiVersion)) report.unserved.push(what);
    else report.failures.push(`${what}: ${outcome.message}`);
  }
  return report;
}
