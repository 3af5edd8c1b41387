/**
 * Typed custom resources: a Kubernetes object whose spec is a TypeScript type, registered through
 * `apiextensions.CustomResource`. The builders in policies/ return `TypedObject`s; components register them.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface ObjectMeta {
  name: string;
  /** Omitted for cluster-scoped kinds. */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface TypedObject<Kind extends string = string, Spec = unknown> {
  apiVersion: string;
  kind: Kind;
  metadata: ObjectMeta;
  spec: Spec;
}

/** Registers a typed object as a custom resource named `name` in the Pulumi graph. */
export function typedCustomResource<T extends TypedObject>(
  name: string,
  object: T,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    name,
    { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata, spec: object.spec },
    opts,
  );
}
