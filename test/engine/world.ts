/**
 * The engine tier's world: the real Pulumi CLI and Kubernetes provider (built from the Go module proxy, or given),
 * a simulated cluster (scripts/conformance/apiserver up --nodes), a chart repository on 127.0.0.1 serving the pinned
 * charts, the fake Cloudflare API with stand-in Cloudflare and random providers writing to it, and the controllers
 * kwok cannot be (stand-ins.ts). Every process it starts talks to 127.0.0.1 only: HTTP(S)_PROXY point at a closed
 * loopback port, NO_PROXY lets loopback through.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { accountBeforeUp } from "../cli/fixtures";
import { startFakeCloudflare } from "../cli/fake-cloudflare";
import type { WritableState } from "../cli/fake-cloudflare-writes";
import type { AccountState } from "../cli/fake-cloudflare";
import { listen, type FakeServer } from "../cli/fake-kube";
import { MOCK_PERMISSION_GROUPS } from "../../offline/mock-runtime";
import type { Operation, OperationRequest, OperationResult } from "./operation";

export const ROOT = path.resolve(__dirname, "../..");
export const STACK = "homecluster";
/** The kube context of the simulated cluster's kubeconfig. */
export const CONTEXT = "simulated";
/** The closed loopback port every proxy variable points at: nothing may leave the machine. */
const NO_WAY_OUT = "http://127.0.0.1:9";

const script = (...parts: string[]) => path.join(ROOT, "scripts", ...parts);

/** Runs one of the project's tool scripts; its stdout's last line is the path it prints. */
function tool(file: string, ...args: string[]): string {
  const out = execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: proxied() });
  return out.trim().split("\n").pop()!;
}

function proxied(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    HTTP_PROXY: NO_WAY_OUT,
    HTTPS_PROXY: NO_WAY_OUT,
    http_proxy: NO_WAY_OUT,
    https_proxy: NO_WAY_OUT,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
    ...extra,
  };
}

export interface Tools {
  cliRoot: string;
  cli: string;
  /** The provider plugin's executable, or "registry": the CLI installs the real plugin (where it can download). */
  kubernetesProvider: string;
  helm: string;
  /** Version of the Kubernetes provider's code, for the summary. */
  providerCode: string;
}

export function ensureTools(): Tools {
  const cliRoot = tool(script("engine", "ensure-pulumi"));
  // HOMECLUSTER_ENGINE_PLUGINS=registry: the real plugin, from Pulumi's plugin server (the pull-request workflow).
  const kubernetesProvider =
    process.env["HOMECLUSTER_ENGINE_PLUGINS"] === "registry"
      ? "registry"
      : tool(script("engine", "ensure-kubernetes-provider"));
  tool(script("conformance", "apiserver"), "build", "--nodes");
  const helm = tool(script("conformance", "ensure-helm"));
  return {
    cliRoot,
    cli: path.join(cliRoot, "bin", "pulumi"),
    kubernetesProvider,
    helm,
    providerCode: /pulumi-resource-kubernetes-(v4[^/]*)-as-/.exec(kubernetesProvider)?.[1] ?? kubernetesProvider,
  };
}

/**
 * The account the fake Cloudflare API starts with: the zone, the Zero Trust team, no tunnel yet, and a deploy token
 * with every right the README lists (Access' team lookup included, which the worked example's routes need).
 */
export function freshAccount(): AccountState & WritableState {
  const account = accountBeforeUp();
  const details = account.tokenDetails as { policies: { permission_groups: { id: string; name: string }[] }[] };
  details.policies[0]!.permission_groups.push({
    // A synthetic id: the checks match permission groups by name.
    id: "00000000000000000000000000a0c356",
    name: "Access: Organizations, Identity Providers, and Groups Read",
  });
  return {
    ...account,
    mintedTokens: [],
    accessPolicies: [],
    accessApplications: [],
    permissionGroups: MOCK_PERMISSION_GROUPS,
  };
}

/** A Helm chart repository on 127.0.0.1: the packaged charts of `chartDir` and the index `helm repo index` makes. */
async function startChartRepository(helm: string, chartDir: string, dir: string): Promise<FakeServer> {
  fs.mkdirSync(dir, { recursive: true });
  for (const file of fs.readdirSync(chartDir).filter((f) => f.endsWith(".tgz"))) {
    fs.copyFileSync(path.join(chartDir, file), path.join(dir, file));
  }
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const file = path.join(dir, path.basename(new URL(request.url ?? "/", "http://repo").pathname));
    if (!fs.existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "Content-Type": file.endsWith(".yaml") ? "text/yaml" : "application/gzip" });
    fs.createReadStream(file).pipe(response);
  });
  const repository = await listen(server, requests);
  const url = `${repository.url}/`;
  execFileSync(helm, ["repo", "index", dir, "--url", url], { stdio: "inherit", env: proxied() });
  return { ...repository, url };
}

export interface World {
  tools: Tools;
  /** The private Pulumi home (plugins), backend and Helm folders. */
  home: string;
  kubeconfig: string;
  runDir: string;
  charts: FakeServer;
  cloudflare: FakeServer;
  account: AccountState & WritableState;
  /** The environment every Pulumi operation and command runs with. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Installs a plugin into the private PULUMI_HOME from a local file, as `pulumi plugin install --file` does. */
function installPlugin(cli: string, env: Record<string, string>, name: string, version: string, file: string) {
  execFileSync(cli, ["plugin", "install", "resource", name, version, "--file", file], { env, stdio: "inherit" });
}

/** A plugin executable that serves a stand-in provider from this clone with tsx. */
function standInPlugin(dir: string, name: string): string {
  const file = path.join(dir, `pulumi-resource-${name}`);
  const entry = path.join(ROOT, "test", "engine", "providers", `${name}.ts`);
  fs.writeFileSync(file, `#!/bin/sh\ncd '${ROOT}' && exec node --import tsx '${entry}' "$@"\n`, { mode: 0o755 });
  return file;
}

const packageVersion = (name: string): string =>
  JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")).version;

export async function startWorld(chartDir: string): Promise<World> {
  const tools = ensureTools();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-engine-"));
  const stops: (() => Promise<void> | void)[] = [() => fs.rmSync(home, { recursive: true, force: true })];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    const account = freshAccount();
    const cloudflare = await startFakeCloudflare(account);
    stops.push(() => cloudflare.close());
    const charts = await startChartRepository(tools.helm, chartDir, path.join(home, "charts"));
    stops.push(() => charts.close());
    const kubeconfig = tool(script("conformance", "apiserver"), "up", "--nodes");
    const runDir = path.dirname(kubeconfig);
    stops.push(() => {
      execFileSync(script("conformance", "apiserver"), ["down", runDir], { stdio: "inherit" });
    });
    for (const dir of ["pulumi", "helm/cache", "helm/config", "helm/data", "plugins"]) {
      fs.mkdirSync(path.join(home, dir), { recursive: true });
    }
    const env = proxied({
      PULUMI_HOME: path.join(home, "pulumi"),
      PULUMI_CONFIG_PASSPHRASE: "engine-tier-passphrase",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
      KUBECONFIG: kubeconfig,
      HELM_CACHE_HOME: path.join(home, "helm/cache"),
      HELM_CONFIG_HOME: path.join(home, "helm/config"),
      HELM_DATA_HOME: path.join(home, "helm/data"),
      HOMECLUSTER_FAKE_CLOUDFLARE: cloudflare.url,
      CLOUDFLARE_API_TOKEN: account.token,
      CLOUDFLARE_BASE_URL: cloudflare.url,
    });
    const kubernetes = packageVersion("@pulumi/kubernetes");
    if (tools.kubernetesProvider === "registry") {
      execFileSync(tools.cli, ["plugin", "install", "resource", "kubernetes", kubernetes], {
        env: { ...env, HTTP_PROXY: "", HTTPS_PROXY: "", http_proxy: "", https_proxy: "" },
        stdio: "inherit",
      });
    } else {
      installPlugin(tools.cli, env, "kubernetes", kubernetes, tools.kubernetesProvider);
    }
    for (const name of ["cloudflare", "random"]) {
      installPlugin(
        tools.cli,
        env,
        name,
        packageVersion(`@pulumi/${name}`),
        standInPlugin(path.join(home, "plugins"), name),
      );
    }
    return { tools, home, kubeconfig, runDir, charts, cloudflare, account, env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A scratch project directory: the project's Pulumi.yaml and a stack file, as a user's checkout holds them. */
export function scratchProject(world: World, name: string, config: Record<string, unknown>): string {
  const dir = path.join(world.home, "projects", name);
  fs.mkdirSync(dir, { recursive: true });
  // The project's own Pulumi.yaml (its config declarations are the CLI's gate), without `main`: the program runs
  // inline, and the CLI would look for index.ts in this directory.
  const project = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8").replace(/^main: .*\n/m, "");
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), project);
  writeStackConfig(dir, config);
  return dir;
}

/** Replaces the stack file's plain config, keeping what the CLI wrote (its salt, the encrypted secrets). */
export function writeStackConfig(dir: string, config: Record<string, unknown>): void {
  const file = path.join(dir, `Pulumi.${STACK}.yaml`);
  const old = fs.existsSync(file) ? (parse(fs.readFileSync(file, "utf8")) ?? {}) : {};
  const secrets = Object.entries(old.config ?? {}).filter(([, v]) => v && typeof v === "object" && "secure" in v);
  const plain = Object.entries(config).map(([k, v]) => [`homecluster:${k}`, v]);
  fs.writeFileSync(file, stringify({ ...old, config: Object.fromEntries([...plain, ...secrets]) }));
}

/** The environment of a project directory: the world's, with a state backend of the project's own. */
export function projectEnv(world: World, dir: string): Record<string, string> {
  return { ...world.env, PULUMI_BACKEND_URL: `file://${path.join(dir, ".pulumi-state")}` };
}

/** Runs a command line as a user types it, in `dir`, with the project's environment. */
export function command(world: World, dir: string, file: string, args: string[]) {
  fs.mkdirSync(path.join(dir, ".pulumi-state"), { recursive: true });
  return execFileSync(file, args, { cwd: dir, env: projectEnv(world, dir), encoding: "utf8" });
}

/**
 * The request file of one operation (operation.ts reads it): `program` is the module the CLI runs inline, the stack's
 * own index.ts unless given. Returns the file, and where the result will be.
 */
export function operationRequest(
  world: World,
  dir: string,
  operation: Operation,
  program = path.join(ROOT, "index.ts"),
) {
  const resultFile = path.join(dir, `.result-${operation}-${Date.now()}.json`);
  const request: OperationRequest = {
    operation,
    stack: STACK,
    workDir: dir,
    cliRoot: world.tools.cliRoot,
    env: projectEnv(world, dir),
    program,
    resultFile,
  };
  const requestFile = `${resultFile}.request`;
  fs.writeFileSync(requestFile, JSON.stringify(request));
  return { requestFile, resultFile };
}

/** One Pulumi operation in a process of its own (operation.ts). */
export async function operate(world: World, dir: string, operation: Operation): Promise<OperationResult> {
  const { requestFile, resultFile } = operationRequest(world, dir, operation);
  const log = fs.openSync(path.join(dir, `${operation}.log`), "a");
  await new Promise<void>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "operation.ts"), requestFile], {
      cwd: ROOT,
      env: projectEnv(world, dir),
      stdio: ["ignore", log, log],
    });
    child.on("exit", () => resolve());
  });
  fs.closeSync(log);
  if (!fs.existsSync(resultFile)) {
    throw new Error(
      `${operation} left no result: ${fs.readFileSync(path.join(dir, `${operation}.log`), "utf8").slice(-2000)}`,
    );
  }
  return JSON.parse(fs.readFileSync(resultFile, "utf8")) as OperationResult;
}

/** The steps of an operation that change a resource (not `same`, not a read, not a component's). */
export function changed(result: OperationResult) {
  // Components and the stack itself hold no state of their own: their steps follow their children's and the outputs'.
  return result.steps.filter(
    (s) => s.op !== "same" && s.op !== "read" && s.type !== "pulumi:pulumi:Stack" && !s.type.startsWith("homecluster:"),
  );
}
