import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { changes, diffPlans, type PlanDiff } from "../cli/plan-diff";
import type { Plan } from "../cli/stack/plan-model";
import { main } from "../cli/plan";
import { PROJECT_ROOT } from "../offline/stack-files";
import { editStackFile, loadProgram, stackConfig } from "./support/harness";
import { MOCK_MINTED_TOKEN, MOCK_TUNNEL_TOKEN } from "../offline/mock-runtime";

/** Runs the plan command in-process, as `npm run plan -- ...args` would. */
async function plan(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, process.env, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    loadProgram,
  });
  return { stdout, stderr, code };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-plan-"));
/** A stack file: the committed config with `overrides` (keys without the prefix). */
function stackFile(name: string, overrides: Record<string, unknown>): string {
  const file = path.join(dir, `Pulumi.${name}.yaml`);
  fs.writeFileSync(file, stringify(editStackFile({ config: {} }, { ...stackConfig(), ...overrides })));
  return file;
}

describe("npm run plan", () => {
  let text: string;
  beforeAll(async () => {
    const result = await plan();
    expect(result).toMatchObject({ code: 0, stderr: "" });
    text = result.stdout;
  });
  const section = (title: string) => text.slice(text.indexOf(`\n${title}\n`) + 1).split("\n\n")[0]!;

  it("starts with the summary: resources per component, which are protected, how many secrets are redacted", () => {
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^Offline plan of stack homecluster /);
    expect(lines[1]).toBe("Secrets the plan cannot read are placeholders: cloudflareApiToken");
    expect(lines[3]).toMatch(
      /^Summary: \d+ resources in \d+ groups, 7 protected, \d+ secret values shown as \[secret\]$/,
    );
    expect(text).toMatch(/\n {2}homecluster:cloudflare:Tunnel tunnel +\d+ +5\n/);
    expect(text).toMatch(/protected from deletion: .*access-app-grafana.*tunnel-tunnel, tunnel-dns-grafana/);
  });

  it("then the preconditions of an up (the namespaces that must exist first), then the warnings", () => {
    const headings = [
      "\nSummary: ",
      "\nPreconditions of pulumi up",
      "\nWarnings\n",
      "\nRoutes\n",
      "\nproviders\n",
      "\nOutputs\n",
    ].map((heading) => text.indexOf(heading));
    expect(headings.every((at) => at > 0)).toBe(true);
    expect(headings).toEqual([...headings].sort((a, b) => a - b));
    // Read off the program's graph: what reads, patches or writes into each namespace without creating it.
    expect(section("Preconditions of pulumi up (the stack assumes these and creates none of them)")).toContain(
      [
        "  Namespaces that must exist:",
        "    monitoring  read by mesh-namespace-monitoring, AuthorizationPolicy allow-same-namespace, AuthorizationPolicy allow-gateway-to-grafana, VirtualService grafana, patched by mesh-enrol-monitoring",
        "    media       read by mesh-namespace-media, AuthorizationPolicy allow-same-namespace, AuthorizationPolicy allow-gateway-to-jellyfin, AuthorizationPolicy allow-gateway-to-apex, AuthorizationPolicy allow-config-0, VirtualService jellyfin, VirtualService apex, patched by mesh-enrol-media",
        "    infra       read by mesh-namespace-infra, AuthorizationPolicy allow-same-namespace, AuthorizationPolicy allow-cloudflared-to-ssh, patched by mesh-enrol-infra",
        "  - kube context",
      ].join("\n"),
    );
    expect(section("Warnings")).toContain(
      "homecluster:istio.gateway.serviceType is LoadBalancer: every gateway route is also served on the LAN at 192.168.1.225",
    );
  });

  it("prints the routes: hostname → Access → tunnel rule → gateway → backend → allow, catch-all last", () => {
    const routes = section("Routes");
    expect(routes).toMatch(
      /grafana\.example\.com\s+admins\s+http:\/\/istio-ingress\.istio-ingress\.svc\.cluster\.local:80\s+istio-ingress\/public\s+grafana\.monitoring\.svc\.cluster\.local:80\s+monitoring\/allow-gateway-to-grafana/,
    );
    expect(routes).toMatch(
      /ssh\.example\.com\s+admins\s+ssh:\/\/bastion\.infra\.svc\.cluster\.local:22\s+—\s+\(direct\) bastion\.infra:22\s+infra\/allow-cloudflared-to-ssh/,
    );
    expect(routes.split("\n").at(-1)).toMatch(/^\s+\(anything else\)\s+http_status:404$/);
  });

  it("folds Helm values unless --values, and redacts every secret", async () => {
    expect(text).toContain("chart cilium 1.20.0 from https://helm.cilium.io → release kube-system/cilium");
    expect(text).toMatch(/values: \d+ lines \(npm run plan -- --values shows them\)/);
    expect(text).not.toContain("kubeProxyReplacement");
    const full = await plan("--values");
    expect(full.stdout).toMatch(/socketLB:\n\s+hostNamespaceOnly: true/);
    for (const output of [text, full.stdout]) {
      expect(output).toContain('apiToken: "[secret]"');
      // Computed by the providers: unknown before up, as in a real preview.
      expect(output).toContain('tunnelSecret: "[computed]"');
      for (const secret of [MOCK_TUNNEL_TOKEN, MOCK_MINTED_TOKEN, "offline-placeholder-cloudflareApiToken"]) {
        expect(output).not.toContain(secret);
      }
    }
  });

  it("--out writes plan.txt, plan.json, the Helm values and every object as files", async () => {
    const out = path.join(dir, "out");
    expect((await plan("--out", out)).code).toBe(0);
    expect(fs.readFileSync(path.join(out, "helm/cilium.values.yaml"), "utf8")).toContain("kubeProxyReplacement: true");
    expect(
      fs.readFileSync(path.join(out, "kubernetes/istio-system/AuthorizationPolicy-mesh-allow-nothing.yaml"), "utf8"),
    ).toContain("kind: AuthorizationPolicy");
    const secret = fs.readFileSync(path.join(out, "kubernetes/cloudflared/Secret-tunnel-token.yaml"), "utf8");
    expect(secret).toContain('stringData: "[computed]"');
    expect(secret).not.toContain(MOCK_TUNNEL_TOKEN);
    expect(JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")).format).toBe(2);
  });

  it("--out replaces an earlier plan, and refuses any other non-empty directory without touching it", async () => {
    const out = path.join(dir, "again");
    fs.mkdirSync(path.join(out, "kubernetes/gone"), { recursive: true });
    fs.writeFileSync(path.join(out, "plan.json"), "{}");
    expect((await plan("--out", out)).code).toBe(0);
    expect(fs.existsSync(path.join(out, "kubernetes/gone"))).toBe(false);

    const mine = path.join(dir, "mine");
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, "notes.md"), "keep me");
    expect(await plan("--out", mine)).toMatchObject({
      code: 1,
      stderr: `error: --out ${mine}: not empty and holds no earlier plan; name a new or empty directory\n`,
    });
    expect(fs.readdirSync(mine)).toEqual(["notes.md"]);
  });
});

describe("npm run plan -- --diff", () => {
  it("shows what a change does between two --json plans: added, removed and changed inputs per resource", async () => {
    const base = path.join(dir, "base.json");
    fs.writeFileSync(base, (await plan("--json")).stdout);
    const routes = stackConfig().routes as Record<string, unknown>[];
    const head = stackFile("head", {
      routes: [...routes.slice(1), { host: "books", service: "calibre", namespace: "media", port: 8083 }],
      cilium: { ...(stackConfig().cilium as object), hubbleUi: false },
    });
    const out = path.join(dir, "head-out");
    const result = await plan("--stack", "homecluster", "--stack-file", head, "--diff", base, "--out", out);
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^Offline plan diff: 3 added, 6 removed, 3 changed of \d+ resources$/);
    expect(lines).toContain(
      "  - ZeroTrustAccessApplication access-app-grafana  (homecluster:cloudflare:Access access)  [protected: the up will stop here]",
    );
    expect(lines).toContain("  + VirtualService routes-books  (homecluster:mesh:IngressRoutes routes)");
    expect(lines).toContain("  ~ Release cilium-release  (homecluster:networking:Cilium cilium)");
    expect(lines).toContain("      values.hubble.ui.enabled: true → false");
    expect(result.stdout).toContain(
      '      spec.servers[0].hosts[0]: "monitoring/grafana.example.com" → "media/jellyfin.example.com"',
    );
    // --out writes the head's files beside the diff (one run in the pull-request workflow).
    expect(JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")).routes[0].hostname).toBe(
      "jellyfin.example.com",
    );

    const diff = JSON.parse(
      (await plan("--stack", "homecluster", "--stack-file", head, "--diff", base, "--json")).stdout,
    ) as PlanDiff;
    // grafana's VirtualService, CNAME and allow go, with its Access application and the gateway's token check;
    // books' three come; the Gateway, the tunnel config and Cilium change.
    expect(diff.removed.map((r) => r.name).sort()).toEqual([
      "access-app-grafana",
      "mesh-allow-gateway-to-grafana",
      "routes-access-deny",
      "routes-access-jwt",
      "routes-grafana",
      "tunnel-dns-grafana",
    ]);
    expect(diff.added.map((r) => r.name).sort()).toEqual([
      "mesh-allow-gateway-to-books",
      "routes-books",
      "tunnel-dns-books",
    ]);
    expect(diff.changed.map((c) => c.resource.name).sort()).toEqual([
      "cilium-release",
      "routes-gateway",
      "tunnel-config",
    ]);
  });

  it("shows what an up newly assumes: dropping the last protected route drops the token's Access rights", async () => {
    const base = path.join(dir, "base.json");
    fs.writeFileSync(base, (await plan("--json")).stdout);
    const routes = (stackConfig().routes as Record<string, unknown>[]).map(({ access: _, ...route }) =>
      String(route.origin ?? "").startsWith("ssh://") ? { ...route, public: true } : route,
    );
    const head = stackFile("public", { routes });
    const diff = JSON.parse(
      (await plan("--stack", "homecluster", "--stack-file", head, "--diff", base, "--json")).stdout,
    ) as PlanDiff;
    const token = (notes: string[]) => notes.filter((n) => n.startsWith("assumes the Cloudflare API token may"));
    expect(token(diff.notes.removed)).toHaveLength(1);
    expect(token(diff.notes.removed)[0]).toContain("Access: Apps and Policies");
    expect(token(diff.notes.added)).toHaveLength(1);
    expect(token(diff.notes.added)[0]).not.toContain("Access");
  });

  it("compares nested inputs path by path", () => {
    expect(changes({ a: { b: [1, 2] }, c: "x" }, { a: { b: [1, 3] }, d: true })).toEqual([
      { path: "a.b[1]", before: 2, after: 3 },
      { path: "c", before: "x", after: undefined },
      { path: "d", before: undefined, after: true },
    ]);
    const empty: Plan = JSON.parse(
      JSON.stringify({
        format: 1,
        resources: [],
        warnings: [],
        preconditions: { namespaces: [], assumptions: [] },
        outputs: {},
      }),
    );
    expect(diffPlans(empty, empty)).toEqual({
      added: [],
      removed: [],
      changed: [],
      notes: { added: [], removed: [] },
      outputs: [],
    });
  });

  it("refuses a file that is not a plan, naming it", async () => {
    const bogus = path.join(dir, "bogus.json");
    fs.writeFileSync(bogus, '{"resources": 3}');
    expect(await plan("--diff", bogus)).toMatchObject({
      code: 1,
      stderr: `error: ${bogus}: not an offline plan of format 2 (write it with: npm run -s plan -- --json > FILE)\n`,
    });
  });
});

describe("npm run plan's errors: one line naming the key or the file, no stack trace", () => {
  it("on bad config, the message pulumi preview prints", async () => {
    const result = await plan("--stack-file", stackFile("bad", { domain: "not a domain" }));
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "error: Invalid configuration: homecluster:domain: must be a lower-case DNS name such as example.com (no scheme, no trailing dot)\n",
    });
  });

  it("on a missing stack file, and on a YAML error with its line", async () => {
    expect((await plan("--stack", "nosuch")).stderr).toBe(
      `error: ${path.relative(process.cwd(), path.join(PROJECT_ROOT, "Pulumi.nosuch.yaml"))}: no such file\n`,
    );
    const broken = path.join(dir, "Pulumi.broken.yaml");
    fs.writeFileSync(broken, "config:\n  homecluster:domain: [unclosed\n");
    const result = await plan("--stack-file", broken);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `error: ${broken}:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]\n`,
    );
  });

  it("on a bad option: the usage, exit 2; --help prints it", async () => {
    const bad = await plan("--bogus");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: unknown option '--bogus'\n\nusage: npm run -s plan -- /);
    expect((await plan("--help")).stdout).toMatch(/--diff OLD\.json {4}print what changes from an earlier --json plan/);
  });
});

describe("npm run plan as a user runs it (outside vitest)", () => {
  it("prints the plan of the committed stack", async () => {
    const { stdout } = await promisify(execFile)("npm", ["run", "-s", "plan", "--", "--json"], {
      cwd: PROJECT_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const parsed = JSON.parse(stdout) as Plan;
    expect(parsed.stack).toBe("homecluster");
    expect(parsed.resources.find((r) => r.name === "cilium-release")?.inputs).toMatchObject({ chart: "cilium" });
  }, 60_000);
});
