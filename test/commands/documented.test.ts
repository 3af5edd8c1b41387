/**
 * The command lines the docs give, run as written: through npm and a shell, from a directory of the project's own
 * files, so what npm prints around a command is part of what is tested (a `> base.json` holding npm's banner is the
 * bug this guards against).
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Plan } from "../../cli/stack/plan-model";
import { PROJECT_ROOT } from "../../offline/stack-files";
import { startFakeCloudflare } from "../cli/fake-cloudflare";
import { startFakeKube, writeKubeconfig, type FakeServer } from "../cli/fake-kube";
import { healthyAccount, healthyCluster, TOKEN } from "../cli/fixtures";
import { FIXTURE } from "../support/harness";

const exec = promisify(execFile);

/** The lines of a doc's sh blocks, comments cut off. */
function commandLines(doc: string): string[] {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, doc), "utf8");
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((block) => block[1]!.split("\n"))
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter(Boolean);
}

/** The one line of `doc` that contains `part`. */
function documented(doc: string, part: string): string {
  const lines = commandLines(doc).filter((line) => line.includes(part));
  expect(lines, `${doc}: one command line with ${part}`).toHaveLength(1);
  return lines[0]!;
}

let workdir: string;
beforeAll(() => {
  // A user's clone, with a directory of its own to write into: every top-level entry of the project, linked, but
  // the stack file, which is the tests' own (the project's is the user's).
  workdir = fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-clone-"));
  for (const entry of fs.readdirSync(PROJECT_ROOT).filter((e) => e !== ".git" && !/^Pulumi\..+\.yaml$/.test(e))) {
    fs.symlinkSync(path.join(PROJECT_ROOT, entry), path.join(workdir, entry));
  }
  fs.copyFileSync(FIXTURE, path.join(workdir, path.basename(FIXTURE)));
});

const servers: FakeServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function shell(line: string, env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec("sh", ["-c", line], {
      cwd: workdir,
      env: { ...process.env, ...env, npm_config_update_notifier: "false" },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("the documented command lines", () => {
  it("docs/plan.md: --json > base.json writes a plan that --diff base.json reads", async () => {
    const write = documented("docs/plan.md", "--json > base.json");
    expect(write).toBe("npm run -s plan -- --json > base.json");
    expect(await shell(write)).toMatchObject({ code: 0, stderr: "" });
    const plan = JSON.parse(fs.readFileSync(path.join(workdir, "base.json"), "utf8")) as Plan;
    expect(plan.stack).toBe("homecluster");
    expect(plan.resources.find((r) => r.name === "cilium-release")?.inputs).toMatchObject({ chart: "cilium" });
    const diff = await shell(documented("docs/plan.md", "--diff base.json"));
    expect(diff).toMatchObject({ code: 0, stderr: "" });
    expect(diff.stdout).toMatch(/^Offline plan diff: 0 added, 0 removed, 0 changed \(0 replaced\) of \d+ resources\n/);
  }, 60_000);

  it("docs/troubleshooting.md: doctor --json | jq . gets JSON", async () => {
    const line = documented("docs/troubleshooting.md", "--json | jq .");
    expect(line).toBe("npm run -s doctor -- --json | jq .");
    const kube = await startFakeKube(await healthyCluster());
    const cloudflare = await startFakeCloudflare(healthyAccount());
    servers.push(kube, cloudflare);
    const result = await shell(line, {
      KUBECONFIG: writeKubeconfig(kube.url, "admin@homecluster"),
      CLOUDFLARE_API_TOKEN: TOKEN,
      CLOUDFLARE_BASE_URL: cloudflare.url,
    });
    // jq exits 0 only on JSON; doctor's own exit code (some checks fail: the fake cluster is the CLI tests' stack's)
    // is not what is tested here.
    expect(result.stderr).toBe("");
    const report = JSON.parse(result.stdout) as { checks: { id: string }[] };
    expect(report.checks.map((c) => c.id)).toContain("kube-api");
  }, 60_000);
});
