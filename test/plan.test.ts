import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { MOCK_MINTED_TOKEN, MOCK_TUNNEL_TOKEN, PROJECT_ROOT, stackConfig } from "./harness";

const exec = promisify(execFile);

/** Runs `npm run plan` the way a user does (ts-node, no vitest), returning its output and exit code. */
async function plan(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await exec(
      process.execPath,
      [path.join(PROJECT_ROOT, "node_modules/ts-node/dist/bin.js"), "--transpile-only", "scripts/plan.ts", ...args],
      { cwd: PROJECT_ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

describe("npm run plan", () => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-plan-"));
  let result: { stdout: string; stderr: string; code: number };
  beforeAll(async () => {
    result = await plan("--out", outDir);
  }, 60_000);

  it("runs offline with the committed config and groups every resource by component", () => {
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const text = result.stdout;
    expect(text).toMatch(/^Offline plan of stack homecluster/);
    expect(text).toContain("48 resources");
    const componentOrder = [
      "homecluster:networking:Cilium  cilium",
      "homecluster:mesh:IstioAmbient  istio",
      "homecluster:mesh:MeshPolicies  mesh",
      "homecluster:mesh:IngressRoutes  routes",
      "homecluster:cloudflare:Tunnel  tunnel",
      "homecluster:dns:ExternalDns  external-dns",
    ].map((heading) => text.indexOf(`\n${heading}\n`));
    expect(componentOrder.every((index) => index > 0)).toBe(true);
    expect([...componentOrder].sort((a, b) => a - b)).toEqual(componentOrder);
    for (const resource of [
      "cilium-release",
      "istio-gateway",
      "mesh-allow-nothing",
      "routes-gateway",
      "tunnel-dns-apex",
    ]) {
      expect(text).toContain(` ${resource}`);
    }
  });

  it("starts with the preconditions of an up: the namespaces that must exist and why, then the rest", () => {
    const text = result.stdout;
    const section = text.slice(text.indexOf("Preconditions of pulumi up"), text.indexOf(" resources\n"));
    expect(text.indexOf("Preconditions of pulumi up")).toBeLessThan(text.indexOf("Providers"));
    expect(section).toMatch(
      /Namespaces that must exist:\n\s+monitoring\s+homecluster:istio\.meshNamespaces \(ambient label\), homecluster:routes\[0\] \(VirtualService, allow\)\n\s+media\s+.*homecluster:istio\.allow\[0\]\n\s+infra\s+homecluster:istio\.meshNamespaces \(ambient label\), homecluster:routes\[3\] \(allow\)\n/,
    );
    // Namespaces the stack creates itself are not preconditions.
    expect(section).not.toMatch(/^\s+(cloudflared|istio-ingress|istio-system|external-dns)\s/m);
    expect(section).toContain("- kube context 'admin@homecluster' exists in $KUBECONFIG or ~/.kube/config");
    expect(section).toContain("no tunnel named 'homecluster' exists in the account");
  });

  it("shows each release's chart, version, repo and values", () => {
    expect(result.stdout).toContain("chart cilium 1.20.0 from https://helm.cilium.io → release kube-system/cilium");
    expect(result.stdout).toContain(
      "chart gateway 1.30.3 from https://istio-release.storage.googleapis.com/charts → release istio-ingress/istio-ingress",
    );
    expect(result.stdout).toMatch(/socketLB:\n\s+hostNamespaceOnly: true/);
  });

  it("prints the routes table and the outputs", () => {
    expect(result.stdout).toMatch(
      /grafana\.example\.com\s+http:\/\/istio-ingress\.istio-ingress\.svc\.cluster\.local:80\s+istio-ingress\/public\s+grafana\.monitoring\.svc\.cluster\.local:80\s+monitoring\/allow-gateway-to-grafana/,
    );
    expect(result.stdout).toMatch(
      /ssh\.example\.com\s+ssh:\/\/bastion\.infra\.svc\.cluster\.local:22\s+—\s+\(direct\)\s+infra\/allow-cloudflared-to-ssh/,
    );
    expect(result.stdout).toMatch(/\(anything else\)\s+http_status:404/);
    expect(result.stdout).toMatch(/\nOutputs\n {2}domain:\n {4}example\.com\n/);
  });

  it("shows secrets as [secret] and never their values", () => {
    expect(result.stdout).toContain('tunnelSecret: "[secret]"');
    expect(result.stdout).toContain('apiToken: "[secret]"');
    for (const secret of [MOCK_TUNNEL_TOKEN, MOCK_MINTED_TOKEN, "plan-placeholder-cloudflareApiToken"]) {
      expect(result.stdout).not.toContain(secret);
    }
  });

  it("writes the Helm values and the objects as files with --out", () => {
    const cilium = fs.readFileSync(path.join(outDir, "helm/cilium.values.yaml"), "utf8");
    expect(cilium).toMatch(/^# cilium: chart cilium 1\.20\.0 from https:\/\/helm\.cilium\.io, namespace kube-system\n/);
    expect(cilium).toContain("kubeProxyReplacement: true");
    const deny = fs.readFileSync(
      path.join(outDir, "kubernetes/istio-system/AuthorizationPolicy-mesh-allow-nothing.yaml"),
      "utf8",
    );
    expect(deny).toContain("kind: AuthorizationPolicy");
    const secret = fs.readFileSync(path.join(outDir, "kubernetes/cloudflared/Secret-tunnel-token.yaml"), "utf8");
    expect(secret).toContain("[secret]");
    expect(secret).not.toContain(MOCK_TUNNEL_TOKEN);
    expect(fs.readFileSync(path.join(outDir, "plan.txt"), "utf8")).toBe(result.stdout.split("\nWrote the plan")[0]);
  });

  it("fails on bad config with the same one-line message as pulumi preview", async () => {
    const file = path.join(outDir, "Pulumi.bad.yaml");
    const config = { ...stackConfig(), domain: "not a domain" };
    fs.writeFileSync(
      file,
      stringify({ config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`homecluster:${k}`, v])) }),
    );
    const bad = await plan("--stack-file", file);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toBe(
      "error: Invalid configuration: homecluster:domain: must be a lower-case DNS name such as example.com (no scheme, no trailing dot)\n",
    );
  }, 60_000);

  it("rejects an unknown option with its usage", async () => {
    const bad = await plan("--bogus", "x");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      "usage: npm run plan [-- --stack NAME] [--stack-file FILE] [--out DIR] (unknown option '--bogus')\n",
    );
  }, 60_000);
});
