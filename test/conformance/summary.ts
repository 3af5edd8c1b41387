/**
 * The tier's summary line, after vitest's own: what was rendered and checked, how long it took, and whether
 * admission ran. The tests hand their figures over in their task's `meta`, the one channel from a test worker to a
 * reporter.
 */
import type { Reporter, TestModule } from "vitest/node" with { "resolution-mode": "import" };

export interface ConformanceMeta {
  stack?: string;
  helm?: string;
  releases?: number;
  renderMs?: number;
  checks?: number;
  /** References to the user's own workloads (outside what the charts and the stack run), which no render holds. */
  outside?: number;
  admission?: { server: string; admitted: number; ms: number; warnings: number; unserved: string[] };
}

declare module "vitest" {
  interface TaskMeta {
    conformance?: ConformanceMeta;
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const sum = <T>(items: T[], pick: (item: T) => number | undefined) =>
  items.reduce((total, item) => total + (pick(item) ?? 0), 0);

function summaryLine(metas: ConformanceMeta[]): string {
  const rendered = metas.filter((m) => m.releases !== undefined);
  const helm = rendered.find((m) => m.helm)?.helm;
  const render =
    rendered.length === 0
      ? "no stack rendered (see the failures above)"
      : `${rendered.length} stacks, ${sum(rendered, (m) => m.releases)} releases rendered by ${helm} and their seams ` +
        `checked in ${seconds(sum(rendered, (m) => m.renderMs))} (${sum(rendered, (m) => m.checks)} checks; ` +
        `${sum(rendered, (m) => m.outside)} references to the user's own workloads, which no chart renders)`;
  const admissions = metas.flatMap((m) => (m.admission ? [m.admission] : []));
  if (admissions.length === 0) {
    // The reporter runs in vitest's own process, which has the tests' environment.
    const admission = process.env["HOMECLUSTER_CONFORMANCE_KUBECONFIG"]
      ? "admission did not complete (see the failures above)"
      : "admission not run: set HOMECLUSTER_CONFORMANCE_KUBECONFIG to a cluster's kubeconfig";
    return `conformance: ${render}; ${admission}`;
  }
  const unserved = [...new Set(admissions.flatMap((a) => a.unserved))];
  return (
    `conformance: ${render}; admission by kube-apiserver ${admissions[0]!.server}: ` +
    `${sum(admissions, (a) => a.admitted)} objects admitted in ${seconds(sum(admissions, (a) => a.ms))}, ` +
    `${sum(admissions, (a) => a.warnings)} warnings` +
    (unserved.length > 0
      ? `; not admitted, their CRD not in $HOMECLUSTER_CONFORMANCE_CRDS: ${unserved.join(", ")}`
      : "")
  );
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const metas = testModules.flatMap((m) => [...m.children.allTests()].flatMap((t) => t.meta().conformance ?? []));
    console.log(`\n${summaryLine(metas)}\n`);
  }
}
