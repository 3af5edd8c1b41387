/**
 * The engine tier's scenarios, each a step of a user's life cycle that the stacks' files (*.engine.ts) run in order
 * on one simulated cluster. Each asserts what the user would see: the engine's steps, Helm's records, the objects in
 * the cluster, what the fake Cloudflare API holds.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse, stringify } from "yaml";
import { expect } from "vitest";
import type { OperationResult } from "./operation";
import { helmReleases, npmRun, plan, resourcePath, type StackConfig } from "./lifecycle";
import type { Kube } from "./stand-ins";
import { changed, operate, STACK, writeStackConfig, type World } from "./world";

export interface Scenario {
  world: World;
  kube: Kube;
  /** The scratch project directory. */
  dir: string;
  /** The stack's plain config, as its file now holds it. */
  config: StackConfig;
  /** The namespaces that existed before the stack (the README's), which destroy must leave. */
  existing: string[];
  /** The offline plan of the first up. */
  planned?: any;
}

const RELEASE = "kubernetes:helm.sh/v3:Release";
const REPLACING = new Set(["replace", "create-replacement", "delete-replaced"]);

export const stackFile = (s: Scenario) => path.join(s.dir, `Pulumi.${STACK}.yaml`);

/** `op name` of each step that changes a resource. */
export const changes = (result: OperationResult) => changed(result).map((s) => `${s.op} ${s.name}`);

export function expectOk(result: OperationResult) {
  const why = result.diagnostics.length > 0 ? result.diagnostics.join("\n") : result.stdout.slice(-4000);
  expect(result.error ?? "", `${result.operation} failed:\n${why}`).toBe("");
  expect(result.ok).toBe(true);
}

export function setConfig(s: Scenario, config: StackConfig) {
  s.config = config;
  writeStackConfig(s.dir, config);
}

/** The objects the offline plan creates (not reads) in the cluster: its Kubernetes resources but the releases. */
function plannedObjects(planned: any): any[] {
  return planned.resources.filter(
    (r: any) => r.type.startsWith("kubernetes:") && r.type !== RELEASE && !r.read && r.inputs.metadata,
  );
}

/** The plan's inputs as an expectation: what only the providers know offline ([computed], [secret]) is anything. */
function expected(value: unknown): unknown {
  if (value === "[computed]" || value === "[secret]") return expect.anything();
  if (Array.isArray(value)) return value.map(expected);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expected(v)]));
  return value;
}

/** Where a planned object lives in the API (a patch: the object it patches). */
async function liveRoute(kube: Kube, r: any): Promise<string> {
  const [, group, kind] = /^kubernetes:([^:]+):(\w+)$/.exec(r.type)!;
  const apiVersion = group!.startsWith("core/") ? group!.slice(5) : group!;
  const route = await resourcePath(
    kube,
    apiVersion,
    kind!.replace(/Patch$/, ""),
    r.inputs.metadata.namespace,
    r.inputs.metadata.name,
  );
  if (!route) throw new Error(`the API serves no ${kind} in ${apiVersion}`);
  return route;
}

export async function preflightOnFreshCluster(s: Scenario) {
  const before = await npmRun(s.world, "preflight", ["--stack-file", stackFile(s)]);
  if (s.existing.length > 0) {
    expect(before.status, before.stdout).toBe(1);
    for (const name of s.existing) expect(before.stdout).toContain(name);
  }
  for (const name of s.existing) {
    await s.kube("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }
  const after = await npmRun(s.world, "preflight", ["--stack-file", stackFile(s)]);
  expect(after.status, after.stdout).toBe(0);
}

export async function firstUp(s: Scenario) {
  const preview = await operate(s.world, s.dir, "preview");
  expectOk(preview);
  s.planned = await plan(s.world, s.dir);
  const planned = s.planned.resources.filter((r: any) => !r.read).map((r: any) => `create ${r.name}`);
  // The plan lists the program's resources; the engine also creates the default provider of a package the program
  // gives none (random's).
  expect(
    changes(preview)
      .filter((c) => !c.startsWith("create default_"))
      .sort(),
  ).toEqual(planned.sort());

  const up = await operate(s.world, s.dir, "up");
  expectOk(up);
  const releases = await helmReleases(s.kube);
  const declared = s.planned.resources.filter((r: any) => r.type === RELEASE);
  expect(declared.length).toBe(7);
  for (const r of declared) {
    const key = `${r.inputs.namespace}/${r.inputs.name}`;
    expect(releases.get(key), key).toEqual({ status: "deployed", version: 1 });
  }
  const objects = plannedObjects(s.planned);
  // A sanity floor (the minimal stack plans 17): the loop below checks each one.
  expect(objects.length).toBeGreaterThan(10);
  for (const r of objects) {
    const what = `${r.type} ${r.inputs.metadata.namespace ?? ""}/${r.inputs.metadata.name}`;
    const live = await s.kube("GET", await liveRoute(s.kube, r));
    expect(live, what).toBeDefined();
    expect(live.metadata.labels ?? {}, what).toMatchObject(r.inputs.metadata.labels ?? {});
    if (r.inputs.spec) expect(live.spec, what).toMatchObject(expected(r.inputs.spec) as object);
  }
  return up;
}

export async function previewIsClean(s: Scenario) {
  const preview = await operate(s.world, s.dir, "preview");
  expectOk(preview);
  expect(withDiffs(preview)).toEqual([]);
}

/** `op name [properties]` of each changing step: a failure names the resource and what differs. */
const withDiffs = (result: OperationResult) =>
  changed(result).map((st) => `${st.op} ${st.name} [${st.diffs.join(", ")}]`);

/**
 * Each refresh's updates, as the CLI prints them (` ~  <type> <name> updated … [diff: …]`): a refresh's steps carry no
 * diffs in the engine's events, its summary only a count.
 */
function refreshUpdates(result: OperationResult): string[] {
  return result.stdout
    .split("\n")
    .map((line) => /^\s*~\s+(\S+) (\S+) updated .*\[diff: ([^\]]*)\]/.exec(line))
    .flatMap((m) => (m ? [`${m[1]} ${m[2]} [${m[3]}]`] : []));
}

/**
 * `refresh`, then `preview`: nothing changes. One thing moves on the first refresh, and only in the state: the mesh
 * namespaces the program reads (`Namespace.get`, so a missing one fails the preview) are recorded without inputs when
 * read, and the first refresh records the live namespace as the read's inputs (`[diff: +apiVersion,kind,metadata]`).
 * Nothing in the cluster changes, no later refresh shows it, and a preview never does.
 */
export async function refreshThenPreview(s: Scenario, reads: string[]) {
  const first = await operate(s.world, s.dir, "refresh");
  expectOk(first);
  expect(refreshUpdates(first).sort()).toEqual(
    reads.map((name) => `kubernetes:core/v1:Namespace ${name} [+apiVersion,kind,metadata]`).sort(),
  );
  await previewIsClean(s);
  const second = await operate(s.world, s.dir, "refresh");
  expectOk(second);
  expect(refreshUpdates(second)).toEqual([]);
  expect(Object.keys(second.changes).filter((op) => op !== "same")).toEqual([]);
  await previewIsClean(s);
}

/**
 * The user's own apps behind the routes: a Service each (a route's port to its targetPort; an in-cluster origin's
 * host and port), as the README's apps would have. doctor checks each route's allow against them.
 */
export async function deployRoutedServices(s: Scenario) {
  for (const route of (s.config["routes"] ?? []) as Record<string, any>[]) {
    const origin =
      typeof route["origin"] === "string" ? /^\w+:\/\/([^.]+)\.([^.]+)\.svc[^:]*:(\d+)$/.exec(route["origin"]) : null;
    const [name, namespace, port, targetPort] = origin
      ? [origin[1]!, origin[2]!, Number(origin[3]), Number(origin[3])]
      : [route["service"], route["namespace"], route["port"], route["targetPort"] ?? route["port"]];
    if (!name || !namespace) continue;
    await s.kube("POST", `/api/v1/namespaces/${namespace}/services`, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace },
      spec: { selector: { app: name }, ports: [{ port, targetPort }] },
    });
  }
}

export async function doctorPasses(s: Scenario) {
  const doctor = await npmRun(s.world, "doctor", ["--json", "--stack-file", stackFile(s)]);
  const report = JSON.parse(doctor.stdout.slice(doctor.stdout.indexOf("{")));
  const outcomes: any[] = report.checks ?? report.outcomes ?? [];
  const notPassing = outcomes.filter((c) => c.status !== "ok" && c.status !== "skip");
  expect(notPassing.map((c) => `${c.id}: ${c.status} ${c.message}`)).toEqual([]);
  expect(doctor.status, doctor.stdout).toBe(0);
  return outcomes.filter((c) => c.status === "skip").map((c) => `${c.id}: ${c.message}`);
}

/** Adds a route; the preview changes exactly what the offline plan's --diff names, by creates and updates only. */
export async function addRoute(s: Scenario, route: Record<string, unknown>) {
  const base = path.join(s.dir, "base.json");
  fs.writeFileSync(base, JSON.stringify(await plan(s.world, s.dir)));
  setConfig(s, { ...s.config, routes: [...(s.config["routes"] as unknown[]), route] });
  const diffRun = await npmRun(s.world, "plan", ["--json", "--diff", base, "--stack-file", stackFile(s)]);
  expect(diffRun.status, diffRun.stdout).toBe(0);
  const diff = JSON.parse(diffRun.stdout);
  const named = [...diff.added, ...diff.changed.map((c: any) => c.resource ?? c)].map((r: any) => r.name).sort();
  expect(diff.removed).toEqual([]);

  const preview = await operate(s.world, s.dir, "preview");
  expectOk(preview);
  const steps = changed(preview);
  expect(steps.map((st) => st.name).sort()).toEqual(named);
  expect(steps.filter((st) => st.op !== "create" && st.op !== "update").map((st) => `${st.op} ${st.name}`)).toEqual([]);
  expectOk(await operate(s.world, s.dir, "up"));
  await previewIsClean(s);
}

/**
 * The kubeconfig's credentials rotated for the same cluster (a new key and client certificate from the same CA, as
 * `talosctl kubeconfig` writes them): nothing is replaced, nothing changes.
 */
export async function rotateCredentials(s: Scenario) {
  const pki = path.join(s.world.runDir, "pki");
  const key = path.join(pki, "admin-rotated.key");
  const cert = path.join(pki, "admin-rotated.crt");
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key);
  openssl("req", "-new", "-key", key, "-subj", "/O=system:masters/CN=admin", "-out", `${cert}.csr`);
  openssl(
    "x509",
    "-req",
    "-in",
    `${cert}.csr`,
    "-CA",
    path.join(pki, "ca.crt"),
    "-CAkey",
    path.join(pki, "ca.key"),
    "-CAcreateserial",
    "-days",
    "30",
    "-extfile",
    path.join(pki, "client.ext"),
    "-out",
    cert,
  );
  const kubeconfig = parse(fs.readFileSync(s.world.kubeconfig, "utf8"));
  const before = kubeconfig.users[0].user["client-certificate-data"];
  kubeconfig.users[0].user["client-certificate-data"] = fs.readFileSync(cert).toString("base64");
  kubeconfig.users[0].user["client-key-data"] = fs.readFileSync(key).toString("base64");
  expect(kubeconfig.users[0].user["client-certificate-data"]).not.toBe(before);
  fs.writeFileSync(s.world.kubeconfig, stringify(kubeconfig));

  const preview = await operate(s.world, s.dir, "preview");
  expectOk(preview);
  expect(preview.steps.filter((st) => REPLACING.has(st.op)).map((st) => st.name)).toEqual([]);
  expect(withDiffs(preview)).toEqual([]);
}

/**
 * A route removed as docs/tunnel.md says. Removing the line first is what the docs warn of: the preview refuses,
 * naming the protected CNAME, before anything changes. The documented steps (lift `tunnel.protect` with the route
 * still there, remove it, protect again) remove everything the route made, and nothing else.
 */
export async function removeRoute(s: Scenario, host: string, hostname: string) {
  const routes = s.config["routes"] as Record<string, unknown>[];
  const kept = routes.filter((r) => r["host"] !== host);
  const tunnel = (s.config["tunnel"] ?? {}) as Record<string, unknown>;
  const withProtect = (protect: boolean, list: unknown[]) => ({
    ...s.config,
    routes: list,
    tunnel: { ...tunnel, protect },
  });
  const original = s.config;

  setConfig(s, { ...original, routes: kept });
  const refused = await operate(s.world, s.dir, "preview");
  expect(refused.ok).toBe(false);
  expect([refused.error, ...refused.diagnostics].join("\n")).toMatch(
    new RegExp(`tunnel-dns-${host}[^]*protect|protect[^]*tunnel-dns-${host}`),
  );

  setConfig(s, withProtect(false, routes));
  const unprotect = await operate(s.world, s.dir, "up");
  expectOk(unprotect);
  expect(changes(unprotect)).toEqual([]);

  setConfig(s, withProtect(false, kept));
  const preview = await operate(s.world, s.dir, "preview");
  expectOk(preview);
  expect(changes(preview).sort()).toEqual(
    [
      `delete mesh-allow-gateway-to-${host}`,
      `delete routes-${host}`,
      `delete tunnel-dns-${host}`,
      "update routes-gateway",
      "update tunnel-config",
    ].sort(),
  );
  expectOk(await operate(s.world, s.dir, "up"));
  expect(s.world.account.records.filter((r) => r.name === hostname)).toEqual([]);
  const [tunnelId] = s.world.account.tunnels.filter((t) => t.deleted_at === null).map((t) => t.id);
  const rules = s.world.account.configurations[tunnelId!]!["config"].ingress.map((r: any) => r.hostname);
  expect(rules).not.toContain(hostname);

  setConfig(s, withProtect(true, kept));
  expectOk(await operate(s.world, s.dir, "up"));
  await previewIsClean(s);
  setConfig(s, { ...original, routes: kept });
}

/** A values change (gateway replicas 2 → 3) updates the Release in place: Helm's revision 2, three replicas. */
export async function scaleGateway(s: Scenario) {
  const istio = (s.config["istio"] ?? {}) as Record<string, any>;
  setConfig(s, { ...s.config, istio: { ...istio, gateway: { ...istio["gateway"], replicas: 3 } } });
  const preview = await operate(s.world, s.dir, "preview");
  expectOk(preview);
  expect(changes(preview)).toEqual(["update istio-gateway"]);
  expectOk(await operate(s.world, s.dir, "up"));
  expect((await helmReleases(s.kube)).get("istio-ingress/istio-ingress")).toEqual({ status: "deployed", version: 2 });
  const deployment = await s.kube("GET", "/apis/apps/v1/namespaces/istio-ingress/deployments/istio-ingress");
  expect(deployment.spec.replicas).toBe(3);
  await previewIsClean(s);
}

/**
 * A release that cannot get ready: a value that keeps the gateway's pods from being scheduled (a node label no node
 * has) and a short `helm.timeout`. The `up` fails naming the release, Helm rolls it back (atomic), and the next `up`
 * with the fix succeeds.
 */
export async function unreadyRelease(s: Scenario) {
  const good = s.config;
  const istio = (good["istio"] ?? {}) as Record<string, any>;
  const before = (await helmReleases(s.kube)).get("istio-ingress/istio-ingress")!;
  setConfig(s, {
    ...good,
    helm: { timeout: 30 },
    istio: {
      ...istio,
      values: { ...istio["values"], gateway: { nodeSelector: { "homecluster.test/absent": "true" } } },
    },
  });
  const failed = await operate(s.world, s.dir, "up");
  expect(failed.ok).toBe(false);
  const failures = failed.diagnostics.filter((d) => d.includes("::istio-gateway:"));
  expect(failures.length, failed.diagnostics.join("\n")).toBeGreaterThan(0);
  // Atomic: the failed upgrade is rolled back to what ran before, as a new revision.
  const after = (await helmReleases(s.kube)).get("istio-ingress/istio-ingress")!;
  expect(after.status).toBe("deployed");
  expect(after.version).toBeGreaterThan(before.version + 1);
  const deployment = await s.kube("GET", "/apis/apps/v1/namespaces/istio-ingress/deployments/istio-ingress");
  expect(deployment.spec.template.spec.nodeSelector ?? {}).not.toHaveProperty("homecluster.test/absent");

  setConfig(s, good);
  expectOk(await operate(s.world, s.dir, "up"));
  await previewIsClean(s);
}

/** Removes the stack: with `tunnel.protect` false, nothing the stack created remains; what it found stays. */
export async function destroyLeavesNothing(s: Scenario) {
  const tunnel = (s.config["tunnel"] ?? {}) as Record<string, unknown>;
  setConfig(s, { ...s.config, tunnel: { ...tunnel, protect: false } });
  // The protect flag lives in the state: an up writes it before a destroy may delete what it guarded.
  expectOk(await operate(s.world, s.dir, "up"));
  const destroy = await operate(s.world, s.dir, "destroy");
  expectOk(destroy);

  for (const r of plannedObjects(s.planned)) {
    const live = await s.kube("GET", await liveRoute(s.kube, r));
    const what = `${r.type} ${r.inputs.metadata.namespace ?? ""}/${r.inputs.metadata.name}`;
    if (r.type.endsWith("Patch") && s.existing.includes(r.inputs.metadata.name)) {
      // A namespace that existed before: it stays, without the stack's enrolment label.
      expect(live, what).toBeDefined();
      for (const label of Object.keys(r.inputs.metadata.labels ?? {})) {
        expect(live.metadata.labels ?? {}, what).not.toHaveProperty(label);
      }
    } else {
      expect(live?.metadata?.deletionTimestamp ? undefined : live, what).toBeUndefined();
    }
  }
  expect([...(await helmReleases(s.kube)).keys()]).toEqual([]);
  for (const name of s.existing) expect(await s.kube("GET", `/api/v1/namespaces/${name}`), name).toBeDefined();

  const account = s.world.account;
  expect(account.tunnels.filter((t) => t.deleted_at === null)).toEqual([]);
  expect(account.records.map((r) => r.name)).toEqual(["nas.example.com"]);
  expect([account.accessApplications, account.accessPolicies, account.mintedTokens]).toEqual([[], [], []]);

  // Helm keeps the CRDs its charts ask it to keep: Istio base's (helm.sh/resource-policy: keep) and external-dns'
  // (a chart's crds/ folder is never deleted). The cluster started with none.
  const crds = await s.kube("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
  return crds.items.map((c: any) => c.metadata.name).sort();
}
