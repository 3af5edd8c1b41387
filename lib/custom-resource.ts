/**
 * Registers a typed custom resource (crds/) in the Pulumi graph through `apiextensions.CustomResource`; its spec may
 * hold values other resources compute (`Deferred`).
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Deferred, TypedObject } from "../crds/object";

export function typedCustomResource(
  name: string,
  object: TypedObject | Deferred<TypedObject>,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    name,
    { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata, spec: object.spec },
    opts,
  );
}
