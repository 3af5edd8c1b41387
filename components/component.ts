/** What the stack's components share when they set themselves up. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Deferred, TypedObject } from "../crds/object";
import { typedCustomResource } from "../lib/custom-resource";
import { adoptedObject, type Adoption } from "../model/adoption";
import type { OwnNamespace } from "../model/namespaces";

/**
 * Refuses to go on without an explicit provider for each package: a default provider would follow whatever kube
 * context or Cloudflare credentials the environment happens to hold.
 */
export function requireProviders(component: pulumi.ComponentResource, type: string, packages: string[]): void {
  for (const pkg of packages) {
    if (!component.getProvider(`${pkg}::`)) {
      throw new pulumi.ResourceError(`${type} needs an explicit ${pkg} provider in opts.providers`, component);
    }
  }
}

/** Which existing objects the stack takes over (`homecluster:adopt`): what a component creating objects needs. */
export type ObjectAdoption = Pick<Adoption, "objects">;

/** An object's kind and metadata, as the stack sends them. */
interface Named {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
}

/**
 * An object as the stack registers it: when config adopts it (`homecluster:adopt`), with the annotation that forces
 * the stack's fields over other field managers' and the `import` option; otherwise as it was, and created as ever.
 */
export function adoptable<T extends Named>(
  adoption: ObjectAdoption,
  object: T,
  opts: pulumi.CustomResourceOptions,
): { object: T; opts: pulumi.CustomResourceOptions } {
  const { kind, metadata } = object;
  const adopted = adoptedObject(adoption, kind, metadata.name, metadata.namespace);
  if (!adopted) return { object, opts };
  const annotations = { ...metadata.annotations, ...adopted.annotations };
  return { object: { ...object, metadata: { ...metadata, annotations } }, opts: { ...opts, import: adopted.import } };
}

/** A Namespace the stack creates, enforcing the Pod Security level its workloads run at, so nothing weaker lands. */
export function ownNamespace(
  resourceName: string,
  namespace: OwnNamespace,
  adoption: ObjectAdoption,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
  const labels = namespace.podSecurity
    ? { labels: { "pod-security.kubernetes.io/enforce": namespace.podSecurity } }
    : {};
  const own = adoptable(adoption, { kind: "Namespace", metadata: { name: namespace.name, ...labels } }, opts);
  return new k8s.core.v1.Namespace(resourceName, { metadata: own.object.metadata }, own.opts);
}

/** A typed custom resource the stack creates, or takes over when config adopts it. */
export function ownCustomResource(
  resourceName: string,
  object: TypedObject | Deferred<TypedObject>,
  adoption: ObjectAdoption,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  const own = adoptable(adoption, object, opts);
  return typedCustomResource(resourceName, own.object, own.opts);
}
