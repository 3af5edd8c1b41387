/**
 * Helm releases that already carry one of the stack's release names (a Cilium installed at bootstrap, say): the
 * stack's first `pulumi up` cannot install over them. Helm 3 keeps a release as Secrets labelled owner=helm,
 * name=<release>, one per revision; `data.release` is the base64 of gzipped JSON (and the API base64s it again).
 */
import { gunzipSync } from "node:zlib";
import type { StackFacts } from "../../stack/facts";
import { fail, listing, ok, warn, type Check, type Result } from "../check";
import type { CheckContext } from "../context";
import { KUBE_API } from "./cluster";
import { labelSelector, type Meta } from "./objects";

export interface SecretObject {
  metadata?: Meta;
  data?: Record<string, string>;
}

/** One of the stack's releases and the Helm Secrets found under its name. */
export interface ReleaseFinding {
  release: string;
  namespace: string;
  chart: string;
  secrets: SecretObject[];
  /** `homecluster:adopt` takes it over: it must exist. */
  adopted: boolean;
}

/** A Helm release as its Secret stores it (the parts read here). */
export interface StoredRelease {
  name?: string;
  /** Where its objects are installed: a Flux release stored elsewhere (storageNamespace) differs from the Secret's. */
  namespace?: string;
  chart?: { metadata?: { name?: string; version?: string } };
  /** The values the release was installed with. */
  config?: Record<string, unknown>;
}

/** The release a Helm Secret stores, when it can be read. */
export function storedRelease(secret: SecretObject): StoredRelease | undefined {
  const data = secret.data?.release;
  if (!data) return undefined;
  try {
    const inner = Buffer.from(Buffer.from(data, "base64").toString("utf8"), "base64");
    const gzipped = inner[0] === 0x1f && inner[1] === 0x8b;
    return JSON.parse((gzipped ? gunzipSync(inner) : inner).toString("utf8")) as StoredRelease;
  } catch {
    return undefined;
  }
}

/** The chart name and version recorded in a release Secret, when it can be read. */
export function releaseChart(secret: SecretObject): { name?: string; version?: string } {
  const { name, version } = storedRelease(secret)?.chart?.metadata ?? {};
  return { ...(typeof name === "string" ? { name } : {}), ...(typeof version === "string" ? { version } : {}) };
}

/** The newest revision among a release's Secrets. */
export function newestRevision(secrets: readonly SecretObject[]): SecretObject | undefined {
  return [...secrets].sort(
    (a, b) => Number(b.metadata?.labels?.version ?? 0) - Number(a.metadata?.labels?.version ?? 0),
  )[0];
}

function describe(finding: ReleaseFinding) {
  const newest = newestRevision(finding.secrets)!;
  const chart = releaseChart(newest);
  const status = newest.metadata?.labels?.status ?? "unknown";
  const where = `${finding.namespace}/${finding.release}`;
  const chartText = chart.name ? `chart ${chart.name}${chart.version ? ` ${chart.version}` : ""}, ` : "";
  return {
    where,
    text: `${where} (${chartText}revision ${newest.metadata?.labels?.version ?? "?"}, ${status})`,
    stuck: status !== "deployed",
    foreign: chart.name !== undefined && chart.name !== finding.chart,
    adopted: finding.adopted,
  };
}

/** A Helm release in the cluster: where its Secret is, its name, and its newest revision as stored. */
export interface InstalledRelease {
  /** The Secret's namespace: `helm list -n` and Pulumi's import id name this one. */
  namespace: string;
  name: string;
  stored: StoredRelease;
}

/** Every Helm release in the cluster, at its newest revision (read once per run). */
export const installedReleases = (context: CheckContext): Promise<InstalledRelease[]> =>
  context.shared("helm-releases", async () => {
    const kube = await context.kube();
    const list = await kube.request((api) =>
      api.core.listSecretForAllNamespaces({ labelSelector: labelSelector({ owner: "helm" }) }),
    );
    const byRelease = new Map<string, SecretObject[]>();
    for (const secret of list.items as SecretObject[]) {
      const key = `${secret.metadata?.namespace}/${secret.metadata?.labels?.name}`;
      byRelease.set(key, [...(byRelease.get(key) ?? []), secret]);
    }
    return [...byRelease.values()].flatMap((secrets) => {
      const newest = newestRevision(secrets)!;
      const stored = storedRelease(newest);
      const { namespace, labels } = newest.metadata ?? {};
      return stored && namespace && labels?.name ? [{ namespace, name: labels.name, stored }] : [];
    });
  });

/** Releases of the stack's charts under other names: installing beside one fights it over its objects (#2116). */
export function elsewhereResult(
  releases: readonly Pick<StackFacts["kubernetes"]["releases"][number], "key" | "chart" | "release" | "adopted">[],
  installed: readonly InstalledRelease[],
): Result | undefined {
  const found = releases
    .filter((r) => !r.adopted)
    .flatMap((r) =>
      installed
        .filter((i) => i.stored.chart?.metadata?.name === r.chart && i.name !== r.release)
        .map((i) => `${i.namespace}/${i.name} (chart ${r.chart}, where the stack installs ${r.key})`),
    );
  return found.length === 0
    ? undefined
    : fail(
        `${listing(found)} ${found.length === 1 ? "is" : "are"} installed under another name: a second install fights it over every object`,
        "take it over: npm run adopt prints the homecluster:adopt.releases entry (docs/migration.md)",
      );
}

export function releasesResult(findings: readonly ReleaseFinding[]): Result {
  const missing = findings.filter((f) => f.adopted && f.secrets.length === 0);
  if (missing.length > 0) {
    return fail(
      `homecluster:adopt names ${listing(missing.map((f) => `${f.namespace}/${f.release}`))}, which is not installed: the import fails`,
      "correct homecluster:adopt.releases (npm run adopt prints it), or drop the entry to install the release",
    );
  }
  const existing = findings.filter((f) => f.secrets.length > 0).map(describe);
  if (existing.length === 0) return ok(`none of ${listing(findings.map((f) => f.release))} is installed yet`);
  const stuck = existing.filter((r) => r.stuck);
  if (stuck.length > 0) {
    return fail(
      `${listing(stuck.map((r) => r.text))}: Helm cannot install or upgrade over it`,
      `finish or undo the operation (helm -n <namespace> rollback <release>, or helm -n <namespace> uninstall <release>)`,
    );
  }
  const foreign = existing.filter((r) => r.foreign);
  const unclaimed = existing.filter((r) => !r.adopted);
  if (foreign.length > 0) {
    return fail(
      `${listing(foreign.map((r) => r.text))} takes a release name of this stack with another chart`,
      "uninstall it (helm -n <namespace> uninstall <release>) before pulumi up",
    );
  }
  if (unclaimed.length === 0) return ok(`${listing(existing.map((r) => r.text))}: adopted, upgraded in place`);
  return warn(
    `${listing(unclaimed.map((r) => r.text))} exists`,
    "nothing to do if this stack installed it; otherwise the first pulumi up fails ('cannot re-use a name'): adopt it (npm run adopt prints homecluster:adopt; docs/migration.md)",
  );
}

export const releasesCheck: Check<CheckContext> = {
  id: "kube-releases",
  component: "Kubernetes",
  name: "Helm releases",
  needs: [KUBE_API],
  run: async (context) => {
    const kube = await context.kube();
    const releases: StackFacts["kubernetes"]["releases"] = context.facts.kubernetes.releases;
    const findings = await Promise.all(
      releases.map(async (r) => {
        const secrets = await kube.request((api) =>
          api.core.listNamespacedSecret({
            namespace: r.namespace,
            labelSelector: labelSelector({ owner: "helm", name: r.release }),
          }),
        );
        return { ...r, secrets: secrets.items };
      }),
    );
    const result = releasesResult(findings);
    if (result.status === "fail") return result;
    return elsewhereResult(releases, await installedReleases(context)) ?? result;
  },
};
