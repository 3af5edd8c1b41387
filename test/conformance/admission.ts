/**
 * Admission through a real API server, as `kubectl apply --server-side --dry-run=server --validate=strict` does it
 * but without kubectl: namespaces and CRDs are applied for real (objects need them to exist), then each object is
 * server-side applied as a dry run, so the server's schema validation, defaulting and admission plugins (Pod
 * Security among them) run and nothing else is stored. Plain node:https keeps it free of a client library's own
 * validation.
 */
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { parse } from "yaml";
import { parseManifests, type KubeObject } from "./helm";

/** An object to admit; `namespace` is where a namespaced object that names none goes (its release's). */
export interface Submitted {
  object: KubeObject;
  namespace?: string;
}

export interface AdmissionOutcome {
  object: KubeObject;
  /** The namespace it was sent to, for namespaced kinds. */
  namespace: string | undefined;
  ok: boolean;
  /** The server serves no such kind: its CRD was not created. */
  unserved?: boolean;
  /** Why the server refused it: its Status message, on one line. */
  message?: string;
  /** The server's Warning headers (deprecations, Pod Security), decoded. */
  warnings: string[];
}

export interface Admission {
  /** The server's version (`v1.36.3`). */
  server: string;
  /** The namespaces, applied for real, then every object as a dry run: in the order given. */
  outcomes: AdmissionOutcome[];
  /** One `CRD <name>: <why>` for each CRD that could not be created or is not served in time. */
  crdErrors: string[];
}

const CONCURRENCY = 8;
const REQUEST_TIMEOUT_MS = 30_000;
const CRD_TIMEOUT_MS = 60_000;
const CRD_POLL_MS = 250;
const MANAGER = "homecluster-conformance";

/**
 * Applies `namespaces` and `crds` for real, waits until every CRD is Established and served, then dry-run applies
 * each of `objects` (strict field validation). Throws only when the cluster cannot be used at all (kubeconfig).
 */
export async function admit(options: {
  kubeconfig: string;
  namespaces: KubeObject[];
  crds: KubeObject[];
  objects: Submitted[];
}): Promise<Admission> {
  const cluster = loadKubeconfig(options.kubeconfig);
  try {
    const version = await request(cluster, "GET", "/version");
    if (!ok(version)) throw new Error(`${options.kubeconfig}: GET /version: ${statusMessage(version)}`);
    const discovery = new Discovery(cluster);
    // Namespaces one by one before anything else: the objects in them need them to exist.
    const namespaces: AdmissionOutcome[] = [];
    for (const object of options.namespaces) namespaces.push(await apply(cluster, discovery, { object }, false));
    const crdErrors = await applyCrds(cluster, options.crds);
    // Discovery changes once CRDs are served: read it afresh, after them.
    const fresh = new Discovery(cluster);
    const objects = await mapLimit(options.objects, CONCURRENCY, (o) => apply(cluster, fresh, o, true));
    return {
      server: str(dict(version.body)["gitVersion"]) ?? "unknown",
      outcomes: [...namespaces, ...objects],
      crdErrors,
    };
  } finally {
    cluster.agent.destroy(); // keep-alive sockets would otherwise hold the process open
  }
}

// ------------------------------------------------------------------------------------------------ objects

async function apply(
  cluster: Cluster,
  discovery: Discovery,
  submitted: Submitted,
  dryRun: boolean,
): Promise<AdmissionOutcome> {
  const { object } = submitted;
  const failed = (message: string, namespace?: string, unserved = false): AdmissionOutcome => ({
    object,
    namespace,
    ok: false,
    message,
    warnings: [],
    ...(unserved ? { unserved } : {}),
  });
  try {
    const resource = (await discovery.resources(object.apiVersion)).get(object.kind);
    if (!resource)
      return failed(`the server serves no ${object.apiVersion} ${object.kind} (its CRD is missing)`, undefined, true);
    const namespace = resource.namespaced
      ? (object.metadata.namespace ?? submitted.namespace ?? cluster.namespace)
      : undefined;
    const sent =
      namespace === undefined || object.metadata.namespace
        ? object
        : { ...object, metadata: { ...object.metadata, namespace } };
    const params = {
      fieldValidation: "Strict",
      fieldManager: MANAGER,
      force: "true",
      ...(dryRun ? { dryRun: "All" } : {}),
    };
    const url = resourcePath(object.apiVersion, resource, namespace, object.metadata.name) + query(params);
    const response = await request(cluster, "PATCH", url, sent);
    return ok(response)
      ? { object, namespace, ok: true, warnings: response.warnings }
      : { object, namespace, ok: false, message: statusMessage(response), warnings: response.warnings };
  } catch (error) {
    return failed(`request failed: ${(error as Error).message}`);
  }
}

/** The CRDs in the YAML files of a folder (each file one or more documents). */
export function crdsIn(dir: string): KubeObject[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => {
      const file = path.join(dir, f);
      return parseManifests(fs.readFileSync(file, "utf8"), file).filter((o) => o.kind === "CustomResourceDefinition");
    });
}

// ------------------------------------------------------------------------------------------------ CRDs

const CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

/** Applies each CRD and waits until it is usable; returns one "CRD <name>: <why>" per CRD that is not. */
async function applyCrds(cluster: Cluster, crds: KubeObject[]): Promise<string[]> {
  const errors = await mapLimit(crds, CONCURRENCY, async (crd) => {
    const name = crd.metadata.name;
    try {
      const url = `${CRD_PATH}/${encodeURIComponent(name)}${query({ fieldManager: MANAGER, force: "true" })}`;
      const response = await request(cluster, "PATCH", url, crd);
      return ok(response) ? await waitUntilServed(cluster, crd) : `CRD ${name}: ${statusMessage(response)}`;
    } catch (error) {
      return `CRD ${name}: ${(error as Error).message}`;
    }
  });
  return errors.filter((e): e is string => e !== undefined);
}

/**
 * Waits until the CRD is Established and every served version lists its kind in discovery: Established alone
 * can precede the discovery update, and objects are resolved through discovery.
 */
async function waitUntilServed(cluster: Cluster, crd: KubeObject): Promise<string | undefined> {
  const name = crd.metadata.name;
  const deadline = Date.now() + CRD_TIMEOUT_MS;
  let last = "not Established";
  while (Date.now() < deadline) {
    try {
      const response = await request(cluster, "GET", `${CRD_PATH}/${encodeURIComponent(name)}`);
      if (!ok(response)) return `CRD ${name}: ${statusMessage(response)}`;
      const body = dict(response.body);
      const conditions = list(dict(body["status"])["conditions"]).map(dict);
      const condition = (type: string) => conditions.find((c) => c["type"] === type);
      const names = condition("NamesAccepted");
      if (names?.["status"] === "False") return `CRD ${name}: ${str(names["message"]) ?? "names not accepted"}`;
      if (condition("Established")?.["status"] === "True") {
        const spec = dict(body["spec"]);
        const kind = str(dict(spec["names"])["kind"]) ?? "";
        const versions = list(spec["versions"])
          .map(dict)
          .filter((v) => v["served"] === true);
        const listed = await Promise.all(
          versions.map(async (v) =>
            (await new Discovery(cluster).resources(`${str(spec["group"])}/${str(v["name"])}`)).has(kind),
          ),
        );
        if (listed.every(Boolean)) return undefined;
        last = "Established but not yet in discovery";
      }
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(CRD_POLL_MS);
  }
  return `CRD ${name}: ${last} after ${CRD_TIMEOUT_MS / 1000}s`;
}

// ------------------------------------------------------------------------------------------------ discovery

interface Resource {
  name: string; // the plural, as in the URL
  namespaced: boolean;
}

/** kind → resource per groupVersion, read from the server's discovery once per groupVersion. */
class Discovery {
  private readonly cache = new Map<string, Promise<Map<string, Resource>>>();
  constructor(private readonly cluster: Cluster) {}

  resources(groupVersion: string): Promise<Map<string, Resource>> {
    let found = this.cache.get(groupVersion);
    if (!found) {
      found = this.fetch(groupVersion);
      this.cache.set(groupVersion, found);
    }
    return found;
  }

  private async fetch(groupVersion: string): Promise<Map<string, Resource>> {
    const response = await request(this.cluster, "GET", groupVersionPath(groupVersion));
    const resources = new Map<string, Resource>();
    if (response.status === 404) return resources; // group or version not served at all
    if (!ok(response)) throw new Error(`discovery of ${groupVersion}: ${statusMessage(response)}`);
    for (const r of list(dict(response.body)["resources"]).map(dict)) {
      const name = str(r["name"]);
      const kind = str(r["kind"]);
      // "deployments/scale" and the like are subresources, which share the kind of another resource
      if (name && kind && !name.includes("/")) resources.set(kind, { name, namespaced: r["namespaced"] === true });
    }
    return resources;
  }
}

function groupVersionPath(groupVersion: string): string {
  // the core group ("v1") lives under /api, every other group under /apis
  return groupVersion.includes("/") ? `/apis/${groupVersion}` : `/api/${groupVersion}`;
}

function resourcePath(groupVersion: string, resource: Resource, namespace: string | undefined, name: string): string {
  const scope = namespace === undefined ? "" : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${groupVersionPath(groupVersion)}${scope}/${resource.name}/${encodeURIComponent(name)}`;
}

// ------------------------------------------------------------------------------------------------ kubeconfig

interface Cluster {
  server: URL;
  agent: https.Agent;
  headers: Record<string, string>;
  /** The current context's namespace, for namespaced objects that name none (as kubectl does). */
  namespace: string;
}

/** The current context of a kubeconfig: its cluster's server and CA, its user's token or client certificate. */
function loadKubeconfig(file: string): Cluster {
  const fail = (why: string): never => {
    throw new Error(`kubeconfig ${file}: ${why}`);
  };
  let text = "";
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    fail(`cannot read it: ${(error as Error).message}`);
  }
  const config = dict(parse(text));
  const named = (section: string, key: string, name: string): Dict => {
    const entry = list(config[section])
      .map(dict)
      .find((e) => e["name"] === name);
    return entry ? dict(entry[key]) : fail(`no ${key} named "${name}"`);
  };
  const contextName = str(config["current-context"]) ?? fail("no current-context");
  const context = named("contexts", "context", contextName);
  const cluster = named(
    "clusters",
    "cluster",
    str(context["cluster"]) ?? fail(`context "${contextName}" names no cluster`),
  );
  const userName = str(context["user"]);
  const user = userName ? named("users", "user", userName) : {};
  if (user["exec"] || user["auth-provider"]) {
    fail(
      "its user gets credentials from a plugin (exec/auth-provider), which this does not run: use a token or a client certificate",
    );
  }

  // *-data fields are base64 PEM; the plain fields are file paths, relative to the kubeconfig's directory.
  const pem = (from: Dict, key: string): Buffer | undefined => {
    const data = str(from[`${key}-data`]);
    if (data) return Buffer.from(data, "base64");
    const ref = str(from[key]);
    return ref ? fs.readFileSync(path.resolve(path.dirname(file), ref)) : undefined;
  };
  const server = new URL(str(cluster["server"]) ?? fail("its cluster has no server"));
  const headers: Record<string, string> = {};
  const tokenFile = str(user["tokenFile"]);
  const token =
    str(user["token"]) ??
    (tokenFile ? fs.readFileSync(path.resolve(path.dirname(file), tokenFile), "utf8").trim() : undefined);
  if (token) headers["Authorization"] = `Bearer ${token}`;
  const servername = str(cluster["tls-server-name"]);
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: CONCURRENCY,
    ca: pem(cluster, "certificate-authority"),
    cert: pem(user, "client-certificate"),
    key: pem(user, "client-key"),
    rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
    ...(servername ? { servername } : {}),
  });
  return { server, agent, headers, namespace: str(context["namespace"]) ?? "default" };
}

// ------------------------------------------------------------------------------------------------ HTTP

interface Response {
  status: number;
  body: unknown; // parsed JSON, or the raw text when the body is not JSON
  warnings: string[];
}

/** One API request; a JSON body is sent as an apply patch (JSON is YAML), the only patch type used here. */
function request(cluster: Cluster, method: string, urlPath: string, body?: unknown): Promise<Response> {
  // a server URL may carry a path prefix (clusters behind a proxy): the API paths go below it
  const url = new URL(cluster.server.pathname.replace(/\/$/, "") + urlPath, cluster.server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { ...cluster.headers, Accept: "application/json" };
  if (payload !== undefined) {
    headers["Content-Type"] = method === "PATCH" ? "application/apply-patch+yaml" : "application/json";
    headers["Content-Length"] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, agent: cluster.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON (a proxy's error page, say): keep the text for the message
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, warnings: warningsOf(res.rawHeaders) });
      });
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`timed out after ${REQUEST_TIMEOUT_MS / 1000}s`)));
    req.on("error", (error) => reject(new Error(`${method} ${url.origin}${url.pathname}: ${error.message}`)));
    req.end(payload);
  });
}

/**
 * The texts of the Warning headers (RFC 7234: `299 - "text"`, optionally followed by a quoted date). rawHeaders,
 * because Node joins repeated headers with ", ", which the texts themselves may contain.
 */
function warningsOf(rawHeaders: string[]): string[] {
  const warnings: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() !== "warning") continue;
    for (const m of (rawHeaders[i + 1] ?? "").matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)) {
      warnings.push((m[1] ?? "").replace(/\\(.)/g, "$1"));
    }
  }
  return warnings;
}

function ok(response: Response): boolean {
  return response.status >= 200 && response.status < 300;
}

/** The server's Status message on one line, or the status code and body when there is none. */
function statusMessage(response: Response): string {
  const message =
    str(dict(response.body)["message"]) ?? `HTTP ${response.status}: ${String(response.body).slice(0, 300)}`;
  return message.replace(/\s+/g, " ").trim();
}

function query(params: Record<string, string>): string {
  return `?${new URLSearchParams(params).toString()}`;
}

// ------------------------------------------------------------------------------------------------ small helpers

type Dict = Record<string, unknown>;

function dict(value: unknown): Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Dict) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `fn` over `items`, at most `limit` at a time, results in the order of `items`. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
