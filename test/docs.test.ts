/** The documentation stays true: the config reference is what the schema says, links resolve, the README is short. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadStack } from "../cli/stack/load";
import { configReference, REFERENCE_FILE } from "../cli/stack/reference";
import { PROJECT_ROOT, readStackFile } from "../offline/stack-files";
import { FIXTURE, loadProgram, runProgram, TYPES } from "./support/harness";
import { programProblems } from "./support/program-checks";

const docs = fs.readdirSync(path.join(PROJECT_ROOT, "docs")).filter((f) => f.endsWith(".md"));
const read = (file: string) => fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");

/** The relative link targets of a markdown file, without anchors. */
function links(file: string): string[] {
  return [...read(file).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z]+:/.test(target));
}

describe("the documentation", () => {
  it("has the configuration reference the schema generates (run `npm run docs` after changing it)", () => {
    expect(fs.readFileSync(REFERENCE_FILE, "utf8")).toBe(configReference());
  });

  it("keeps the README within 12 KB, linking every page of docs/", () => {
    expect(Buffer.byteLength(read("README.md"))).toBeLessThanOrEqual(12 * 1024);
    const linked = links("README.md");
    expect(docs.filter((doc) => !linked.includes(`docs/${doc}`))).toEqual([]);
  });

  it.each(["README.md", ...docs.map((d) => `docs/${d}`)])("%s links only to files that exist", (file) => {
    const missing = links(file).filter(
      (target) => !fs.existsSync(path.resolve(PROJECT_ROOT, path.dirname(file), target)),
    );
    expect(missing).toEqual([]);
  });

  /** The tests' copy of the worked example with `lines` pasted after its last route, as a user pastes them. */
  function pastedFile(lines: string[]): string {
    const example = fs.readFileSync(FIXTURE, "utf8").split("\n");
    const routesAt = example.indexOf("  homecluster:routes:");
    let last = routesAt + 1;
    while (example[last + 1]?.startsWith("    - ")) last++;
    example.splice(last + 1, 0, ...lines);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-pasted-")), "Pulumi.homecluster.yaml");
    fs.writeFileSync(file, example.join("\n"));
    return file;
  }
  /** That file's stack, read as the CLI reads it. */
  const pasted = async (lines: string[]) =>
    (await loadStack({ stack: "homecluster", stackFile: pastedFile(lines), load: loadProgram })).facts;
  const routeLines = (file: string, heading: string) => {
    const text = read(file);
    const block = text.slice(text.indexOf(heading)).match(/```yaml\n([\s\S]*?)```/)![1]!;
    return block.split("\n").filter((line) => /^ *- \{/.test(line));
  };

  it("has the README's route lines paste into the test stack as they stand, and become what it says", async () => {
    const lines = routeLines("README.md", "## Add a public app: one line");
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => line.startsWith("    - { host: "))).toBe(true);
    const facts = await pasted(lines);
    expect(facts.tunnel.hostnames).toEqual([
      "grafana.example.com",
      "jellyfin.example.com",
      "example.com",
      "ssh.example.com",
      "wiki.example.com",
      "nas-admin.example.com",
      // The wildcard is matched last, wherever its line is.
      "*.example.com",
    ]);
    const readme = read("README.md");
    expect(readme).toContain(
      "The `wiki` line becomes the tunnel rule `wiki.example.com →\nhttp://istio-ingress.istio-ingress.svc.cluster.local:80`",
    );
    expect(facts.tunnel.config.ingress.find((rule) => rule.hostname === "wiki.example.com")).toEqual({
      hostname: "wiki.example.com",
      service: "http://istio-ingress.istio-ingress.svc.cluster.local:80",
    });
    const object = (kind: string, name: string) =>
      facts.customObjects.find((o) => o.kind === kind && o.metadata.name === name) as
        { metadata: { namespace?: string }; spec: Record<string, unknown> } | undefined;
    expect(readme).toContain("the Gateway host\n`infra/wiki.example.com`");
    const servers = object("Gateway", "public")!.spec["servers"] as { hosts: string[] }[];
    expect(servers.flatMap((server) => server.hosts)).toContain("infra/wiki.example.com");
    expect(object("VirtualService", "wiki")?.metadata.namespace).toBe("infra");
    const allow = object("AuthorizationPolicy", "allow-gateway-to-wiki")!;
    expect(allow.metadata.namespace).toBe("infra");
    expect(JSON.stringify(allow.spec)).toContain('"ports":["3000"]');
  });

  it("has the README's step 3 (its minimal stack copied) and its pasted route lines pass the program checks", async () => {
    const [, from, to] = /^ *cp (docs\/\S+) (Pulumi\.\S+\.yaml)/m.exec(read("README.md"))!;
    expect([from, to]).toEqual(["docs/Pulumi.new-cluster.yaml", "Pulumi.homecluster.yaml"]);
    const copied = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-cp-")), to!);
    fs.copyFileSync(path.join(PROJECT_ROOT, from!), copied);
    const minimal = await runProgram({ stackFile: readStackFile(copied) });
    expect(programProblems(minimal)).toEqual([]);
    expect(minimal.all(TYPES.tunnelConfig)).toHaveLength(1);
    const withApps = await runProgram({
      stackFile: readStackFile(pastedFile(routeLines("README.md", "## Add a public app: one line"))),
    });
    expect(programProblems(withApps)).toEqual([]);
    expect(withApps.all(TYPES.dnsRecord).map((r) => r.inputs.name)).toEqual(
      expect.arrayContaining(["wiki.example.com", "nas-admin.example.com", "*.example.com"]),
    );
  });

  it("has docs/outputs.md's lines for an application stack's host paste into the test stack", async () => {
    const lines = routeLines("docs/outputs.md", "**Getting the app's host onto the Gateway.**");
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      // Each is an alternative: pasted alone, under the stack file's routes (indented as they are there).
      const facts = await pasted([`    ${line.trimStart()}`]);
      const host = /host: "?([^",]+)"?,/.exec(line)![1]!;
      const hostname = host === "*" ? "*.example.com" : `${host}.example.com`;
      expect(facts.tunnel.hostnames).toContain(hostname);
      const gatewayObject = facts.customObjects.find((o) => o.kind === "Gateway")!;
      const hosts = (gatewayObject.spec as { servers: { hosts: string[] }[] }).servers.flatMap((s) => s.hosts);
      expect(hosts).toContain(`media/${hostname}`);
      expect(facts.customObjects.some((o) => o.kind === "VirtualService" && o.metadata.name === host)).toBe(false);
    }
  });

  it("types every key in the reference, a name-or-list and a literal true included", () => {
    const reference = fs.readFileSync(REFERENCE_FILE, "utf8");
    expect(reference).toContain("| `routes[] (gateway).access` | string or list of string | unset |");
    expect(reference).toContain("| `routes[] (direct).public` | `true` | unset |");
    expect(reference).toContain("| `cilium.lbPool` | list of { cidr } or { start, stop } | **required** |");
  });
});
