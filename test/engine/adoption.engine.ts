/**
 * The engine tier's adoption of a running cluster (docs/migration.md): the simulated cluster starts as a Flux setup
 * leaves it (every chart installed by real Helm under Flux's release names, the stack's namespaces made, a tunnel with
 * its configuration and CNAMEs made in the dashboard), and the stack takes it over without uninstalling anything.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { helmReleases, npmRun } from "./lifecycle";
import { expectOk, previewIsClean, setConfig, stackFile } from "./scenarios";
import { engineStack } from "./setup";
import { engineSummary } from "./summary";
import { chartOf, charts, type Chart } from "../../versions";
import { changed, operate } from "./world";

const execFileAsync = promisify(execFile);

// The user's namespaces, and the ones the stack would create, which Flux made.
const s = engineStack("adopt", ["monitoring", "media"]);
const FLUX_NAMESPACES = ["istio-system", "istio-ingress", "external-dns", "cloudflared"];

/** Flux names a HelmRelease's release `<targetNamespace>-<name>` (no releaseName set). */
const fluxName = (namespace: string, release: string) => `${namespace}-${release}`;

describe("adopting a Flux-managed cluster and a dashboard-made tunnel", () => {
  let releasesBefore: Map<string, { status: string; version: number }>;
  let ciliumTemplate: string;

  it("starts from a cluster where real Helm installed every chart under Flux's names", async () => {
    for (const name of [...s.existing, ...FLUX_NAMESPACES]) {
      await s.kube("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    }
    // The values Flux ran are the ones the stack renders for releases of these names (the gateway's labels follow its
    // release name, and a Deployment's selector cannot change: other labels would fail the adopting upgrade, which
    // docs/migration.md covers). The plan of the stack adopting them gives those values.
    const fluxReleases = Object.fromEntries(
      Object.values(charts).map((c: Chart) => {
        const namespace = c.namespace ?? (c.family === "externalDns" ? "external-dns" : "istio-ingress");
        return [c.releaseName, `${namespace}/${fluxName(namespace, c.releaseName)}`];
      }),
    );
    const plain = s.config;
    setConfig(s, { ...plain, adopt: { releases: fluxReleases } });
    const out = path.join(s.dir, "plan-out");
    const planned = await npmRun(s.world, "plan", ["--stack-file", stackFile(s), "--out", out]);
    setConfig(s, plain);
    expect(planned.status, planned.stdout).toBe(0);
    const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8"));
    const releases = plan.resources.filter((r: any) => r.type === "kubernetes:helm.sh/v3:Release");
    expect(releases.length).toBe(7);
    for (const r of releases) {
      const chart = path.join(process.env["HOMECLUSTER_CHART_DIR"]!, `${r.inputs.chart}-${r.inputs.version}.tgz`);
      expect(r.inputs.name).toBe(fluxName(r.inputs.namespace, chartOf(r.inputs.chart)!.releaseName));
      // Asynchronously: the stand-ins (istiod's webhooks, LB IPAM) answer from this process while Helm waits.
      await execFileAsync(
        s.world.tools.helm,
        [
          "install",
          r.inputs.name,
          chart,
          "--namespace",
          r.inputs.namespace,
          "--values",
          path.join(out, "helm", `${r.inputs.name}.values.yaml`),
          "--wait",
          "--timeout",
          "5m",
          "--kubeconfig",
          s.world.kubeconfig,
        ],
        { env: s.world.env },
      );
    }
    releasesBefore = await helmReleases(s.kube);
    expect([...releasesBefore.values()]).toEqual(releases.map(() => ({ status: "deployed", version: 1 })));
    const cilium = await s.kube("GET", "/apis/apps/v1/namespaces/kube-system/daemonsets/cilium");
    ciliumTemplate = JSON.stringify(cilium.spec.template);

    // The tunnel as the dashboard makes it: its configuration and a proxied CNAME per hostname.
    const api = s.world.cloudflare.url;
    const call = async (method: string, route: string, body: unknown) => {
      const response = await fetch(`${api}${route}`, {
        method,
        headers: { Authorization: `Bearer ${s.world.account.token}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      return ((await response.json()) as { result: any }).result;
    };
    const account = s.world.account.account.id as string;
    const zone = s.world.account.zone.id as string;
    const tunnel = await call("POST", `/accounts/${account}/cfd_tunnel`, {
      name: "homecluster",
      tunnel_secret: Buffer.alloc(32, 7).toString("base64"),
      config_src: "cloudflare",
    });
    const hostnames = ["grafana.example.com", "jellyfin.example.com"];
    await call("PUT", `/accounts/${account}/cfd_tunnel/${tunnel.id}/configurations`, {
      config: {
        ingress: [
          ...hostnames.map((hostname) => ({
            hostname,
            service: "http://istio-ingress.istio-ingress.svc.cluster.local:80",
          })),
          { service: "http_status:404" },
        ],
      },
    });
    for (const name of hostnames) {
      await call("POST", `/zones/${zone}/dns_records`, {
        type: "CNAME",
        name,
        content: `${tunnel.id}.cfargotunnel.com`,
        proxied: true,
        ttl: 1,
      });
    }
  });

  it("npm run adopt prints the config that names every release, namespace, the tunnel and its records", async () => {
    const adopt = await npmRun(s.world, "adopt", ["--json", "--stack-file", stackFile(s)]);
    expect(adopt.status, adopt.stdout).toBe(0);
    const report = JSON.parse(adopt.stdout);
    const tunnel = s.world.account.tunnels[0]!;
    expect(report.adopt.tunnel).toBe(`${s.world.account.account.id}/${tunnel.id}`);
    expect(Object.keys(report.adopt.dnsRecords).sort()).toEqual(["grafana.example.com", "jellyfin.example.com"]);
    expect(Object.values(report.adopt.releases).sort()).toEqual(
      [...releasesBefore.keys()].map((key) => key.replace(/^([^/]+)\/(.*)$/, "$1/$2")).sort(),
    );
    // An existing namespace the stack would create is never taken over unnamed: this provider's create would upsert
    // it into the state (4.34.2 answers AlreadyExists), so preflight refuses the up until the adoption config names it.
    const objectsCheck = async () => {
      const run = await npmRun(s.world, "preflight", ["--json", "--stack-file", stackFile(s)]);
      return JSON.parse(run.stdout.slice(run.stdout.indexOf("{"))).checks.find((c: any) => c.id === "kube-objects");
    };
    const unnamed = await objectsCheck();
    expect(unnamed.status).toBe("fail");
    for (const name of FLUX_NAMESPACES) expect(unnamed.message).toContain(name);
    setConfig(s, { ...s.config, adopt: report.adopt });
    expect(report.adopt.namespaces.sort()).toEqual([...FLUX_NAMESPACES].sort());
    expect((await objectsCheck()).status).toBe("ok");
  });

  it("preflight fails while Flux still reconciles an adopted object, naming it and the flux suspend command", async () => {
    // Flux's CRD (enough of it) and a Kustomization that applied the cloudflared namespace, labelled as Flux labels it.
    await s.kube("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "kustomizations.kustomize.toolkit.fluxcd.io" },
      spec: {
        group: "kustomize.toolkit.fluxcd.io",
        scope: "Namespaced",
        names: {
          kind: "Kustomization",
          plural: "kustomizations",
          singular: "kustomization",
          listKind: "KustomizationList",
        },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          },
        ],
      },
    });
    await s.kube("POST", "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "flux-system" },
    });
    const kustomization = "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations";
    for (let i = 0; i < 50 && !(await s.kube("GET", kustomization).catch(() => undefined)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200)); // until the CRD is served
    }
    await s.kube("POST", kustomization, {
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { name: "infrastructure", namespace: "flux-system" },
      spec: { suspend: false, interval: "10m", path: "./infrastructure", prune: true },
    });
    await s.kube(
      "PATCH",
      "/api/v1/namespaces/cloudflared",
      {
        metadata: {
          labels: {
            "kustomize.toolkit.fluxcd.io/name": "infrastructure",
            "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
          },
        },
      },
      "application/merge-patch+json",
    );
    const fluxCheck = async () => {
      const run = await npmRun(s.world, "preflight", ["--json", "--stack-file", stackFile(s)]);
      return JSON.parse(run.stdout.slice(run.stdout.indexOf("{"))).checks.find((c: any) => c.id === "kube-flux");
    };
    const active = await fluxCheck();
    expect(active.status).toBe("fail");
    expect(active.message).toContain("Namespace cloudflared");
    expect(active.message).toContain("Kustomization flux-system/infrastructure");
    expect(active.fix).toBe("flux suspend kustomization infrastructure -n flux-system");
    // `flux suspend` sets spec.suspend: preflight lets the up go.
    await s.kube(
      "PATCH",
      `${kustomization}/infrastructure`,
      { spec: { suspend: true } },
      "application/merge-patch+json",
    );
    expect((await fluxCheck()).status).toBe("ok");
  });

  it("the preview imports and updates, creates only what did not exist, and replaces and deletes nothing", async () => {
    const preview = await operate(s.world, s.dir, "preview");
    expectOk(preview);
    const steps = changed(preview);
    expect(
      steps.filter((st) => !["import", "update", "create"].includes(st.op)).map((st) => `${st.op} ${st.name}`),
    ).toEqual([]);
    const imported = steps.filter((st) => st.op === "import").map((st) => st.name);
    for (const name of [
      "cilium-release",
      "istio-base",
      "istio-istiod",
      "istio-cni",
      "istio-ztunnel",
      "istio-gateway",
    ]) {
      expect(imported).toContain(name);
    }
    expect(imported).toEqual(
      expect.arrayContaining(["tunnel-tunnel", "tunnel-config", "tunnel-dns-grafana", "tunnel-dns-jellyfin"]),
    );
    // Nothing that exists is created: the releases, the namespaces Flux made, the tunnel and its records.
    const created = steps.filter((st) => st.op === "create").map((st) => st.type);
    expect(created.filter((t) => /Release|Namespace$|ZeroTrustTunnel|DnsRecord/.test(t))).toEqual([]);
  });

  it("the up upgrades every release in place (revision + 1, no uninstall), and the next preview is clean", async () => {
    expectOk(await operate(s.world, s.dir, "up"));
    const after = await helmReleases(s.kube);
    for (const [key, before] of releasesBefore) {
      expect(after.get(key), key).toEqual({ status: "deployed", version: before.version + 1 });
    }
    const cilium = await s.kube("GET", "/apis/apps/v1/namespaces/kube-system/daemonsets/cilium");
    const restarted = JSON.stringify(cilium.spec.template) !== ciliumTemplate;
    // Restarted or not, one node at a time.
    expect(cilium.spec.updateStrategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    engineSummary.figures.push(
      `adoption: Cilium's agents ${restarted ? `restarted (pod template changed; updateStrategy ${JSON.stringify(cilium.spec.updateStrategy)})` : "not restarted (pod template unchanged)"}`,
    );
    expect(s.world.account.tunnels.filter((t) => t.deleted_at === null).length).toBe(1);
    await previewIsClean(s);
  });
});
