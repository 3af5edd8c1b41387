/**
 * The Kubernetes client: @kubernetes/client-node bound to the stack's kube context, every request aborted at the
 * command's deadline (the client has no timeout of its own), and every error turned into one line that names the
 * context. client-node is ESM-only, so it is loaded with a dynamic import() (this package is CommonJS).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as K8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { CheckError } from "./error";

type ClientNode = typeof import("@kubernetes/client-node", { with: { "resolution-mode": "import" } });

let clientNode: Promise<ClientNode> | undefined;
/** client-node, loaded once (the command loads it before its deadline starts: see check-command.ts). */
export const loadClientNode = (): Promise<ClientNode> => (clientNode ??= import("@kubernetes/client-node"));

export interface KubeApis {
  core: K8s.CoreV1Api;
  apps: K8s.AppsV1Api;
  custom: K8s.CustomObjectsApi;
  version: K8s.VersionApi;
  /** Any object by apiVersion and kind (its resource found through API discovery). */
  objects: K8s.KubernetesObjectApi;
}

export interface KubeClient {
  context: string;
  server: string;
  /** Calls the API; an error becomes a CheckError naming the context. */
  request<T>(call: (apis: KubeApis) => Promise<T>): Promise<T>;
  /** As `request`, but undefined when the object (or its kind) does not exist. */
  find<T>(call: (apis: KubeApis) => Promise<T>): Promise<T | undefined>;
}

export interface KubeTarget {
  context: string;
  /** A kubeconfig path or the kubeconfig itself; undefined: $KUBECONFIG, then ~/.kube/config. */
  kubeconfig: string | undefined;
  env: Record<string, string | undefined>;
  deadline: AbortSignal;
  timeoutSeconds: number;
}

/**
 * The kubeconfig as `kubectl` finds it. `source` names it in messages: never the contents, which may hold
 * credentials.
 */
function loadKubeconfig(
  k8s: ClientNode,
  target: Pick<KubeTarget, "context" | "kubeconfig" | "env">,
): { config: K8s.KubeConfig; source: string } {
  const home = target.env.HOME ?? os.homedir();
  const expand = (file: string) => (file.startsWith("~/") ? path.join(home, file.slice(2)) : file);
  const fail = (source: string | undefined, reason: string) =>
    new CheckError(
      `cannot load the kubeconfig ${source ? `${source} ` : ""}for kube context '${target.context}': ${reason}`,
      {
        fix: "set homecluster:kubeconfig or $KUBECONFIG to a readable kubeconfig",
      },
    );
  // As the Pulumi provider reads it: a path when such a file exists, otherwise the kubeconfig itself (YAML or
  // one-line JSON); a one-line value that is no file is reported as a missing file.
  if (target.kubeconfig !== undefined && !fs.existsSync(expand(target.kubeconfig)) && /[\n{]/.test(target.kubeconfig)) {
    const config = new k8s.KubeConfig();
    try {
      config.loadFromString(target.kubeconfig);
    } catch (error) {
      throw fail("homecluster:kubeconfig", firstLine(error));
    }
    return { config, source: "homecluster:kubeconfig" };
  }
  const list = (target.env.KUBECONFIG ?? "").split(path.delimiter).filter(Boolean);
  if (target.kubeconfig || list.length === 0) {
    const file = target.kubeconfig ? expand(target.kubeconfig) : path.join(home, ".kube", "config");
    const config = readKubeconfigFile(k8s, file, fail);
    if (!config) throw fail(file, "no such file");
    return { config, source: file };
  }
  // $KUBECONFIG as kubectl merges it: files that do not exist are skipped, the first file to name a cluster, user
  // or context defines it, and the first to set current-context sets it. client-node's own merge refuses every
  // repeated name, and every k3s kubeconfig names its cluster, user and context `default`.
  const parts = list.flatMap((file) => {
    const config = readKubeconfigFile(k8s, file, fail);
    return config ? [{ file, config }] : [];
  });
  if (parts.length === 0) {
    throw fail(undefined, `no file in $KUBECONFIG exists (${list.join(path.delimiter)})`);
  }
  const firstByName = <T extends { name: string }>(items: (c: K8s.KubeConfig) => T[]): T[] => {
    const byName = new Map<string, T>();
    for (const { config } of parts)
      for (const item of items(config)) if (!byName.has(item.name)) byName.set(item.name, item);
    return [...byName.values()];
  };
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: firstByName((c) => c.clusters),
    users: firstByName((c) => c.users),
    contexts: firstByName((c) => c.contexts),
    currentContext: parts.map(({ config: c }) => c.currentContext).find(Boolean),
  });
  return { config, source: parts.map(({ file }) => file).join(path.delimiter) };
}

const firstLine = (error: unknown) => String((error as Error).message ?? error).split("\n")[0]!;

/** One kubeconfig file, its relative paths resolved from its directory; undefined when it does not exist. */
function readKubeconfigFile(
  k8s: ClientNode,
  file: string,
  fail: (source: string | undefined, reason: string) => CheckError,
): K8s.KubeConfig | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fail(file, firstLine(error));
  }
  const config = new k8s.KubeConfig();
  // An empty file is an empty kubeconfig to kubectl; client-node cannot parse one.
  if (text.trim() === "") {
    config.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: "" });
    return config;
  }
  try {
    config.loadFromString(text);
    config.makePathsAbsolute(path.dirname(file));
  } catch (error) {
    throw fail(file, firstLine(error));
  }
  return config;
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
};

function statusOf(body: unknown): { reason?: string; message?: string } {
  try {
    const parsed: unknown = typeof body === "string" ? JSON.parse(body) : body;
    return typeof parsed === "object" && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

function translate(k8s: ClientNode, error: unknown, target: KubeTarget, server: string): CheckError {
  const context = `kube context '${target.context}'`;
  if (error instanceof k8s.ApiException) {
    const status = statusOf(error.body);
    if (error.code === 401) {
      return new CheckError(`${context}: the API server refused its credentials (401 Unauthorized)`, {
        status: 401,
        fix: `renew the credentials of ${context} (kubectl --context ${target.context} get nodes must work)`,
      });
    }
    const detail = [status.reason, status.message].filter(Boolean).join(": ");
    return new CheckError(`${context}: HTTP ${error.code}${detail ? ` ${detail}` : ""}`, {
      status: error.code,
      ...(error.code === 403 ? { fix: `use a context with cluster-admin rights as homecluster:kubeContext` } : {}),
    });
  }
  const failure = error as { name?: string; code?: string; message?: string };
  // Discovery knows no such kind (its CRD is not installed): no object of it can exist.
  if (/^Unrecognized API version and kind/.test(failure.message ?? "")) {
    return new CheckError(`${context}: ${failure.message}`, { status: 404 });
  }
  const unreachable = (reason: string) =>
    new CheckError(`cannot reach the API server of ${context} (${server}): ${reason}`, {
      fix: `is the cluster up, and is ${context} the right one? (kubectl --context ${target.context} get nodes)`,
    });
  if (failure.name === "AbortError") return unreachable(`no answer within ${target.timeoutSeconds} s`);
  if (failure.code !== undefined) return unreachable(NETWORK_ERRORS[failure.code] ?? failure.code);
  return new CheckError(`${context}: ${String(failure.message ?? error).split("\n")[0]}`);
}

/** The kubeconfig `connectKube` reads, and where it read it; throws a CheckError naming what is wrong. */
export async function readKubeconfig(
  target: Pick<KubeTarget, "context" | "kubeconfig" | "env">,
): Promise<{ config: K8s.KubeConfig; source: string }> {
  return loadKubeconfig(await loadClientNode(), target);
}

/** Loads the kubeconfig and binds the clients to the context; throws a CheckError naming what is wrong. */
export async function connectKube(target: KubeTarget): Promise<KubeClient> {
  const k8s = await loadClientNode();
  const { config, source } = loadKubeconfig(k8s, target);
  if (!config.getContextObject(target.context)) {
    throw new CheckError(`kube context '${target.context}' is not in ${source}`, {
      fix: "list the contexts with kubectl config get-contexts and set homecluster:kubeContext to one",
    });
  }
  config.setCurrentContext(target.context);
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new CheckError(`kube context '${target.context}' names a cluster that is not in ${source}`);
  const configuration = k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(cluster.server, {}),
    // KubeConfig applies the context's credentials (token, client certificate, exec plugin) and TLS settings.
    authMethods: { default: config },
    promiseMiddleware: [
      {
        pre: async (request) => {
          request.setSignal(target.deadline);
          return request;
        },
        post: async (response) => response,
      },
    ],
  });
  const apis: KubeApis = {
    core: new k8s.CoreV1Api(configuration),
    apps: new k8s.AppsV1Api(configuration),
    custom: new k8s.CustomObjectsApi(configuration),
    version: new k8s.VersionApi(configuration),
    objects: new k8s.KubernetesObjectApi(configuration),
  };
  const request = async <T>(call: (apis: KubeApis) => Promise<T>): Promise<T> => {
    try {
      return await call(apis);
    } catch (error) {
      throw translate(k8s, error, target, cluster.server);
    }
  };
  return {
    context: target.context,
    server: cluster.server,
    request,
    find: async (call) => {
      try {
        return await request(call);
      } catch (error) {
        if (error instanceof CheckError && error.status === 404) return undefined;
        throw error;
      }
    },
  };
}
