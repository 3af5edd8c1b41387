/**
 * Adoption: what the stack takes over from a running cluster and account instead of creating it (an old Flux setup's
 * Helm releases, namespaces, objects, tunnel, records and Access). Each is named by what the stack declares, with the
 * id Pulumi's `import` option needs; the resources so named are imported and then updated to the stack's inputs.
 */

/** A Helm release the stack takes over: the release keeps its name and namespace (Helm cannot change either). */
export interface AdoptedRelease {
  namespace: string;
  name: string;
}

/** `homecluster:adopt`, resolved: every entry checked against what the stack declares. */
export interface Adoption {
  /** By the stack's own release name (`cilium`, `istiod`, …). */
  releases: Partial<Record<string, AdoptedRelease>>;
  /** `objectKey()` of each existing Kubernetes object to take over, its namespaces included. */
  objects: ReadonlySet<string>;
  /** `<account>/<tunnel id>`: the tunnel, and its configuration (same id). */
  tunnel: string | undefined;
  /** By hostname: `<zone>/<record id>`. */
  dnsRecords: Readonly<Record<string, string>>;
  /** By hostname: `accounts/<account>/<application id>`. */
  accessApplications: Readonly<Record<string, string>>;
  /** By the Cloudflare policy's name: `<account>/<policy id>`. */
  accessPolicies: Readonly<Record<string, string>>;
}

export const NO_ADOPTION: Adoption = {
  releases: {},
  objects: new Set(),
  tunnel: undefined,
  dnsRecords: {},
  accessApplications: {},
  accessPolicies: {},
};

/** How config and the CLI name an object: `Secret cloudflared/tunnel-token`, `Namespace istio-system`. */
export function objectKey(kind: string, name: string, namespace?: string): string {
  return `${kind} ${namespace ? `${namespace}/` : ""}${name}`;
}

/** The Kubernetes provider's import id: `<namespace>/<name>`, or the name of a cluster-scoped object. */
export function objectImportId(name: string, namespace?: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/**
 * Server-side apply with this annotation takes over the fields the stack sets even where another manager (Flux's
 * kustomize-controller or helm-controller) owns them; fields the stack does not set stay that manager's.
 */
export const PATCH_FORCE = { "pulumi.com/patchForce": "true" } as const;

/** How the stack takes over an existing object: its import id and the annotation forcing its fields; or undefined. */
export function adoptedObject(
  adoption: Pick<Adoption, "objects">,
  kind: string,
  name: string,
  namespace?: string,
): { import: string; annotations: typeof PATCH_FORCE } | undefined {
  return adoption.objects.has(objectKey(kind, name, namespace))
    ? { import: objectImportId(name, namespace), annotations: PATCH_FORCE }
    : undefined;
}
