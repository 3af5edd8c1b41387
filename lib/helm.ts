/**
 * The one way this stack installs a chart: a real Helm release (hooks, `helm list`, rollback) that rolls
 * itself back on failure, waits for readiness, and keeps a bounded history. Every component uses it, so the
 * release settings are decided here once.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Chart } from "../versions";

/** Plain JSON-like Helm values. */
export type HelmValues = { [key: string]: unknown };

interface ChartReleaseArgs {
  /** The chart and its release name (an entry of `charts` in versions.ts). */
  chart: Chart;
  /**
   * Where the chart comes from: a Helm repository (`https://…`, `http://…`) or an OCI registry path
   * (`oci://registry/path`, which holds the chart as `<path>/<chart>`).
   */
  repository: string;
  version: string;
  namespace: string;
  values: pulumi.Input<HelmValues>;
  /** Seconds the release may take to become ready (`helm.timeout`). */
  timeout: number;
  /**
   * An existing release to take over (`homecluster:adopt.releases`): imported as `<namespace>/<name>`, it keeps its
   * name, since the provider replaces a Release whose name or namespace changes (its Diff forces new on both), and a
   * replacement uninstalls. Its chart, version and values then update in place: a `helm upgrade`.
   */
  adopt?: { namespace: string; name: string };
}

/**
 * Release settings every chart shares: atomic upgrades, cleanup on failure, bounded history. Namespaces are never
 * created by Helm: the stack creates the ones it needs explicitly.
 */
const RELEASE_DEFAULTS = {
  createNamespace: false,
  atomic: true,
  cleanupOnFail: true,
  maxHistory: 5,
} as const;

export function chartRelease(
  name: string,
  args: ChartReleaseArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    name,
    {
      name: args.adopt?.name ?? args.chart.releaseName,
      ...chartSource(args.chart.chart, args.repository),
      version: args.version,
      namespace: args.namespace,
      values: args.values,
      ...RELEASE_DEFAULTS,
      timeout: args.timeout,
    },
    // An imported release has no repositoryOpts (pulumi-kubernetes #2136): the adopting update writes them, so the
    // next preview is clean. They are not ignored: the upgrade needs the repository to fetch the pinned chart.
    args.adopt ? { ...opts, import: `${args.adopt.namespace}/${args.adopt.name}` } : opts,
  );
}

/** The Release's chart reference: an OCI chart is named by its full reference and has no repository. */
export function chartSource(chart: string, repository: string): { chart: string; repositoryOpts?: { repo: string } } {
  return repository.startsWith("oci://")
    ? { chart: `${repository.replace(/\/+$/, "")}/${chart}` }
    : { chart, repositoryOpts: { repo: repository } };
}

function isPlainObject(value: unknown): value is HelmValues {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Deep-merges Helm values: objects merge key by key, anything else (lists included, as Helm does) is
 * replaced by the later value. Inputs are not modified.
 */
export function deepMerge(...layers: HelmValues[]): HelmValues {
  const out: HelmValues = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      const current = out[key];
      out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : structuredClone(value);
    }
  }
  return out;
}
