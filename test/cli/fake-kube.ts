/**
 * A Kubernetes API server on 127.0.0.1 for the CLI's tests: it answers the reads preflight and doctor make from a
 * cluster state, in the API's documented shapes (lists, Status 404s, text/plain logs), or accepts connections and
 * never answers ("hang"). client-node parses only responses that carry a Content-Type.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

type KubeObject = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } } & Record<
  string,
  any
>;

export interface ClusterState {
  version: Record<string, string>;
  nodes: KubeObject[];
  namespaces: KubeObject[];
  daemonSets: KubeObject[];
  deployments: KubeObject[];
  pods: KubeObject[];
  secrets: KubeObject[];
  services: KubeObject[];
  /** Any other built-in object (ConfigMaps, ServiceAccounts, PodDisruptionBudgets), by its apiVersion and kind. */
  others: KubeObject[];
  /** Custom objects by `<group>/<version>/<plural>`; a key is there when its CRD is installed. */
  custom: Record<string, KubeObject[]>;
  /** Pod logs by `<namespace>/<pod>`. */
  logs: Record<string, string>;
  /** Set: the API server cannot reach the kubelets, and answers every log read with this 500 (as it does). */
  kubeletUnreachable?: string;
}

/** The built-in resources the fake serves, as API discovery lists them. */
const BUILT_IN: Record<string, { kind: string; name: string; namespaced: boolean }[]> = {
  v1: [
    { kind: "Namespace", name: "namespaces", namespaced: false },
    { kind: "Node", name: "nodes", namespaced: false },
    { kind: "Pod", name: "pods", namespaced: true },
    { kind: "Secret", name: "secrets", namespaced: true },
    { kind: "Service", name: "services", namespaced: true },
    { kind: "ServiceAccount", name: "serviceaccounts", namespaced: true },
    { kind: "ConfigMap", name: "configmaps", namespaced: true },
  ],
  "apps/v1": [
    { kind: "Deployment", name: "deployments", namespaced: true },
    { kind: "DaemonSet", name: "daemonsets", namespaced: true },
  ],
  "policy/v1": [{ kind: "PodDisruptionBudget", name: "poddisruptionbudgets", namespaced: true }],
};

/** API discovery (`/api/v1`, `/apis/<group>/<version>`): the built-ins, and each custom resource installed. */
function discovery(state: ClusterState, groupVersion: string): { kind: string; name: string; namespaced: boolean }[] {
  const custom = Object.entries(state.custom)
    .filter(([key]) => key.startsWith(`${groupVersion}/`))
    .map(([key, items]) => {
      const name = key.slice(groupVersion.length + 1);
      const kind = items[0]?.kind ?? name;
      return { kind, name, namespaced: items.some((item) => item.metadata?.namespace !== undefined) };
    });
  return [...(BUILT_IN[groupVersion] ?? []), ...custom];
}

export interface FakeServer {
  url: string;
  /** `GET <path and query>` of every request. */
  requests: string[];
  /** The most requests it held at once, from arrival to the end of the answer. */
  maxInFlight(): number;
  close(): Promise<void>;
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "Content-Type": "application/json" });
  response.end(JSON.stringify(body));
}

function notFound(response: http.ServerResponse, kind = "", name = ""): void {
  send(response, 404, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: name ? `${kind} "${name}" not found` : "the server could not find the requested resource",
    reason: "NotFound",
    details: name ? { name, kind } : {},
    code: 404,
  });
}

/** Equality selectors (`a=b,c=d`), the only kind the CLI sends. */
function selects(selector: string | null, object: KubeObject): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const [key, value] = term.split("=");
    return object.metadata?.labels?.[key!] === value;
  });
}

function route(state: ClusterState, url: URL, response: http.ServerResponse): void {
  const parts = url.pathname.split("/").filter(Boolean);
  const selector = url.searchParams.get("labelSelector");
  const list = (kind: string, apiVersion: string, items: KubeObject[]) =>
    send(response, 200, {
      kind: `${kind}List`,
      apiVersion,
      metadata: { resourceVersion: "1" },
      items: items.filter((item) => selects(selector, item)),
    });
  const inNamespace = (items: KubeObject[], namespace: string) =>
    items.filter((item) => item.metadata?.namespace === namespace);
  const one = (items: KubeObject[], kind: string, name: string) => {
    const found = items.find((item) => item.metadata?.name === name);
    if (found) send(response, 200, found);
    else notFound(response, kind, name);
  };

  if (url.pathname === "/version") return send(response, 200, state.version);
  // Discovery: `/api/v1` or `/apis/<group>/<version>` alone.
  const groupVersion =
    parts[0] === "api" && parts.length === 2
      ? parts[1]!
      : parts[0] === "apis" && parts.length === 3
        ? `${parts[1]}/${parts[2]}`
        : undefined;
  if (groupVersion !== undefined) {
    const resources = discovery(state, groupVersion);
    if (resources.length === 0) return notFound(response);
    return send(response, 200, {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion,
      resources: resources.map((r) => ({ ...r, singularName: "", verbs: ["get", "list"] })),
    });
  }
  const other = (apiVersion: string, resource: string, namespace: string | undefined, name: string) => {
    const kind = discovery(state, apiVersion).find((r) => r.name === resource)?.kind;
    const items = state.others.filter(
      (o) => o.apiVersion === apiVersion && o.kind === kind && o.metadata?.namespace === namespace,
    );
    return one(items, resource, name);
  };
  if (url.pathname === "/api/v1/nodes") return list("Node", "v1", state.nodes);
  if (url.pathname === "/api/v1/namespaces") return list("Namespace", "v1", state.namespaces);
  if (url.pathname === "/api/v1/secrets") return list("Secret", "v1", state.secrets);
  if (parts[0] === "api" && parts[2] === "namespaces" && parts.length === 4) {
    return one(state.namespaces, "namespaces", parts[3]!);
  }
  if (parts[0] === "api" && parts[2] === "namespaces" && parts.length >= 5) {
    const namespace = parts[3]!;
    const [resource, name, sub] = parts.slice(4);
    if (resource === "pods" && sub === "log" && state.kubeletUnreachable) {
      send(response, 500, {
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        message: `Get "https://127.0.0.1:10250/containerLogs/${namespace}/${name}": ${state.kubeletUnreachable}`,
        code: 500,
      });
      return;
    }
    if (resource === "pods" && sub === "log") {
      const log = state.logs[`${namespace}/${name}`];
      if (log === undefined) return notFound(response, "pods", name);
      response.writeHead(200, { "Content-Type": "text/plain" });
      response.end(log);
      return;
    }
    const items = { pods: state.pods, secrets: state.secrets, services: state.services }[resource!];
    if (!items) return name ? other("v1", resource!, namespace, name) : notFound(response);
    const kind = { pods: "Pod", secrets: "Secret", services: "Service" }[resource!]!;
    return name ? one(inNamespace(items, namespace), resource!, name) : list(kind, "v1", inNamespace(items, namespace));
  }
  if (parts[0] === "apis" && parts[1] === "apps") {
    const byResource = { daemonsets: ["DaemonSet", state.daemonSets], deployments: ["Deployment", state.deployments] };
    const namespaced = parts[3] === "namespaces";
    const resource = (namespaced ? parts[5] : parts[3]) as keyof typeof byResource;
    const entry = byResource[resource];
    if (!entry) return notFound(response);
    const [kind, all] = entry as [string, KubeObject[]];
    if (!namespaced) return list(kind, "apps/v1", all);
    const items = inNamespace(all, parts[4]!);
    return parts[6] ? one(items, resource, parts[6]) : list(kind, "apps/v1", items);
  }
  if (parts[0] === "apis" && BUILT_IN[`${parts[1]}/${parts[2]}`]) {
    // Another built-in group (policy/v1): single objects only.
    return parts[3] === "namespaces" && parts[6]
      ? other(`${parts[1]}/${parts[2]}`, parts[5]!, parts[4], parts[6])
      : notFound(response);
  }
  if (parts[0] === "apis") {
    const [group, version] = [parts[1], parts[2]];
    const namespaced = parts[3] === "namespaces";
    const plural = namespaced ? parts[5] : parts[3];
    const items = state.custom[`${group}/${version}/${plural}`];
    if (!items) return notFound(response);
    const name = namespaced ? parts[6] : parts[4];
    if (name) return one(namespaced ? inNamespace(items, parts[4]!) : items, plural!, name);
    return send(response, 200, {
      apiVersion: `${group}/${version}`,
      kind: "List",
      metadata: { resourceVersion: "1" },
      items: namespaced ? inNamespace(items, parts[4]!) : items,
    });
  }
  notFound(response);
}

/** Starts `server` on a free port of 127.0.0.1; `url` is its address plus `prefix`. */
export async function listen(server: http.Server, requests: string[], prefix = ""): Promise<FakeServer> {
  let inFlight = 0;
  let maxInFlight = 0;
  // Before the server's own handler, which may answer at once.
  server.prependListener("request", (_request: http.IncomingMessage, response: http.ServerResponse) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    response.on("close", () => inFlight--);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    requests,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Holds each answer until another request arrives (then answers both), or for 50 ms when none does: a client that
 * sends requests side by side shows as several in flight, one that waits for each answer as one.
 */
function answerOnOverlap(): (answer: () => void) => void {
  const waiting = new Set<() => void>();
  return (answer) => {
    if (waiting.size > 0) {
      const all = [...waiting, answer];
      waiting.clear();
      return all.forEach((a) => a());
    }
    waiting.add(answer);
    setTimeout(() => waiting.delete(answer) && answer(), 50);
  };
}

/**
 * A fake API server answering from `state`, or accepting connections and never answering. `overlap`: each answer
 * waits for the next request (answerOnOverlap), so `maxInFlight` tells whether the client asks concurrently.
 */
export function startFakeKube(state: ClusterState | "hang", options: { overlap?: boolean } = {}): Promise<FakeServer> {
  const requests: string[] = [];
  const hold = options.overlap ? answerOnOverlap() : (answer: () => void) => answer();
  const server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (state === "hang") return;
    hold(() => route(state, new URL(request.url ?? "/", "http://fake"), response));
  });
  return listen(server, requests);
}

/**
 * A kubeconfig whose context `context` points at `server`. A plain-http server needs `insecure-skip-tls-verify`,
 * or client-node refuses it.
 */
export function writeKubeconfig(server: string, context: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-cli-")), "kubeconfig");
  fs.writeFileSync(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- name: fake`,
      `  cluster: {server: "${server}", insecure-skip-tls-verify: true}`,
      "users:",
      "- name: admin",
      "  user: {token: kube-test-token}",
      "contexts:",
      `- name: ${context}`,
      "  context: {cluster: fake, user: admin}",
      `current-context: ${context}`,
      "",
    ].join("\n"),
  );
  return file;
}
