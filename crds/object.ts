/** The object type every custom resource this stack emits shares: a Kubernetes object whose spec is typed. */
interface ObjectMeta {
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

/** `T` with each string an Input: strings other resources compute. */
export type Leaves<T> = T extends string
  ? import("@pulumi/pulumi").Input<string>
  : T extends readonly (infer U)[]
    ? Leaves<U>[]
    : T extends object
      ? { [K in keyof T]: Leaves<T[K]> }
      : T;

/**
 * An object whose spec holds strings other resources compute (an Access application's `aud`, say): each such leaf is
 * an Input, so the rest of the object stays known, and readable in a preview. Its type and name are always known.
 */
export type Deferred<T extends TypedObject> = Pick<T, "apiVersion" | "kind" | "metadata"> & {
  spec: Leaves<T["spec"]>;
};
