/**
 * What a user sees from the real command lines (npm, node, the CLI): help and argument errors, a kubeconfig that does
 * not exist, an API server that never answers (the doctor runs with the tests' stack file). How long each takes is
 * npm run bench's (scripts/bench.mjs).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../offline/stack-files";
import { startFakeKube, writeKubeconfig, type FakeServer } from "../cli/fake-kube";
import { FIXTURE } from "../support/harness";

interface Exited {
  code: number | null;
  stdout: string;
}

function npmRun(args: string[], env: Record<string, string> = {}): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "-s", ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CLOUDFLARE_API_TOKEN: "", KUBECONFIG: "", ...env, npm_config_update_notifier: "false" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

const servers: FakeServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

describe("the command lines", () => {
  it.each([
    ["preflight", "--help", 0, /^usage: npm run -s preflight -- /],
    ["plan", "--help", 0, /^usage: npm run -s plan -- /],
    ["doctor", "--bogus", 2, /^$/],
  ])("npm run -s %s -- %s exits %i", async (command, flag, code, stdout) => {
    const result = await npmRun([command, "--", flag]);
    expect(result.code).toBe(code);
    expect(result.stdout).toMatch(stdout);
  });

  it("reports a kubeconfig that does not exist, naming it", async () => {
    const missing = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-")), "no-such-kubeconfig");
    const result = await npmRun(["doctor", "--", "--stack-file", FIXTURE, "--json"], { KUBECONFIG: missing });
    const report = JSON.parse(result.stdout) as { checks: { id: string; status: string; message: string }[] };
    expect(report.checks.find((c) => c.id === "kube-api")).toMatchObject({
      status: "fail",
      message: expect.stringContaining(missing),
    });
  });

  it("fails against an API server that never answers, at the --timeout given", async () => {
    const hang = await startFakeKube("hang");
    servers.push(hang);
    const kubeconfig = writeKubeconfig(hang.url, "admin@homecluster");
    const result = await npmRun(["doctor", "--", "--stack-file", FIXTURE, "--timeout", "3", "--json"], {
      KUBECONFIG: kubeconfig,
    });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { checks: { id: string; message: string }[] };
    expect(report.checks.find((c) => c.id === "kube-api")?.message).toMatch(/no answer within 3 s/);
  });
});
