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
}

/** The chart name and version recorded in a release Secret, when it can be read. */
export function releaseChart(secret: SecretObject): { name?: string; version?: string } {
  const data = secret.data?.release;
  if (!data) return {};
  try {
    const inner = Buffer.from(Buffer.from(data, "base64").toString("utf8"), "base64");
    const gzipped = inner[0] === 0x1f && inner[1] === 0x8b;
    const release = JSON.parse((gzipped ? gunzipSync(inner) : inner).toString("utf8")) as {
      chart?: { metadata?: { name?: unknown; version?: unknown } };
    };
    const { name, version } = release.chart?.metadata ?? {};
    return { ...(typeof name === "string" ? { name } : {}), ...(typeof version === "string" ? { version } : {}) };
  } catch {
    return {};
  }
}

function describe(finding: ReleaseFinding) {
  const newest = [...finding.secrets].sort(
    (a, b) => Number(b.metadata?.labels?.version ?? 0) - Number(a.metadata?.labels?.version ?? 0),
  )[0]!;
  const chart = releaseChart(newest);
  const status = newest.metadata?.labels?.status ?? "unknown";
  const where = `${finding.namespace}/${finding.release}`;
  const chartText = chart.name ? `chart ${chart.name}${chart.version ? ` ${chart.version}` : ""}, ` : "";
  return {
    where,
    text: `${where} (${chartText}revision ${newest.metadata?.labels?.version ?? "?"}, ${status})`,
    stuck: status !== "deployed",
    foreign: chart.name !== undefined && chart.name !== finding.chart,
  };
}

export function releasesResult(findings: readonly ReleaseFinding[]): Result {
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
  if (foreign.length > 0) {
    return fail(
      `${listing(foreign.map((r) => r.text))} takes a release name of this stack with another chart`,
      "uninstall it (helm -n <namespace> uninstall <release>) before pulumi up",
    );
  }
  return warn(
    `${listing(existing.map((r) => r.text))} exists`,
    "nothing to do if this stack installed it; otherwise the first pulumi up fails ('cannot re-use a name'): uninstall it (helm -n <namespace> uninstall <release>) right before pulumi up, Cilium last (docs/migration.md)",
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
    return releasesResult(findings);
  },
};
