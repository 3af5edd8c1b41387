/** The documentation stays true: the config reference is what the schema says, links resolve, the README is short. */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { configReference, REFERENCE_FILE } from "../cli/stack/reference";
import { PROJECT_ROOT } from "../offline/stack-files";
import { cloudflaredIdentity } from "../builders/cloudflared-workload";
import { tunnelIngressRules } from "../builders/tunnel-config";
import { routeAllow } from "../policies/mesh";
import { gateway, parsedConfig } from "./support/fixtures";
import { stackConfig } from "./support/harness";

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

  it("shows a route example that config accepts (with its namespaces in the mesh), and what it says it becomes", () => {
    const readme = read("README.md");
    const block = /## Add a public app: one line\n\n```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    const routes = (parseYaml(block!) as Record<string, unknown>)["homecluster:routes"] as Record<string, unknown>[];
    expect(routes.map((r) => r.host)).toEqual(["grafana", "@", "*", "ssh"]);
    const istio = stackConfig().istio as { meshNamespaces: string[] };
    const config = parsedConfig({ routes, istio: { ...istio, meshNamespaces: [...istio.meshNamespaces, "web"] } });
    expect(config.routes.map((r) => r.hostname)).toEqual([
      "grafana.example.com",
      "example.com",
      "*.example.com",
      "ssh.example.com",
    ]);
    // "The `grafana` line becomes the tunnel rule … and the allow `allow-gateway-to-grafana` … to port 3000."
    const grafana = config.routes[0]!;
    expect(readme).toContain(
      "The `grafana` line becomes the tunnel rule `grafana.example.com →\nhttp://istio-ingress.istio-ingress.svc.cluster.local:80`",
    );
    expect(tunnelIngressRules([grafana], gateway)[0]).toEqual({
      hostname: "grafana.example.com",
      service: "http://istio-ingress.istio-ingress.svc.cluster.local:80",
    });
    const allow = routeAllow(grafana, gateway, cloudflaredIdentity("cloudflared"))!.object;
    expect(allow.metadata).toEqual({ name: "allow-gateway-to-grafana", namespace: "monitoring" });
    expect(JSON.stringify(allow.spec)).toContain('"ports":["3000"]');
  });

  it("types every key in the reference, a name-or-list and a literal true included", () => {
    const reference = fs.readFileSync(REFERENCE_FILE, "utf8");
    expect(reference).toContain("| `routes[] (gateway).access` | string or list of string | unset |");
    expect(reference).toContain("| `routes[] (direct).public` | `true` | unset |");
    expect(reference).toContain("| `cilium.lbPool` | list of { cidr } or { start, stop } | **required** |");
  });
});
