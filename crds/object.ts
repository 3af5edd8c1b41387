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
