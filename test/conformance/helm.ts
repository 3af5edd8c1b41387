/**
 * Real Helm, run as `helm install` would see a release (`helm template`), so the tier checks what the cluster would
 * receive. Charts come from a folder of packaged charts or are pulled once from their pinned repositories.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);

/** One Helm release: which chart, from where, with which values (a DeclaredRelease of offline/graph.ts is one). */
export interface ChartRelease {
  release: string;
  chart: string;
  repo: string;
  version: string;
  namespace: string;
  values: Record<string, unknown>;
}

/** A Kubernetes object as rendered: only what every object has is typed; the rest stays `unknown`. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

export interface HelmOptions {
  helm: string;
  /** Packaged charts (`<chart>-<version>.tgz`); when unset, charts are pulled into `cacheDir`. */
  chartDir: string | undefined;
  cacheDir: string;
  kubeVersion: string;
}

export const MISSING_HELM =
  "helm not found: set $HELM or put helm v4 on PATH (scripts/conformance/ensure-helm finds or builds one and prints its path)";
// Only stops a hung process: a cold render of Cilium takes a few seconds.
const HELM_TIMEOUT_MS = 120_000;
const MAX_OUTPUT = 256 * 1024 * 1024;

/** The helm binary's version (`v4.3.2`); throws MISSING_HELM when there is none, and for a Helm before 4. */
export async function helmVersion(helm: string): Promise<string> {
  const version = (await helmRun(helm, "helm", ["version", "--template", "{{.Version}}"])).trim();
  // The tier pins Helm 4, as the workflow and ensure-helm do: Helm 3 renders some charts differently.
  if (!/^v4\./.test(version)) {
    throw new Error(`${helm} is helm ${version}: the tier renders with Helm 4 (scripts/conformance/ensure-helm)`);
  }
  return version;
}

/** The packaged chart of a release: from `chartDir`, or pulled once into `cacheDir`. */
export function chartPackage(release: ChartRelease, options: HelmOptions): Promise<string> {
  if (options.chartDir === undefined) return pulledChart(options.helm, options.cacheDir, release);
  const file = path.join(options.chartDir, chartFile(release));
  if (!fs.existsSync(file)) {
    return Promise.reject(new Error(`${release.release}: no chart package ${file} ($HOMECLUSTER_CHART_DIR)`));
  }
  return Promise.resolve(file);
}

/**
 * `helm template` of one release with `--include-crds`, the objects in Helm's order, as rendered (Helm leaves
 * metadata.namespace to the templates). A chart that refuses its values rejects with Helm's own message.
 */
export async function renderRelease(release: ChartRelease, options: HelmOptions): Promise<KubeObject[]> {
  const chart = await chartPackage(release, options);
  // Values through a file, not --set, so types and nesting arrive exactly as the program wrote them.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "conformance-values-"));
  try {
    const valuesFile = path.join(tmp, "values.json");
    fs.writeFileSync(valuesFile, JSON.stringify(release.values));
    const stdout = await helmRun(options.helm, release.release, [
      "template",
      release.release,
      chart,
      "--version",
      release.version,
      "--namespace",
      release.namespace,
      "--values",
      valuesFile,
      "--kube-version",
      options.kubeVersion,
      "--include-crds",
    ]);
    return parseManifests(stdout, release.release);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** A multi-document YAML stream as objects; empty documents (templates that rendered nothing) are dropped. */
export function parseManifests(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: invalid YAML: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isKubeObject(value)) {
      throw new Error(`${source}: a document that is not a Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`);
    }
    objects.push(value);
  }
  return objects;
}

function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== "object" || value === null) return false;
  const o = value as Record<string, unknown>;
  const metadata = o["metadata"] as Record<string, unknown> | undefined;
  return typeof o["apiVersion"] === "string" && typeof o["kind"] === "string" && typeof metadata?.["name"] === "string";
}

// One pull per chart package per process, even when several stacks render the same chart at once.
const pulls = new Map<string, Promise<string>>();

function pulledChart(helm: string, cacheDir: string, release: ChartRelease): Promise<string> {
  const file = path.join(cacheDir, chartFile(release));
  let pull = pulls.get(file);
  if (!pull) {
    pull = (async () => {
      if (fs.existsSync(file)) return file;
      fs.mkdirSync(cacheDir, { recursive: true });
      // Pulled into a private folder, then renamed: an interrupted pull never leaves half a package in the cache.
      const tmp = fs.mkdtempSync(path.join(cacheDir, ".pull-"));
      try {
        const name = chartName(release);
        // An OCI registry names the chart in the reference; a classic repository takes --repo.
        const ref = release.repo.startsWith("oci://")
          ? [`${release.repo.replace(/\/$/, "")}/${name}`]
          : [name, "--repo", release.repo];
        await helmRun(helm, release.release, ["pull", ...ref, "--version", release.version, "--destination", tmp]);
        fs.renameSync(path.join(tmp, chartFile(release)), file);
        return file;
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    })();
    pulls.set(file, pull);
    pull.catch(() => pulls.delete(file)); // a failed pull may be retried
  }
  return pull;
}

/** `<chart>-<version>.tgz`, the name `helm pull` writes. */
export function chartFile(release: Pick<ChartRelease, "chart" | "version">): string {
  return `${chartName(release)}-${release.version}.tgz`;
}

function chartName(release: Pick<ChartRelease, "chart">): string {
  return release.chart.split("/").pop() ?? release.chart;
}

/** Runs helm; a failure rejects with "<what>: <helm's stderr>", the message the chart's author wrote. */
export async function helmRun(helm: string, what: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(helm, args, { maxBuffer: MAX_OUTPUT, timeout: HELM_TIMEOUT_MS, encoding: "utf8" });
    return stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string; killed?: boolean };
    if (e.code === "ENOENT") throw new Error(MISSING_HELM);
    if (e.killed) throw new Error(`${what}: helm ${args[0]} timed out after ${HELM_TIMEOUT_MS / 1000} s`);
    throw new Error(`${what}: ${(e.stderr ?? "").trim() || e.message}`);
  }
}
