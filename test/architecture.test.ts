/** The import direction of eslint.config.mjs: every form of import that reaches up, or into tests, fails the lint. */
import * as path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../offline/stack-files";

const eslint = new ESLint({ cwd: PROJECT_ROOT });

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(PROJECT_ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === "homecluster/layers").map((m) => m.message);
}

const importing = (from: string) => `import { x } from "${from}";\nexport const y = x;\n`;

describe("the import direction", () => {
  const up: [string, string][] = [
    ["policies/x.ts", "../components/istio"],
    ["builders/x.ts", "../policies/mesh"],
    ["config/x.ts", "../builders/tunnel-config"],
    ["model/x.ts", "../config/schema"],
    ["crds/x.ts", "../model/routes"],
    ["lib/x.ts", "../index"],
    ["lib/x.ts", "../index.js"],
    ["components/x.ts", "../cli/plan"],
    ["components/x.ts", "../offline/mock-runtime"],
    ["contract.ts", "./components/cilium"],
    ["index.ts", "./offline/graph"],
    ["offline/x.ts", "../index"],
    // The CLI: commands → checks → clients; only cli/stack reaches into the program.
    ["cli/x.ts", "../config/schema"],
    ["cli/x.ts", "../offline/graph"],
    ["cli/checks/kubernetes/x.ts", "../../../model/routes"],
    ["cli/checks/x.ts", "../../components/istio"],
    ["cli/checks/x.ts", "../doctor"],
    ["cli/clients/x.ts", "../checks/check"],
    ["cli/clients/x.ts", "../stack/facts"],
    ["cli/stack/x.ts", "../checks/check"],
    ["cli/stack/x.ts", "../plan"],
    // A path that climbs out and back in is resolved, not trusted.
    ["cli/clients/x.ts", "../../cli/checks/check"],
    ["model/x.ts", "./../lib/../config/schema"],
  ];
  it.each(up)("refuses %s importing %s", async (file, from) => {
    expect(await layerErrors(file, importing(from))).toEqual([
      expect.stringMatching(/ cannot import .*: .* may import only .*\(imports run one way/),
    ]);
  });

  const intoTests: [string, string][] = [
    ["components/x.ts", "../test/support/harness"],
    ["cli/x.ts", "../test/cli/fixtures"],
    ["offline/x.ts", "../test/support/fixtures"],
    ["cli/stack/x.ts", "../../examples/app-stack/index"],
  ];
  it.each(intoTests)("refuses %s importing %s", async (file, from) => {
    expect(await layerErrors(file, importing(from))).toEqual([
      expect.stringMatching(/the product never imports (test|examples) code/),
    ]);
  });

  it.each([
    ["a dynamic import", 'export const m = import("../cli/plan.js");'],
    ["require", 'export const m = require("../cli/plan");'],
    ["require.resolve", 'export const m = require.resolve("../cli/plan");'],
    ["import = require", 'import m = require("../cli/plan");\nexport const n = m;'],
    ["a type import", 'export type T = import("../cli/plan").X;'],
    ["a re-export", 'export { x } from "../cli/plan";'],
    ["a star re-export", 'export * from "../cli/plan";'],
    ["a template literal", "export const m = import(`../cli/plan.js`);"],
  ])("refuses %s from a lower layer", async (_form, code) => {
    expect(await layerErrors("components/x.ts", code)).toEqual([
      expect.stringMatching(/^components cannot import \.\.\/cli\/plan/),
    ]);
  });

  it("refuses a module path it cannot read", async () => {
    expect(await layerErrors("components/x.ts", "const p = '../cli/plan';\nexport const m = import(p);")).toEqual([
      "components: a module path must be a string literal, so the layer rule can read it.",
    ]);
  });

  const down: [string, string][] = [
    ["components/x.ts", "../policies/mesh"],
    ["components/x.ts", "./component"],
    ["policies/x.ts", "../model/routes"],
    ["config/x.ts", "../model/routes"],
    ["lib/x.ts", "../crds/object"],
    ["contract.ts", "./versions"],
    ["offline/x.ts", "../config/load"],
    ["cli/x.ts", "./checks/check"],
    ["cli/x.ts", "./stack/load"],
    ["cli/checks/kubernetes/x.ts", "../../clients/kube"],
    ["cli/checks/kubernetes/x.ts", "../../stack/facts"],
    ["cli/stack/x.ts", "../../index"],
    ["cli/stack/x.ts", "../../offline/graph"],
    ["test/x.test.ts", "../cli/stack/load"],
    ["test/x.test.ts", "../components/istio"],
  ];
  it.each(down)("lets %s import %s", async (file, from) => {
    expect(await layerErrors(file, importing(from))).toEqual([]);
  });

  it("lets the product import packages", async () => {
    expect(await layerErrors("model/x.ts", importing("zod"))).toEqual([]);
    expect(await layerErrors("cli/clients/x.ts", importing("node:fs"))).toEqual([]);
  });
});
