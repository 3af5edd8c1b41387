/**
 * The tier can fail: pointed at charts where one was changed the way an upgrade could change it, it fails naming the
 * resource. Each broken chart is the pinned package, unpacked, edited and repacked in a temporary folder.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { releasesOf } from "../../offline/graph";
import { settings } from "./env";
import { chartFile, chartPackage, helmRun, helmVersion, MISSING_HELM, renderRelease, type HelmOptions } from "./helm";
import { runStack, stackCases, type StackUnderTest } from "./stacks";
import { admitStack, renderAndCheck } from "./tier";

const temporary: string[] = [];
const tmpdir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temporary.push(dir);
  return dir;
};
afterAll(() => temporary.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** Replaces `from` in a chart's file; throws when it is not there, so a changed upstream template cannot go unseen. */
function edit(file: string, from: RegExp, to: string): void {
  const text = fs.readFileSync(file, "utf8");
  const edited = text.replace(from, to);
  if (edited === text) throw new Error(`${file}: ${from} not found; the chart's template changed`);
  fs.writeFileSync(file, edited);
}

/** A chart folder holding every chart the stack installs, `chart`'s package rebuilt after `change`. */
async function brokenCharts(
  stack: StackUnderTest,
  chart: string,
  change: (root: string) => void,
): Promise<HelmOptions> {
  const dir = tmpdir("conformance-charts-");
  const releases = releasesOf(stack.run);
  for (const release of releases)
    fs.copyFileSync(await chartPackage(release, settings), path.join(dir, chartFile(release)));
  const target = releases.find((r) => r.chart === chart)!;
  const work = tmpdir("conformance-chart-");
  // A packaged chart holds one folder, named after the chart.
  execFileSync("tar", ["-xzf", path.join(dir, chartFile(target)), "-C", work]);
  change(path.join(work, chart));
  await helmRun(settings.helm, chart, ["package", path.join(work, chart), "--destination", dir]);
  return { ...settings, chartDir: dir };
}

/** The failures of a render and seam check, by seam. */
async function failuresWith(stack: StackUnderTest, options: HelmOptions) {
  const { seams } = await renderAndCheck(stack, options);
  return Object.fromEntries(seams.filter((s) => s.result.failures.length > 0).map((s) => [s.seam, s.result.failures]));
}

describe("the tier fails, naming the resource", () => {
  let stack: StackUnderTest;
  beforeAll(async () => {
    await helmVersion(settings.helm);
    stack = await runStack(stackCases()[0]!);
  });

  it("when the gateway chart names its service account differently", async () => {
    const options = await brokenCharts(stack, "gateway", (root) =>
      edit(
        path.join(root, "templates/_helpers.tpl"),
        /\.Values\.serviceAccount\.name \| default \(include "gateway\.name" \.\)/,
        'printf "%s-proxy" (include "gateway.name" .)',
      ),
    );
    const failures = await failuresWith(stack, options);
    expect(Object.keys(failures)).toEqual([
      "principals of the stack's AuthorizationPolicies are service accounts pods run as",
    ]);
    expect(Object.values(failures).flat()).toContain(
      "AuthorizationPolicy media/allow-gateway-to-jellyfin (the stack) principal cluster.local/ns/istio-ingress/sa/istio-ingress: " +
        "no ServiceAccount istio-ingress/istio-ingress (there: istio-ingress-proxy)",
    );
  });

  it("when the gateway chart ignores the pod labels the stack sets", async () => {
    const options = await brokenCharts(stack, "gateway", (root) => {
      for (const file of ["templates/_helpers.tpl", "templates/deployment.yaml"]) {
        edit(path.join(root, file), /\.Values\.labels\b/g, "(dict)");
      }
    });
    const failures = await failuresWith(stack, options);
    const all = Object.values(failures).flat();
    expect(all).toContainEqual(
      expect.stringMatching(
        /^AuthorizationPolicy istio-ingress\/allow-http-ingress \(the stack\) selector \{app=istio-ingress, istio=ingressgateway\}: matches no pod in istio-ingress \(pods there: Deployment istio-ingress \{.*istio=ingress[,}]/,
      ),
    );
    expect(all).toContainEqual(
      expect.stringMatching(/^Gateway istio-ingress\/public \(the stack\) selector .*: matches no pod/),
    );
    expect(all).toContain(
      'Deployment istio-ingress/istio-ingress (chart gateway, release istio-ingress) label istio.io/dataplane-mode: is absent, needs "none" (an Envoy of its own)',
    );
    // doctor would look for pods the chart no longer labels so.
    expect(all).toContainEqual(
      expect.stringMatching(/^release istio-ingress \(chart gateway\): .*declared but not rendered/),
    );
  });

  it.skipIf(!settings.kubeconfig)("when the cilium chart renders an unknown field into a Deployment", async () => {
    const options = await brokenCharts(stack, "cilium", (root) =>
      edit(
        path.join(root, "templates/cilium-operator/deployment.yaml"),
        /^( {6})serviceAccountName:/m,
        "$1unknownSchedulingHint: spread\n$1serviceAccountName:",
      ),
    );
    const { view } = await renderAndCheck(stack, options);
    const report = await admitStack(view, { kubeconfig: settings.kubeconfig!, crdDir: settings.crdDir });
    expect(report.failures).toEqual([
      expect.stringMatching(
        /^Deployment kube-system\/cilium-operator \(chart cilium, release cilium\): .*\.spec\.template\.spec\.unknownSchedulingHint: field not declared in schema/,
      ),
    ]);
  });

  it.skipIf(!settings.kubeconfig)("when the external-dns chart drops the pod security the stack sets", async () => {
    // external-dns runs in a namespace the stack labels Pod Security `restricted`: its pods would be refused.
    const options = await brokenCharts(stack, "external-dns", (root) =>
      edit(path.join(root, "templates/deployment.yaml"), /\.Values\.(podSecurityContext|securityContext)\b/g, "(dict)"),
    );
    const { view } = await renderAndCheck(stack, options);
    const report = await admitStack(view, { kubeconfig: settings.kubeconfig!, crdDir: settings.crdDir });
    expect(report.failures).toEqual([
      expect.stringMatching(
        /^Deployment external-dns\/external-dns \(chart external-dns, release external-dns\): would violate PodSecurity "restricted:latest": .*runAsNonRoot != true/,
      ),
    ]);
  });

  it("when a chart refuses the values, with Helm's message", async () => {
    const gateway = releasesOf(stack.run).find((r) => r.chart === "gateway")!;
    // `replicas` for `replicaCount`: the gateway chart's schema allows no key it does not know.
    const refused = renderRelease({ ...gateway, values: { ...gateway.values, replicas: 2 } }, settings);
    await expect(refused).rejects.toThrow(/^istio-ingress: .*additional properties 'replicas' not allowed/s);
  });

  it("when there is no helm, in one line saying how to get it", async () => {
    const missing = helmVersion(path.join(tmpdir("conformance-no-helm-"), "helm"));
    await expect(missing).rejects.toThrow(MISSING_HELM);
    expect(MISSING_HELM).not.toContain("\n");
    expect(MISSING_HELM).toContain("scripts/conformance/ensure-helm");
  });
});
