/**
 * `npm run adopt` end to end, in-process, against the fake Kubernetes and Cloudflare APIs holding a Flux-managed
 * setup of the CLI tests' stack (test/cli/Pulumi.cli-test.yaml): Flux's release names, namespaces and cloudflared's
 * Secret left by Kustomizations, a dashboard tunnel with its CNAMEs, Access. The config it prints passes the gate,
 * and preflight then fails while Flux still reconciles what it adopts.
 */
import * as os from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { main as adopt, type AdoptReport } from "../../cli/adopt";
import type { Io } from "../../cli/command";
import { main as preflight } from "../../cli/preflight";
import { defaultVersions } from "../../versions";
import { loadProgram } from "../support/harness";
import { startFakeCloudflare, type AccountState } from "./fake-cloudflare";
import { startFakeKube, writeKubeconfig, type ClusterState, type FakeServer } from "./fake-kube";
import {
  ACCOUNT_ID,
  accountBeforeUp,
  clusterBeforeUp,
  CONTEXT,
  helmSecret,
  namespace,
  readStack,
  STACK,
  STACK_FILE,
  TOKEN,
  TUNNEL_ID,
  variant,
  ZONE_ID,
} from "./fixtures";

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const APP_ID = "5b7c1f36-2d4e-4b8a-9c1d-7e6f5a4b3c2d";
const POLICY_ID = "9e8d7c6b-5a49-4838-a726-1f0e2d3c4b5a";
const RECORD_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const OLD_TUNNEL = "0f0f0f0f-1111-4222-8333-444455556666";
const fluxLabels = (kind: "kustomize" | "helm", name: string) => ({
  [`${kind}.toolkit.fluxcd.io/name`]: name,
  [`${kind}.toolkit.fluxcd.io/namespace`]: "flux-system",
});

/** The cluster as Flux left it: HelmReleases with targetNamespace, the namespaces and cloudflared's Secret. */
function fluxCluster(suspended: boolean): ClusterState {
  const cluster = clusterBeforeUp();
  cluster.secrets.push(
    helmSecret("kube-system", "kube-system-cilium", "cilium", "1.19.2", "deployed", {
      kubeProxyReplacement: "strict",
      debug: { enabled: true },
    }),
    helmSecret("istio-system", "istiod", "istiod", defaultVersions.istio),
    // A release Flux stored in its HelmRelease's namespace: it cannot move to external-dns' in place.
    helmSecret("flux-system", "external-dns-external-dns", "external-dns", "1.15.0"),
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "cloudflared-token", namespace: "cloudflared", labels: fluxLabels("kustomize", "cloudflared") },
      data: { token: Buffer.from("old").toString("base64") },
    },
  );
  cluster.namespaces.push(
    namespace("istio-system", fluxLabels("kustomize", "infra")),
    namespace("cloudflared", fluxLabels("kustomize", "cloudflared")),
  );
  cluster.custom["helm.toolkit.fluxcd.io/v2/helmreleases"] = [
    {
      apiVersion: "helm.toolkit.fluxcd.io/v2",
      kind: "HelmRelease",
      metadata: { name: "cilium", namespace: "kube-system" },
      spec: { targetNamespace: "kube-system", suspend: suspended },
    },
  ];
  cluster.custom["kustomize.toolkit.fluxcd.io/v1/kustomizations"] = ["infra", "cloudflared"].map((name) => ({
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name, namespace: "flux-system" },
    spec: { suspend: suspended },
  }));
  return cluster;
}

/** The account as the dashboard left it: the tunnel with an old rule, a CNAME to it, Access. */
function dashboardAccount(): AccountState {
  const account = accountBeforeUp();
  account.tunnels.push({ id: TUNNEL_ID, name: "homecluster", created_at: "2025-03-01T00:00:00Z", deleted_at: null });
  account.configurations[TUNNEL_ID] = {
    source: "cloudflare",
    version: 3,
    config: {
      ingress: [
        { hostname: "jellyfin.example.com", service: "http://jellyfin.media:8096" },
        { service: "http_status:404" },
      ],
    },
  };
  account.records.push(
    {
      id: RECORD_ID,
      name: "jellyfin.example.com",
      type: "CNAME",
      content: `${OLD_TUNNEL}.cfargotunnel.com`,
      proxied: true,
      comment: null,
    },
    {
      id: "1a1b2c3d4e5f60718293a4b5c6d7e8f9",
      name: "example.com",
      type: "A",
      content: "203.0.113.9",
      proxied: true,
      comment: null,
    },
  );
  account.accessApps = [{ id: APP_ID, name: "ssh", domain: "ssh.example.com", type: "self_hosted" }];
  account.accessPolicies = [{ id: POLICY_ID, name: "admins", decision: "allow" }];
  return account;
}

async function run(
  main: typeof adopt,
  args: string[],
  cluster: ClusterState,
  account: AccountState,
  stackFile = STACK_FILE,
) {
  const kube = await startFakeKube(cluster);
  const cloudflare = await startFakeCloudflare(account);
  servers.push(kube, cloudflare);
  const env = {
    HOME: os.tmpdir(),
    KUBECONFIG: writeKubeconfig(kube.url, CONTEXT),
    CLOUDFLARE_API_TOKEN: TOKEN,
    CLOUDFLARE_BASE_URL: cloudflare.url,
  };
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    loadProgram,
  };
  const code = await main(["--stack", STACK, "--stack-file", stackFile, ...args], env, io);
  return { code, stdout, stderr, requests: [...kube.requests, ...cloudflare.requests] };
}

describe("npm run adopt", () => {
  it("finds each counterpart of what the stack declares, and what the adopting up changes", async () => {
    const result = await run(adopt, ["--json"], fluxCluster(false), dashboardAccount());
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as AdoptReport;
    expect(report.adopt).toEqual({
      releases: { cilium: "kube-system/kube-system-cilium", istiod: "istio-system/istiod" },
      namespaces: ["istio-system", "cloudflared"],
      objects: ["Secret cloudflared/cloudflared-token"],
      tunnel: `${ACCOUNT_ID}/${TUNNEL_ID}`,
      dnsRecords: { "jellyfin.example.com": `${ZONE_ID}/${RECORD_ID}` },
      accessApplications: { "ssh.example.com": `accounts/${ACCOUNT_ID}/${APP_ID}` },
      accessPolicies: { admins: `${ACCOUNT_ID}/${POLICY_ID}` },
    });
    const cilium = report.changes.find((c) => c.startsWith("Helm release kube-system/kube-system-cilium"))!;
    expect(cilium).toContain(`chart cilium 1.19.2 → ${defaultVersions.cilium}`);
    expect(cilium).toMatch(/values dropped: debug\.enabled;/);
    expect(cilium).toMatch(/values changed: kubeProxyReplacement/);
    expect(report.changes).toContain(
      `DNS record jellyfin.example.com CNAME: ${OLD_TUNNEL}.cfargotunnel.com → ${TUNNEL_ID}.cfargotunnel.com; the stack's owner comment`,
    );
    expect(report.changes.find((c) => c.startsWith("tunnel 'homecluster'"))).toContain(
      "rule 1: jellyfin.example.com → http://jellyfin.media:8096 (the stack sets jellyfin.example.com → http://istio-ingress.istio-ingress.svc.cluster.local:80)",
    );
    expect(report.notes).toEqual([
      "flux-system/external-dns-external-dns (chart external-dns) is stored in flux-system, but the stack installs external-dns into external-dns: a Helm release cannot move namespace in place; reinstall it (docs/migration.md, fallback)",
      "example.com has a A record (203.0.113.9): a record's type cannot change in place; delete it right before pulumi up",
    ]);
    // Read-only: every request it sent was a GET.
    expect(result.requests.every((r) => r.startsWith("GET "))).toBe(true);
  });

  it("prints config that, pasted into the stack file, passes the gate and makes preflight check Flux", async () => {
    const text = await run(adopt, [], fluxCluster(false), dashboardAccount());
    expect(text.code).toBe(0);
    const yaml = text.stdout.slice(
      text.stdout.indexOf("  homecluster:adopt:"),
      text.stdout.indexOf("\n\nThe adopting"),
    );
    const pasted = parse(`config:\n${yaml}`) as { config: Record<string, unknown> };
    const file = variant((config) => Object.assign(config, pasted.config));
    const stack = await readStack({ stackFile: file });
    expect(stack.facts.kubernetes.releases.filter((r) => r.adopted).map((r) => `${r.namespace}/${r.release}`)).toEqual([
      "kube-system/kube-system-cilium",
      "istio-system/istiod",
    ]);

    const reconciling = await run(preflight, ["--json"], fluxCluster(false), dashboardAccount(), file);
    const flux = (
      JSON.parse(reconciling.stdout).checks as { id: string; status: string; message: string; fix: string }[]
    ).find((c) => c.id === "kube-flux")!;
    expect(flux.status).toBe("fail");
    expect(flux.message).toContain("release kube-system/kube-system-cilium (HelmRelease kube-system/cilium)");
    expect(flux.message).toContain("Secret cloudflared/cloudflared-token (Kustomization flux-system/cloudflared)");
    expect(flux.fix).toBe(
      "flux suspend helmrelease cilium -n kube-system; flux suspend kustomization infra -n flux-system; flux suspend kustomization cloudflared -n flux-system",
    );
    const suspended = await run(preflight, ["--json"], fluxCluster(true), dashboardAccount(), file);
    const checks = JSON.parse(suspended.stdout).checks as { id: string; status: string; message: string }[];
    expect(checks.find((c) => c.id === "kube-flux")).toMatchObject({ status: "ok" });
    // The adopted tunnel and CNAME are the stack's to take over; the apex A record is still in the way.
    expect(checks.find((c) => c.id === "cloudflare-tunnel-name")).toMatchObject({
      status: "ok",
      message: `'homecluster' (${TUNNEL_ID}) exists, and homecluster:adopt.tunnel takes it over`,
    });
    expect(checks.find((c) => c.id === "cloudflare-dns-collisions")).toMatchObject({
      status: "fail",
      message: "records this stack does not own: example.com A 203.0.113.9",
    });
    // The release Flux stored elsewhere is found under its name (#2116): preflight points at adopt.
    expect(checks.find((c) => c.id === "kube-releases")).toMatchObject({
      status: "fail",
      message:
        "flux-system/external-dns-external-dns (chart external-dns, where the stack installs external-dns) is installed under another name: a second install fights it over every object",
    });
  });
});
