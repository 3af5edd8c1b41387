/**
 * How the Pulumi CLI runs the program: its nodejs language host starts @pulumi/pulumi's cmd/run, which registers
 * ts-node with this project's tsconfig.json. The program is type-checked by npm test and CI, so a preview or an up
 * transpiles only (issue: 5 of an 8 s preview was type-checking).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../offline/stack-files";

const RUN_JS = path.join(PROJECT_ROOT, "node_modules/@pulumi/pulumi/cmd/run/run.js");

/** ts-node as cmd/run registers it, `transpileOnly` taken from PULUMI_NODEJS_TRANSPILE_ONLY as cmd/run reads it. */
function tsNodeAsPulumiRunsIt(env: string | undefined) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- ts-node is CommonJS, loaded as cmd/run loads it
  const tsNode = require("ts-node") as typeof import("ts-node");
  return tsNode.create({
    compiler: "typescript",
    transpileOnly: env ? env === "true" : undefined,
    project: path.join(PROJECT_ROOT, "tsconfig.json"),
    skipProject: false,
    compilerOptions: {},
    cwd: PROJECT_ROOT,
  });
}

describe("the program under the Pulumi CLI", () => {
  it("is the cmd/run this test mimics: transpileOnly from the environment, else the tsconfig's noCheck", () => {
    const runJs = fs.readFileSync(RUN_JS, "utf8");
    expect(runJs).toContain('const transpileOnlyEnv = process.env["PULUMI_NODEJS_TRANSPILE_ONLY"];');
    expect(runJs).toContain("transpileOnly = compilerOptions.noCheck;");
    expect(runJs).toContain("project: tsConfigPath,");
    expect(runJs).toContain("skipProject: skipProject,");
  });

  it("transpiles only: a type error does not stop it", () => {
    const service = tsNodeAsPulumiRunsIt(undefined);
    expect(service.options.transpileOnly).toBe(true);
    const output = service.compile(
      "const port: number = 'eighty';\nexport { port };\n",
      path.join(PROJECT_ROOT, "x.ts"),
    );
    expect(output).toContain("const port = 'eighty';");
  });

  it("type-checks again with PULUMI_NODEJS_TRANSPILE_ONLY=false", () => {
    const service = tsNodeAsPulumiRunsIt("false");
    expect(() =>
      service.compile("const port: number = 'eighty';\nexport { port };\n", path.join(PROJECT_ROOT, "y.ts")),
    ).toThrow(/TS2322: Type 'string' is not assignable to type 'number'/);
  });
});
