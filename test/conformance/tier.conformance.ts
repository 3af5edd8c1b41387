/**
 * The conformance tier: for each stack, every Helm release of the program's graph rendered by real Helm, the seams
 * between the stack's objects and the charts' checked, and, given an API server, all of it admitted (docs/conformance.md).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { releasesOf } from "../../offline/graph";
import { settings } from "./env";
import { helmVersion } from "./helm";
import { SEAMS } from "./seams";
import { runStack, stackCases, type StackUnderTest } from "./stacks";
import { admitStack, renderAndCheck } from "./tier";

let helm: string;
beforeAll(async () => {
  helm = `helm ${await helmVersion(settings.helm)}`;
});

const [first] = stackCases();

for (const stackCase of stackCases()) {
  describe(stackCase.name, () => {
    let stack: StackUnderTest;
    let checked: Awaited<ReturnType<typeof renderAndCheck>>;
    let renderMs = 0;
    beforeAll(async () => {
      stack = await runStack(stackCase);
      const started = Date.now();
      checked = await renderAndCheck(stack, settings);
      renderMs = Date.now() - started;
    });

    it("renders every Helm release of the program's graph with its chart", ({ task }) => {
      const declared = releasesOf(stack.run).map((r) => `${r.release} (${r.chart} ${r.version})`);
      expect(
        checked.view.releases.map((r) => `${r.release.release} (${r.release.chart} ${r.release.version})`),
      ).toEqual(declared);
      for (const { release, objects } of checked.view.releases)
        expect(objects.length, release.release).toBeGreaterThan(0);
      const seams = checked.seams.map((s) => s.result);
      task.meta.conformance = {
        stack: stack.name,
        helm,
        releases: declared.length,
        renderMs,
        checks: seams.reduce((n, s) => n + s.checked.length, 0),
        outside: seams.reduce((n, s) => n + s.outside.length, 0),
      };
    });

    for (const [index, seam] of SEAMS.entries()) {
      it(seam.name, () => {
        const { result } = checked.seams[index]!;
        expect(result.failures).toEqual([]);
        // The tests' stack has routes, Access and an allow: every seam has something to check there.
        if (stackCase === first) expect(result.checked).not.toEqual([]);
      });
    }

    it.skipIf(!settings.kubeconfig)(
      "the API server admits every chart object and every object of the stack",
      async ({ task }) => {
        const started = Date.now();
        const report = await admitStack(checked.view, { kubeconfig: settings.kubeconfig!, crdDir: settings.crdDir });
        const ms = Date.now() - started;
        for (const warning of report.warnings) console.warn(`warning: ${warning}`);
        task.meta.conformance = {
          stack: stack.name,
          admission: {
            server: report.server,
            admitted: report.admitted,
            ms,
            warnings: report.warnings.length,
            unserved: report.unserved,
          },
        };
        expect(report.failures).toEqual([]);
        // Every object the cluster would hold was sent, and each was admitted or named as unserved.
        const crds = checked.view.objects.filter((p) => p.kind === "CustomResourceDefinition").length;
        expect(report.sent).toBeGreaterThanOrEqual(checked.view.objects.length - crds);
        expect(report.admitted + report.unserved.length).toBe(report.sent);
      },
    );
  });
}
