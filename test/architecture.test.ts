/** The import direction of eslint.config.mjs: a module importing from a layer above its own fails `npm run lint`. */
import * as path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../cli/stack-files";

async function importErrors(file: string, from: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: PROJECT_ROOT });
  const [result] = await eslint.lintText(`import { x } from "${from}";\nexport const y = x;\n`, {
    filePath: path.join(PROJECT_ROOT, file),
  });
  return result!.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("the import direction", () => {
  const up: [string, string][] = [
    ["policies/x.ts", "../components/istio"],
    ["builders/x.ts", "../policies/mesh"],
    ["config/x.ts", "../builders/tunnel-config"],
    ["model/x.ts", "../config/schema"],
    ["crds/x.ts", "../model/routes"],
    ["lib/x.ts", "../index"],
    ["components/x.ts", "../cli/plan"],
    ["components/x.ts", "../test/support/harness"],
    ["contract.ts", "./components/cilium"],
  ];
  it.each(up)("refuses %s importing %s", async (file, from) => {
    expect(await importErrors(file, from)).toEqual([expect.stringMatching(/sits below .*: imports run one way/)]);
  });

  const down: [string, string][] = [
    ["components/x.ts", "../policies/mesh"],
    ["policies/x.ts", "../model/routes"],
    ["config/x.ts", "../model/routes"],
    ["lib/x.ts", "../crds/object"],
    ["contract.ts", "./versions"],
    ["cli/x.ts", "../test/support/mock-runtime"],
  ];
  it.each(down)("lets %s import %s", async (file, from) => {
    expect(await importErrors(file, from)).toEqual([]);
  });
});
