/**
 * `pulumi stack init` and `pulumi config set` rewrite the stack file in the CLI's YAML style (flow maps without inner
 * spaces, `{host: grafana, service: grafana}`); the lint must leave stack files to the CLI.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../offline/stack-files";
import { FIXTURE } from "./support/harness";

const PRETTIER = path.join(PROJECT_ROOT, "node_modules/.bin/prettier");
const written: string[] = [];
afterEach(() => written.splice(0).forEach((file) => fs.rmSync(file, { force: true })));

/** The tests' stack file as the Pulumi CLI writes it back. */
function cliStyle(): string {
  return fs.readFileSync(FIXTURE, "utf8").replace(/\{ /g, "{").replace(/ \}/g, "}");
}

/** `prettier --check` of `text` written to `name` in the project, as npm run lint runs it. */
function prettierCheck(name: string, text: string): { code: number; output: string } {
  const file = path.join(PROJECT_ROOT, name);
  written.push(file);
  fs.writeFileSync(file, text);
  try {
    return { code: 0, output: execFileSync(PRETTIER, ["--check", name], { cwd: PROJECT_ROOT, encoding: "utf8" }) };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { code: failed.status, output: failed.stdout + failed.stderr };
  }
}

describe("the lint and the stack files", () => {
  it("leaves a stack file the Pulumi CLI rewrote alone", () => {
    const text = cliStyle();
    expect(text).toContain(
      "- {host: grafana, service: grafana, namespace: monitoring, port: 80, targetPort: 3000, access: admins}",
    );
    expect(prettierCheck(`Pulumi.cli-rewrite-${process.pid}.yaml`, text).code).toBe(0);
  });

  it("still formats the project's other YAML: the same text under another name fails", () => {
    const { code, output } = prettierCheck(`cli-rewrite-${process.pid}.yaml`, cliStyle());
    expect(code).toBe(1);
    expect(output).toContain(`cli-rewrite-${process.pid}.yaml`);
  });
});
