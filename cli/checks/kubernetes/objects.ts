/**
 * The parts of Kubernetes objects the checks read, as structural types: client-node's typed models satisfy them, and
 * so do fixtures written in the API's documented JSON. Also the lists several checks share.
 */
import { COMPUTED } from "../../stack/facts";
import type { CheckContext } from "../context";

export interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface NodeObject {
  metadata?: Meta;
  spec?: { taints?: Taint[]; unschedulable?: boolean };
  status?: {
    conditions?: Condition[];
    addresses?: { type: string; address: string }[];
    nodeInfo?: { kernelVersion?: string };
  };
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  state?: { waiting?: { reason?: string }; terminated?: { reason?: string } };
}

export interface PodObject {
  metadata?: Meta;
  spec?: { nodeName?: string; containers?: { name: string }[] };
  status?: { phase?: string; conditions?: Condition[]; containerStatuses?: ContainerStatus[] };
}

/** A Deployment or a DaemonSet (whose status counts nodes: the checks count its pods per node instead). */
export interface WorkloadObject {
  metadata?: Meta;
  spec?: { replicas?: number; selector: { matchLabels?: Record<string, string> } };
  status?: { replicas?: number; readyReplicas?: number; desiredNumberScheduled?: number; numberReady?: number };
}

/** An object of a custom resource, as the API returns it. */
export interface CustomObject {
  metadata?: Meta;
  spec?: unknown;
  status?: { conditions?: Condition[] };
}

/** `a=b,c=d`, the equality label selector the API takes. */
export function labelSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
}

export function isReady(conditions: Condition[] | undefined): boolean {
  return conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

export const listNodes = (context: CheckContext): Promise<NodeObject[]> =>
  context.shared("nodes", async () => {
    const kube = await context.kube();
    return (await kube.request((api) => api.core.listNode())).items;
  });

/** The items of a custom resource's list; none when its CRD is not installed. */
function listCustomObjects(
  context: CheckContext,
  resource: { group: string; version: string; plural: string },
): Promise<CustomObject[]> {
  return context.shared(`custom:${resource.group}/${resource.version}/${resource.plural}`, async () => {
    const kube = await context.kube();
    const list = await kube.find((api) => api.custom.listCustomObjectForAllNamespaces(resource));
    return (list as { items?: CustomObject[] } | undefined)?.items ?? [];
  });
}

/** Every object of a kind the stack creates (`apiVersion` and `kind` as its builder sets them). */
export const listKind = (context: CheckContext, object: { apiVersion: string; kind: string }) =>
  listCustomObjects(context, resourceOf(object.apiVersion, object.kind));

/** group, version and plural of an apiVersion and kind (`PeerAuthentication` → `peerauthentications`). */
export function resourceOf(apiVersion: string, kind: string): { group: string; version: string; plural: string } {
  const [group = "", version = ""] = apiVersion.split("/");
  const lower = kind.toLowerCase();
  // English plurals, as CRDs spell them: policy → policies, entry → entries, but gateway → gateways.
  return { group, version, plural: /[^aeiou]y$/.test(lower) ? `${lower.slice(0, -1)}ies` : `${lower}s` };
}

/**
 * Whether `actual` holds everything `expected` does: objects key by key, lists element by element and of the same
 * length, anything else equal; what the stack could not know before `up` (COMPUTED) matches any value. Objects may
 * carry more keys (fields the API server defaults) unless `exact`, for kinds whose CRDs default nothing, where an
 * added key is an edit (`{}` → `{ rules: [{}] }` turns allow-nothing into allow-everything).
 */
export function matches(expected: unknown, actual: unknown, exact = false): boolean {
  if (expected === COMPUTED) return actual !== undefined;
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => matches(e, actual[i], exact))
    );
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) return false;
    const record = actual as Record<string, unknown>;
    if (exact && Object.keys(record).some((key) => !(key in expected))) return false;
    return Object.entries(expected).every(([key, value]) => matches(value, record[key], exact));
  }
  return expected === actual;
}
