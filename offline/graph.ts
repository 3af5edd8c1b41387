/**
 * The program's resource graph, read: what a run under the mock runtime registered, as the things the tools ask
 * about. Each Helm release, each Kubernetes object the stack creates, patches or reads, the namespaces those need,
 * and which component each belongs to. The plan, preflight, doctor and the conformance tier read the deployment
 * from here, so none of them keeps a list of what the components create.
 */
import type { HelmValues } from "../lib/helm";
import { COMPUTED } from "./computed";
import type { MockRun, RecordedResource } from "./mock-runtime";

export const RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";

/** The top-level component a resource belongs to (`<type> <name>`), `providers`, or `stack` for none. */
export function componentOf(resource: RecordedResource, resources: readonly RecordedResource[]): string {
  if (resource.type.startsWith("pulumi:providers:")) return "providers";
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  let current: RecordedResource | undefined = resource;
  let component: RecordedResource | undefined;
  while (current?.parent) {
    current = byUrn.get(current.parent);
    if (current && !current.custom) component = current;
  }
  return component ? `${component.type} ${component.name}` : "stack";
}

/** A Helm release the program declares. */
export interface DeclaredRelease {
  /** Its Pulumi resource. */
  resource: RecordedResource;
  /** The release name `helm list` shows. */
  release: string;
  chart: string;
  repo: string;
  version: string;
  namespace: string;
  values: HelmValues;
}

export function releasesOf(run: MockRun): DeclaredRelease[] {
  return run.resources
    .filter((r) => r.type === RELEASE_TYPE)
    .map((resource) => {
      const inputs = resource.inputs as {
        name: string;
        chart: string;
        version: string;
        namespace: string;
        repositoryOpts?: { repo: string };
        values?: HelmValues;
      };
      return {
        resource,
        release: inputs.name,
        chart: inputs.chart,
        // An OCI chart is its full reference, and has no repository of its own.
        repo: inputs.repositoryOpts?.repo ?? inputs.chart.slice(0, inputs.chart.lastIndexOf("/")),
        version: inputs.version,
        namespace: inputs.namespace,
        values: inputs.values ?? {},
      };
    });
}

/** How the stack touches a Kubernetes object: creates it, patches an existing one, or only reads it. */
export type ObjectMode = "create" | "patch" | "read";

/** A Kubernetes object the stack's own resources (not its Helm releases) name. */
export interface DeclaredObject {
  resource: RecordedResource;
  mode: ObjectMode;
  apiVersion: string;
  kind: string;
  name: string;
  /** Undefined for cluster-scoped kinds. */
  namespace: string | undefined;
  /** The object as sent (apiVersion, kind, metadata, and its spec or data), secrets unwrapped. */
  object: Record<string, unknown> & { metadata: { name: string; namespace?: string; labels?: Record<string, string> } };
}

/** `kubernetes:core/v1:NamespacePatch` → `NamespacePatch`. */
const kindOfType = (type: string) => type.split(":").pop() ?? type;

export function objectsOf(run: MockRun): DeclaredObject[] {
  return run.resources.flatMap((resource): DeclaredObject[] => {
    if (!resource.custom || !resource.type.startsWith("kubernetes:") || resource.type === RELEASE_TYPE) return [];
    if (resource.type.startsWith("pulumi:providers:")) return [];
    const typeKind = kindOfType(resource.type);
    const patch = typeKind.endsWith("Patch");
    const [, groupVersion = ""] = resource.type.split(":");
    // kubernetes:core/v1 → v1; kubernetes:apps/v1 → apps/v1; a CustomResource's type is its own apiVersion.
    const typeApiVersion = groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion;
    const inputs = resource.inputs as DeclaredObject["object"] & { apiVersion?: string; kind?: string };
    const metadata = inputs.metadata ?? { name: resource.read?.id ?? "" };
    const kind = inputs.kind ?? (patch ? typeKind.slice(0, -"Patch".length) : typeKind);
    return [
      {
        resource,
        mode: resource.read ? "read" : patch ? "patch" : "create",
        apiVersion: inputs.apiVersion ?? typeApiVersion,
        kind,
        // A read names what it reads by its id.
        name: resource.read?.id ?? metadata.name,
        namespace: metadata.namespace,
        object: { ...inputs, apiVersion: inputs.apiVersion ?? typeApiVersion, kind, metadata },
      },
    ];
  });
}

/** The namespaces of the stack: those it creates, and those it needs without creating them. */
export interface GraphNamespaces {
  created: string[];
  /** Each namespace the stack patches, reads or puts objects in without creating it, and what needs it. */
  required: { name: string; neededBy: string[] }[];
}

const describeObject = (o: DeclaredObject) =>
  o.mode === "read"
    ? `read by ${o.resource.name}`
    : o.mode === "patch"
      ? `patched by ${o.resource.name}`
      : `${o.kind} ${o.name}`;

export function namespacesOf(run: MockRun): GraphNamespaces {
  const objects = objectsOf(run);
  const isNamespace = (o: DeclaredObject) => o.kind === "Namespace";
  const created = objects.filter((o) => isNamespace(o) && o.mode === "create").map((o) => o.name);
  const required = new Map<string, string[]>();
  const need = (name: string, by: string) => {
    if (!created.includes(name) && name !== COMPUTED) required.set(name, [...(required.get(name) ?? []), by]);
  };
  for (const o of objects) {
    if (isNamespace(o) && o.mode !== "create") need(o.name, describeObject(o));
    else if (o.namespace !== undefined) need(o.namespace, describeObject(o));
  }
  return { created, required: [...required].map(([name, neededBy]) => ({ name, neededBy })) };
}

/** The value at a dotted path of Helm values (`hubble.relay.enabled`), or undefined. */
export function valueAt(values: unknown, dotted: string): unknown {
  return dotted
    .split(".")
    .reduce<unknown>(
      (node, key) =>
        node && typeof node === "object" && !Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined,
      values,
    );
}
