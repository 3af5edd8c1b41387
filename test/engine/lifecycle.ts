/**
 * The user's life cycle against the simulated cluster, as steps the scenarios share: write the stack as a user would
 * (stack init, config set --secret), read what the cluster holds, compare it with the offline plan.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { Kube } from "./stand-ins";
import { command, CONTEXT, ROOT, scratchProject, STACK, writeStackConfig, type World } from "./world";

export type StackConfig = Record<string, unknown>;

export function fixture(name: string): StackConfig {
  return parse(fs.readFileSync(path.join(__dirname, "stacks", `${name}.yaml`), "utf8"));
}

/** The fixture as the simulated cluster needs it: its kube context, the tier's chart repository. */
export function onSimulatedCluster(world: World, config: StackConfig): StackConfig {
  const repository = world.charts.url;
  return {
    ...config,
    kubeContext: CONTEXT,
    charts: { cilium: repository, istio: repository, externalDns: repository },
  };
}

/** A project directory with the stack initialised and its secret set, by the README's own command lines. */
export function initStack(world: World, name: string, config: StackConfig): string {
  const dir = scratchProject(world, name, config);
  command(world, dir, world.tools.cli, ["stack", "init", STACK]);
  command(world, dir, world.tools.cli, ["config", "set", "--secret", "cloudflareApiToken", world.account.token]);
  // `stack init` and `config set` rewrote the file: the plain config goes back in, the salt and secret stay.
  writeStackConfig(dir, config);
  return dir;
}

/**
 * Runs one of the project's npm commands as the README writes it (`npm run -s <name> -- …`). Asynchronously: the
 * fake Cloudflare API it calls answers from this process.
 */
export function npmRun(world: World, name: string, args: string[]): Promise<{ status: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      "npm",
      ["run", "-s", name, "--", ...args],
      { cwd: ROOT, env: world.env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout: `${stdout}${stderr}` }),
    );
  });
}

/** The offline plan of a stack file, as JSON. */
export async function plan(world: World, dir: string): Promise<any> {
  const out = await npmRun(world, "plan", ["--json", "--stack-file", path.join(dir, `Pulumi.${STACK}.yaml`)]);
  if (out.status !== 0) throw new Error(`npm run plan failed: ${out.stdout}`);
  return JSON.parse(out.stdout);
}

/** The REST path of a kind, found by discovery (the plural the API serves). */
export async function resourcePath(
  kube: Kube,
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): Promise<string | undefined> {
  const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const discovery = await kube("GET", base);
  const resource = discovery?.resources?.find((r: any) => r.kind === kind && !r.name.includes("/"));
  if (!resource) return undefined;
  return `${base}${resource.namespaced ? `/namespaces/${namespace}` : ""}/${resource.name}/${name}`;
}

/** Helm's record of each release: `name` → its latest revision's status and revision number (Helm's Secrets). */
export async function helmReleases(kube: Kube): Promise<Map<string, { status: string; version: number }>> {
  const secrets = await kube("GET", "/api/v1/secrets?labelSelector=owner%3Dhelm");
  const releases = new Map<string, { status: string; version: number }>();
  for (const secret of secrets?.items ?? []) {
    const labels = secret.metadata.labels;
    const key = `${secret.metadata.namespace}/${labels.name}`;
    const version = Number(labels.version);
    if ((releases.get(key)?.version ?? 0) < version) releases.set(key, { status: labels.status, version });
  }
  return releases;
}
