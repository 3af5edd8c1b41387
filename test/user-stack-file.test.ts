/**
 * The user's stack files: Pulumi.<stack>.yaml beside Pulumi.yaml is theirs (in a fresh clone, the worked example;
 * then their cluster's config, with their encrypted secrets). This is the one test that reads them, and it says
 * nothing about their values: each passes the Pulumi CLI's config gate and the program runs with it, offline as
 * `npm run plan` runs it (secrets, which only the user's passphrase decrypts, as placeholders).
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT, stackFilePath } from "../offline/stack-files";
import { runStackOffline } from "../offline/stack-run";
import { loadProgram } from "./support/harness";

const stacks = fs.readdirSync(PROJECT_ROOT).flatMap((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1] ?? []);

describe("the user's stack files", () => {
  it.each(stacks)("Pulumi.%s.yaml passes the CLI's config gate, and the program runs with it", async (stack) => {
    const offline = await runStackOffline({ stack, load: loadProgram });
    expect(offline.stackFile).toBe(stackFilePath(stack));
    // Whatever the config, the program declares its providers and Cilium's release.
    expect(offline.run.resources.map((r) => r.type)).toEqual(
      expect.arrayContaining(["pulumi:providers:kubernetes", "kubernetes:helm.sh/v3:Release"]),
    );
  });
});
