/** Registers a typed custom resource (crds/) in the Pulumi graph through `apiextensions.CustomResource`. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TypedObject } from "../crds/object";

export function typedCustomResource(
  name: string,
  object: TypedObject,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    name,
    { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata, spec: object.spec },
    opts,
  );
}

/**
 * A typed custom resource built from other resources' outputs (an Access application's `aud`, say). Its API version
 * and kind name its type in the graph, so they must be known now: `head`, which the built object must match.
 */
export function deferredCustomResource<T extends TypedObject>(
  name: string,
  head: Pick<T, "apiVersion" | "kind">,
  object: pulumi.Output<T>,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  const checked = object.apply((o) => {
    if (o.apiVersion !== head.apiVersion || o.kind !== head.kind) {
      throw new Error(`${name}: built a ${o.apiVersion} ${o.kind}, declared a ${head.apiVersion} ${head.kind}`);
    }
    return o;
  });
  return new k8s.apiextensions.CustomResource(
    name,
    { apiVersion: head.apiVersion, kind: head.kind, metadata: checked.metadata, spec: checked.spec },
    opts,
  );
}
