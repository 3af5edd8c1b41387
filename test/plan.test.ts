import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { changes, diffPlans, type PlanDiff } from "../cli/plan-diff";
import type { Plan } from "../cli/stack/plan-model";
import { main } from "../cli/plan";
import { PROJECT_ROOT } from "../offline/stack-files";
import { editStackFile, FIXTURE, loadProgram, fixtureConfig } from "./support/harness";
import { MOCK_MINTED_TOKEN, MOCK_TUNNEL_TOKEN } from "../offline/mock-runtime";

/** Runs the plan command in-process, as `npm run plan -- ...args` would; of the tests' stack unless args name one. */
async function plan(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  let stdout = "";
  let stderr = "";
  const named = args.includes("--stack") || args.includes("--stack-file");
  const code = await main(named ? args : ["--stack-file", FIXTURE, ...args], process.env, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    loadProgram,
  });
  return { stdout, stderr, code };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-plan-"));
/** A stack file: the test stack's config with `overrides` (keys without the prefix). */
function stackFile(name: string, overrides: Record<string, unknown>): string {
  const file = path.join(dir, `Pulumi.${name}.yaml`);
  fs.writeFileSync(file, stringify(editStackFile({ config: {} }, { ...fixtureConfig(), ...overrides })));
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
        "    media       read by mesh-namespace-media, AuthorizationPolicy allow-same-namespace, AuthorizationPolicy allow-gateway-to-jellyfin, AuthorizationPolicy allow-gateway-to-apex, AuthorizationPolicy allow-from-monitoring.prometheus, VirtualService jellyfin, VirtualService apex, patched by mesh-enrol-media",
        "    infra       read by mesh-namespace-infra, AuthorizationPolicy allow-same-namespace, AuthorizationPolicy allow-cloudflared-to-ssh, patched by mesh-enrol-infra",
        "  - kube context",
      ].join("\n"),
    );
    expect(section("Warnings")).toContain(
      "homecluster:istio.gateway.serviceType is LoadBalancer: every gateway route is also served on the LAN at 192.168.1.225",
    );
  });

  it("marks no resource as replaced: a plan creates everything (how one is replaced is the diff's to say)", () => {
    expect(text).toContain("+ ZeroTrustTunnelCloudflared tunnel-tunnel  [protected]");
    expect(text).not.toContain("replaced");
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
  // The test stack's plan, the base every head here is compared with.
  const base = path.join(dir, "base.json");
  beforeAll(async () => fs.writeFileSync(base, (await plan("--json")).stdout));

  /** The diff from the test stack to it with `overrides`, as text and as data. */
  async function diffTo(
    name: string,
    overrides: Record<string, unknown>,
    from = base,
  ): Promise<{ text: string; diff: PlanDiff }> {
    const head = stackFile(name, overrides);
    const args = ["--stack", "homecluster", "--stack-file", head, "--diff", from];
    const [text, json] = [await plan(...args), await plan(...args, "--json")];
    expect([text.code, text.stderr, json.code, json.stderr]).toEqual([0, "", 0, ""]);
    return { text: text.stdout, diff: JSON.parse(json.stdout) as PlanDiff };
  }
  const routes = fixtureConfig().routes as Record<string, unknown>[];
  const ssh = routes.find((route) => route.host === "ssh")!;
  const books = { host: "books", service: "calibre", namespace: "media", port: 8083 };
  /** Each changed resource's name and changes, as the JSON holds them. */
  const changed = (diff: PlanDiff) => diff.changed.map((c) => ({ name: c.resource.name, changes: c.changes }));

  it("shows what a change does between two --json plans: added, removed and changed inputs per resource", async () => {
    const head = stackFile("head", {
      routes: [...routes.slice(1), books],
      cilium: { ...(fixtureConfig().cilium as object), hubbleUi: false },
    });
    const out = path.join(dir, "head-out");
    const result = await plan("--stack", "homecluster", "--stack-file", head, "--diff", base, "--out", out);
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^Offline plan diff: 3 added, 6 removed, 3 changed \(0 replaced\) of \d+ resources$/);
    expect(lines).toContain(
      "  - ZeroTrustAccessApplication access-app-grafana  (homecluster:cloudflare:Access access)  [protected: the up will stop here]",
    );
    // What a protected removal needs, before the up that would stop half-way.
    expect(lines).toContain(
      "Removing access-app-grafana, tunnel-dns-grafana, protected: an up would stop there with the rest applied.",
    );
    expect(lines).toContain(
      "  pulumi config set --path tunnel.protect false && pulumi up; then remove them and pulumi up (docs/tunnel.md)",
    );
    expect(lines).toContain("  + VirtualService routes-books  (homecluster:mesh:IngressRoutes routes)");
    expect(lines).toContain("  ~ Release cilium-release  (homecluster:networking:Cilium cilium)");
    expect(lines).toContain("      values.hubble.ui.enabled: true → false");
    // The Gateway's hosts are a set: grafana's goes, books' comes, jellyfin's stays where it was.
    expect(lines).toContain('      - spec.servers[port.name=http].hosts["monitoring/grafana.example.com"]');
    expect(lines).toContain('      + spec.servers[port.name=http].hosts["media/books.example.com"]');
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

  it("matches list items by identity: a route inserted before another adds its own and changes no other", async () => {
    const at = routes.indexOf(ssh);
    const { text, diff } = await diffTo("inserted", { routes: [...routes.slice(0, at), books, ...routes.slice(at)] });
    // Its tunnel rule, CNAME, Gateway host, VirtualService and allow; ssh's rule, after it, is untouched.
    expect(diff.added.map((r) => r.name)).toEqual(["mesh-allow-gateway-to-books", "routes-books", "tunnel-dns-books"]);
    expect(diff.removed).toEqual([]);
    const rule = { hostname: "books.example.com", service: "http://istio-ingress.istio-ingress.svc.cluster.local:80" };
    expect(changed(diff)).toEqual([
      {
        name: "routes-gateway",
        changes: [
          {
            path: 'spec.servers[port.name=http].hosts["media/books.example.com"]',
            after: "media/books.example.com",
            item: "added",
          },
        ],
      },
      {
        name: "tunnel-config",
        changes: [{ path: "config.ingresses[hostname=books.example.com]", after: rule, item: "added" }],
      },
    ]);
    const target = "istio-ingress/istio-ingress:80 → calibre.media.svc.cluster.local:8083";
    expect(diff.outputs).toEqual([
      { path: 'publicHostnames["books.example.com"]', after: "books.example.com", item: "added" },
      {
        path: "routes[hostname=books.example.com]",
        after: { hostname: "books.example.com", kind: "gateway", target },
        item: "added",
      },
    ]);
    expect(text.slice(text.indexOf("\nResources\n"))).toBe(
      [
        "",
        "Resources",
        // What each added resource holds, as pulumi preview --diff shows a create: the allow's port among it.
        "  + AuthorizationPolicy mesh-allow-gateway-to-books  (homecluster:mesh:MeshPolicies mesh)",
        "      metadata:",
        "        name: allow-gateway-to-books",
        "        namespace: media",
        "      spec:",
        "        action: ALLOW",
        "        rules:",
        "          - from:",
        "              - source:",
        "                  principals:",
        "                    - cluster.local/ns/istio-ingress/sa/istio-ingress",
        "            to:",
        "              - operation:",
        "                  ports:",
        '                    - "8083"',
        "  + VirtualService routes-books  (homecluster:mesh:IngressRoutes routes)",
        "      metadata:",
        "        labels:",
        '          homecluster.io/tunnel-route: "true"',
        "        name: books",
        "        namespace: media",
        "      spec:",
        "        gateways:",
        "          - istio-ingress/public",
        "        hosts:",
        "          - books.example.com",
        "        http:",
        "          - route:",
        "              - destination:",
        "                  host: calibre.media.svc.cluster.local",
        "                  port:",
        "                    number: 8083",
        "  + DnsRecord tunnel-dns-books  (homecluster:cloudflare:Tunnel tunnel)  [protected]",
        "      comment: Cloudflare Tunnel route of Pulumi stack homecluster/homecluster; do not edit by hand",
        '      content: "[computed]"',
        "      name: books.example.com",
        "      proxied: true",
        "      ttl: 1",
        "      type: CNAME",
        "      zoneId: fedcba9876543210fedcba9876543210",
        "  ~ Gateway routes-gateway  (homecluster:mesh:IngressRoutes routes)",
        '      + spec.servers[port.name=http].hosts["media/books.example.com"]',
        "  ~ ZeroTrustTunnelCloudflaredConfig tunnel-config  (homecluster:cloudflare:Tunnel tunnel)",
        `      + config.ingresses[hostname=books.example.com]: ${JSON.stringify(rule)}`,
        "",
        "Outputs",
        '  + publicHostnames["books.example.com"]',
        `  + routes[hostname=books.example.com]: ${JSON.stringify({ hostname: "books.example.com", kind: "gateway", target })}`,
        "",
      ].join("\n"),
    );
  });

  it("inserting an entry at the top of every config list adds that entry's resources and replaces none", async () => {
    const tls = [{ number: 443, protocol: "TLS", name: "tls" }];
    const { cilium, istio, access } = fixtureConfig() as Record<string, Record<string, unknown[]>>;
    const lists = {
      cilium: cilium!,
      istio: {
        ...istio!,
        mtlsExceptions: [{ namespace: "media", selector: { app: "nfs" }, ports: [2049] }],
        serviceEntries: [{ name: "github", hosts: ["github.com"], ports: tls }],
      },
      access: access!,
      routes,
    };
    const from = path.join(dir, "lists.json");
    fs.writeFileSync(from, (await plan("--stack-file", stackFile("lists", lists), "--json")).stdout);
    const { text, diff } = await diffTo(
      "inserted-first",
      {
        cilium: { ...lists.cilium, lbPool: [{ cidr: "192.168.1.208/28" }, ...lists.cilium.lbPool!] },
        istio: {
          ...lists.istio,
          allow: [{ from: { namespace: "infra" }, to: { namespace: "media", ports: [9000] } }, ...istio!.allow!],
          mtlsExceptions: [{ namespace: "infra", selector: { app: "legacy" } }, ...lists.istio.mtlsExceptions],
          serviceEntries: [{ name: "registry", hosts: ["ghcr.io"], ports: tls }, ...lists.istio.serviceEntries],
        },
        access: { ...lists.access, policies: { ops: { emails: ["ops@example.com"] }, ...lists.access.policies } },
        routes: [books, ...routes],
      },
      from,
    );
    expect(diff.removed).toEqual([]);
    expect(diff.changed.filter((c) => c.replaced)).toEqual([]);
    expect(diff.added.map((r) => r.name).sort()).toEqual([
      "access-policy-ops",
      "mesh-allow-from-infra-to-media",
      "mesh-allow-gateway-to-books",
      "mesh-allow-plaintext-legacy-infra",
      "mesh-mtls-exception-legacy-infra",
      "mesh-service-entry-istio-system-registry",
      "routes-books",
      "tunnel-dns-books",
    ]);
    // The LB pool is one resource: a new block is an in-place update of it, one added item, like the route's host
    // on the Gateway and its tunnel rule.
    expect(changed(diff).map(({ name, changes: found }) => [name, found.map((c) => [c.path, c.item])])).toEqual([
      ["cilium-lb-pool", [["spec.blocks[cidr=192.168.1.208/28]", "added"]]],
      ["routes-gateway", [['spec.servers[port.name=http].hosts["media/books.example.com"]', "added"]]],
      ["tunnel-config", [["config.ingresses[hostname=books.example.com]", "added"]]],
    ]);
    expect(text).toContain('      + spec.blocks[cidr=192.168.1.208/28]: {"cidr":"192.168.1.208/28"}\n');
    // An added resource shows what it holds: the new allow's source and port.
    const allow = text.slice(text.indexOf("  + AuthorizationPolicy mesh-allow-from-infra-to-media"));
    expect(allow.split(/\n {2}[+~-]/)[0]).toMatch(/namespaces:\n\s+- infra[\s\S]*ports:\n\s+- "9000"/);
  });

  it("names a change inside a list item by the item's identity: the ssh route losing Access is that and no more", async () => {
    // A non-HTTP origin without Access must say it is public.
    const unprotect = ({ access: _, ...route }: Record<string, unknown>) => ({ ...route, public: true });
    const { text, diff } = await diffTo("unprotected", {
      routes: routes.map((route) => (route === ssh ? unprotect(route) : route)),
    });
    expect(diff.added).toEqual([]);
    expect(diff.removed.map((r) => r.name)).toEqual(["access-app-ssh"]);
    const access = { audTags: ["[computed]"], required: true, teamName: "[computed]" };
    expect(changed(diff)).toEqual([
      {
        name: "tunnel-config",
        changes: [{ path: "config.ingresses[hostname=ssh.example.com].originRequest", before: { access } }],
      },
    ]);
    expect(diff.outputs).toEqual([]);
    expect(text.split("\n")).toContain(
      `      config.ingresses[hostname=ssh.example.com].originRequest: ${JSON.stringify({ access })} → (unset)`,
    );
  });

  it("shows what an up newly assumes: dropping the last protected route drops the token's Access rights", async () => {
    const { diff } = await diffTo("public", {
      routes: routes.map(({ access: _, ...route }) =>
        String(route.origin ?? "").startsWith("ssh://") ? { ...route, public: true } : route,
      ),
    });
    // Preconditions are sets: the token's Access rights go, each by its permission group, and its sentence changes.
    const gone = diff.preconditions.filter((c) => c.item === "removed").map((c) => c.path);
    expect(gone.filter((p) => p.startsWith("tokenNeeds"))).toEqual([
      "tokenNeeds[group=Access: Apps and Policies Write]",
      "tokenNeeds[group=Access: Organizations, Identity Providers, and Groups Read]",
    ]);
    const token = (item: "added" | "removed") =>
      diff.preconditions.filter(
        (c) => c.item === item && c.path.startsWith('assumptions["the Cloudflare API token may'),
      );
    expect(token("removed")).toHaveLength(1);
    expect(token("removed")[0]!.before).toContain("Access: Apps and Policies");
    expect(token("added")).toHaveLength(1);
    expect(token("added")[0]!.after).not.toContain("Access");
  });

  it("says where a replacement happens, and how; what an up newly assumes as a set, under its own heading", async () => {
    const jellyfin = routes.find((route) => route.host === "jellyfin")!;
    const { text, diff } = await diffTo("moved", {
      cloudflareAccountId: "99999999999999999999999999999999",
      routes: routes.map((route) => (route === jellyfin ? { ...route, namespace: "infra" } : route)),
    });
    const header = (name: string) => text.split("\n").find((l) => l.includes(` ${name}  (`));
    // A Kubernetes object in another namespace is created there first; the tunnel's name is unique in its account.
    expect(header("routes-jellyfin")).toBe(
      "  +- VirtualService routes-jellyfin  (homecluster:mesh:IngressRoutes routes)  [replaced: create, then delete]",
    );
    expect(header("tunnel-tunnel")).toBe(
      "  +- ZeroTrustTunnelCloudflared tunnel-tunnel  (homecluster:cloudflare:Tunnel tunnel)  [replaced by delete, then create]",
    );
    // The Gateway only changes its hosts: an update.
    expect(diff.changed.find((c) => c.resource.name === "routes-gateway")?.replaced).toBe(false);
    const lines = text.split("\n");
    const preconditions = lines.indexOf(
      "Preconditions of pulumi up (the stack assumes these and creates none of them)",
    );
    expect(preconditions).toBeGreaterThan(0);
    expect(lines).not.toContain("Config");
    // infra now holds jellyfin's objects, media no longer does: each a member of the set that needs the namespace.
    expect(lines).toContain('  + namespaces[name=infra].neededBy["VirtualService jellyfin"]');
    expect(lines).toContain('  - namespaces[name=media].neededBy["VirtualService jellyfin"]');
  });

  it("compares nested inputs path by path, list items by identity where they have one", () => {
    expect(changes({ a: { b: 1 }, c: "x" }, { a: { b: 2 }, d: true })).toEqual([
      { path: "a.b", before: 1, after: 2 },
      { path: "c", before: "x", after: undefined },
      { path: "d", before: undefined, after: true },
    ]);
    // Tunnel rules by hostname, the catch-all (none) among them.
    const catchAll = { service: "http_status:404" };
    expect(
      changes(
        { ingresses: [{ hostname: "a", service: "x" }, catchAll] },
        {
          ingresses: [
            { hostname: "new", service: "y" },
            { hostname: "a", service: "z" },
            { service: "http_status:403" },
          ],
        },
      ),
    ).toEqual([
      { path: "ingresses[hostname=new]", before: undefined, after: { hostname: "new", service: "y" }, item: "added" },
      { path: "ingresses[hostname=a].service", before: "x", after: "z" },
      { path: "ingresses[hostname=(none)].service", before: "http_status:404", after: "http_status:403" },
    ]);
    // Containers and env vars by name; strings as a set, a new order of the same members one change.
    expect(
      changes(
        { containers: [{ name: "app", args: ["run", "--quiet"], env: [{ name: "A", value: "1" }] }] },
        { containers: [{ name: "app", args: ["--quiet", "run", "--debug"], env: [] }] },
      ),
    ).toEqual([
      { path: 'containers[name=app].args["--debug"]', before: undefined, after: "--debug", item: "added" },
      { path: "containers[name=app].args (order)", before: ["run", "--quiet"], after: ["--quiet", "run"] },
      {
        path: "containers[name=app].env[name=A]",
        before: { name: "A", value: "1" },
        after: undefined,
        item: "removed",
      },
    ]);
    // LB pool blocks by their CIDR or their first address, both forms in one pool.
    expect(
      changes(
        { blocks: [{ cidr: "10.0.0.0/28" }, { start: "10.0.1.1", stop: "10.0.1.9" }] },
        { blocks: [{ cidr: "10.0.2.0/28" }, { cidr: "10.0.0.0/28" }, { start: "10.0.1.1", stop: "10.0.1.5" }] },
      ),
    ).toEqual([
      { path: "blocks[cidr=10.0.2.0/28]", before: undefined, after: { cidr: "10.0.2.0/28" }, item: "added" },
      { path: "blocks[start=10.0.1.1].stop", before: "10.0.1.9", after: "10.0.1.5" },
    ]);
    // No identity (a policy's rules; a name two items share; repeated strings): by index.
    expect(changes({ rules: [{ to: 1 }, { to: 2 }] }, { rules: [{ to: 3 }, { to: 2 }] })).toEqual([
      { path: "rules[0].to", before: 1, after: 3 },
    ]);
    const twins = (v: number) => ({
      env: [
        { name: "a", v: 1 },
        { name: "a", v },
      ],
    });
    expect(changes(twins(2), twins(3))).toEqual([{ path: "env[1].v", before: 2, after: 3 }]);
    expect(changes({ args: ["x", "x"] }, { args: ["x", "y"] })).toEqual([{ path: "args[1]", before: "x", after: "y" }]);
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
      preconditions: [],
      warnings: { added: [], removed: [] },
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
