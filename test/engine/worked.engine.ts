/**
 * The engine tier on the worked example's stack (test/engine/stacks/worked.yaml): the real Pulumi CLI and Kubernetes
 * provider run the program's preview, up, refresh and destroy against a simulated cluster, through a user's whole
 * life cycle. The scenarios run in order, each on what the one before left, as a user's stack goes.
 */
import { describe, expect, it } from "vitest";
import {
  addRoute,
  deployRoutedServices,
  destroyLeavesNothing,
  doctorPasses,
  firstUp,
  preflightOnFreshCluster,
  removeRoute,
  previewIsClean,
  refreshThenPreview,
  rotateCredentials,
  scaleGateway,
  unreadyRelease,
} from "./scenarios";
import { engineStack } from "./setup";
import { engineSummary } from "./summary";

// The namespaces the worked example's routes and mesh name: the README has the user create them.
const s = engineStack("worked", ["monitoring", "media", "infra"]);

describe("the worked example's stack on a simulated cluster", () => {
  it("1. preflight passes once the namespaces the README tells a user to create exist", async () => {
    await preflightOnFreshCluster(s);
  });

  it("2. preview, then up from nothing: every release deployed, every object the plan lists as the stack sets it", async () => {
    const up = await firstUp(s);
    engineSummary.figures.push(`worked: first up ${up.seconds.toFixed(1)} s`);
  });

  it("3. a second preview shows no change; refresh, then preview: still none", async () => {
    await previewIsClean(s);
    await refreshThenPreview(s, ["mesh-namespace-monitoring", "mesh-namespace-media", "mesh-namespace-infra"]);
  });

  it("4. doctor after up: every check passes; what kwok cannot show is named as skipped", async () => {
    await deployRoutedServices(s);
    const skipped = await doctorPasses(s);
    expect(skipped.map((line) => line.split(":")[0])).toEqual(["istio-access-keys", "external-dns-log"]);
    engineSummary.figures.push(`worked: doctor skipped ${skipped.join("; ") || "nothing"}`);
  });

  it("5. a route added as the README says: the preview changes what plan --diff names, creates and updates only", async () => {
    await addRoute(s, { host: "wiki", service: "wiki", namespace: "infra", port: 80, targetPort: 3000 });
  });

  it("6. the kubeconfig's client certificate rotated: the preview replaces nothing", async () => {
    await rotateCredentials(s);
  });

  it("7. the route removed as docs/tunnel.md says: the preview refuses the protected CNAME first; the steps work", async () => {
    await removeRoute(s, "wiki", "wiki.example.com");
  });

  it("8. gateway replicas 2 → 3 updates the Release in place", async () => {
    await scaleGateway(s);
  });

  it("9. a release that cannot get ready fails the up naming it, rolls back, and the next up with the fix succeeds", async () => {
    await unreadyRelease(s);
  });

  it("10. destroy with tunnel.protect false leaves nothing of the stack but the CRDs Helm keeps by design", async () => {
    const left = await destroyLeavesNothing(s);
    const charted = left.filter((name: string) => !name.endsWith(".cilium.io"));
    expect(charted.filter((name: string) => !/\.istio\.io$|^dnsendpoints\.externaldns\.k8s\.io$/.test(name))).toEqual(
      [],
    );
    expect(charted.length).toBe(16);
    engineSummary.figures.push(`worked: CRDs left by design: ${charted.join(", ")}`);
  });
});
