/**
 * The Pulumi CLI's config gates (ported in cli/pulumi-config-gate.ts): each rule with a passing and a failing case,
 * then the project's own Pulumi.yaml with the tests' stack file and the ones docs/ gives, the minimal one for a new
 * cluster included, which must pass and then run under mocks. The user's own stack file is user-stack-file.test.ts'.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  applyProjectConfig,
  loadProjectConfig,
  missingConfigKeys,
  validateConfigValue,
  type ProjectFile,
} from "../offline/config-gate";
import { PROJECT_ROOT, readProjectFile, readStackFile } from "../offline/stack-files";
import { cliConfig, decrypt, editStackFile, encrypt, FIXTURE, runProgram, runProgramError } from "./support/harness";

const project = (config: Record<string, unknown>): ProjectFile => ({ name: "p", config });
const gate = (config: Record<string, unknown>, stack: Record<string, unknown> = {}) =>
  applyProjectConfig(project(config), "dev", { config: stack }, decrypt);

describe("Project.Validate (sdk/go/common/workspace/project.go)", () => {
  it("accepts long and short forms, an untyped secret with a default, and objects on untyped keys", () => {
    expect(
      loadProjectConfig(
        project({
          name: "default-name",
          size: 3,
          tags: ["a"],
          token: { secret: true, default: "" },
          network: { description: "an object", default: { a: 1 } },
          "aws:region": { value: "eu-west-1" },
        }),
      ),
    ).toEqual({
      name: { default: "default-name" },
      size: { default: 3 },
      tags: { default: ["a"] },
      token: { secret: true, default: "" },
      network: { description: "an object", default: { a: 1 } },
      "aws:region": { value: "eu-west-1" },
    });
  });

  const failures: [string, Record<string, unknown>, string][] = [
    [
      "default and value together",
      { k: { default: "a", value: "b" } },
      "project config 'k' cannot have both a 'default' and 'value' attribute",
    ],
    [
      "an array without items",
      { k: { type: "array" } },
      "The configuration key 'k' declares an array but does not specify the underlying type via the 'items' attribute",
    ],
    [
      "a number default for a string",
      { k: { type: "string", default: 80 } },
      "The default value specified for configuration key 'k' is not of the expected type 'string'",
    ],
    [
      "a word default for an integer",
      { k: { type: "integer", default: "eighty" } },
      "is not of the expected type 'integer'",
    ],
    ["'yes' for a boolean", { k: { type: "boolean", default: "yes" } }, "is not of the expected type 'boolean'"],
    [
      "numbers for array<string>",
      { k: { type: "array", items: { type: "string" }, default: [1] } },
      "is not of the expected type 'array<string>'",
    ],
    [
      "a typed key of another namespace",
      { "aws:region": { type: "string", value: "x" } },
      "Configuration key 'aws:region' is not namespaced by the project and should not define a type",
    ],
    [
      "a key of another namespace without value",
      { "aws:region": { description: "x" } },
      "Configuration key 'aws:region' is namespaced and must provide an attribute 'value'",
    ],
    [
      "an unknown attribute",
      { k: { type: "string", secure: true } },
      "#/config/k: additionalProperties 'secure' not allowed",
    ],
    [
      "an unknown type",
      { k: { type: "number" } },
      `#/config/k/type: value must be one of "string", "integer", "boolean", "array", "object"`,
    ],
    ["a float shorthand", { k: 1.5 }, "#/config/k: oneOf failed"],
  ];
  it.each(failures)("refuses %s", (_what, config, message) => {
    expect(() => loadProjectConfig(project(config))).toThrow(message);
  });

  it("checks values as Go does: integers from strings too, booleans only as true/false", () => {
    expect(validateConfigValue("integer", undefined, "80")).toBe(true);
    expect(validateConfigValue("integer", undefined, 80)).toBe(true);
    expect(validateConfigValue("integer", undefined, "1.5")).toBe(false);
    expect(validateConfigValue("boolean", undefined, "true")).toBe(true);
    expect(validateConfigValue("boolean", undefined, "True")).toBe(false);
    expect(validateConfigValue("array", { type: "integer" }, [1, "2"])).toBe(true);
    expect(validateConfigValue("array", undefined, [])).toBe(false);
  });
});

describe("mergeConfig (pkg/workspace/config.go)", () => {
  it("requires every declared key without a default, naming them sorted as declared", () => {
    expect(() => gate({ b: { type: "string" } })).toThrow(
      "validating stack config: Stack 'dev' is missing configuration value 'b'",
    );
    expect(() => gate({ c: { secret: true }, a: {}, "p:b": { type: "string" } })).toThrow(
      "validating stack config: Stack 'dev' is missing configuration values 'a', 'c' and 'p:b'",
    );
    // A null default is none; a key the stack file sets, even without the project's prefix, is not missing.
    const declared = project({ a: { default: null }, b: {}, "p:c": { secret: true }, d: { default: "" } });
    expect(missingConfigKeys(declared, { config: { b: "x" } })).toEqual(["a", "p:c"]);
    expect(missingConfigKeys(declared, { config: { "p:a": "x", c: { secure: "v1:y" } } })).toEqual(["b"]);
  });

  it("applies defaults as plain values (objects as JSON) and accepts keys Pulumi.yaml does not declare", () => {
    expect(
      gate({ size: { type: "integer", default: 3 }, net: { default: { a: [1] } }, flag: false }, { "p:extra": "x" }),
    ).toEqual({
      config: { "p:extra": "x", "p:flag": "false", "p:net": '{"a":[1]}', "p:size": "3" },
      secretKeys: [],
    });
  });

  it("lets a set value win over the default", () => {
    expect(gate({ size: { type: "integer", default: 3 } }, { "p:size": 5 }).config).toEqual({ "p:size": "5" });
  });
});

describe("validateStackConfigValues (pkg/workspace/config.go)", () => {
  it("refuses a typed secret with a plain default when the stack leaves it unset (the old externalDnsApiToken)", () => {
    expect(() => gate({ token: { type: "string", secret: true, default: "" } })).toThrow(
      "validating stack config: Stack 'dev' with configuration key 'p:token' must be encrypted as it's secret",
    );
  });

  it("refuses a typed secret stored in plain text, and accepts it encrypted", () => {
    expect(() => gate({ token: { type: "string", secret: true } }, { "p:token": "plain" })).toThrow(
      "with configuration key 'p:token' must be encrypted as it's secret",
    );
    expect(gate({ token: { type: "string", secret: true } }, { "p:token": encrypt("s3cret") })).toEqual({
      config: { "p:token": "s3cret" },
      secretKeys: ["p:token"],
    });
  });

  it("does not check untyped keys: an untyped secret passes unset (plain default) and in plain text", () => {
    expect(gate({ token: { secret: true, default: "" } })).toEqual({ config: { "p:token": "" }, secretKeys: [] });
    expect(gate({ token: { secret: true, default: "" } }, { "p:token": "plain" }).secretKeys).toEqual([]);
  });

  const typeCases: [string, Record<string, unknown>, unknown, boolean][] = [
    ["80 for integer", { type: "integer" }, 80, true],
    ["80 for string (scalars arrive as strings)", { type: "string" }, 80, true],
    ["1.5 for integer", { type: "integer" }, 1.5, false],
    ["true for boolean", { type: "boolean" }, true, true],
    ["'yes' for boolean", { type: "boolean" }, "yes", false],
    ["quoted numbers for array<integer>", { type: "array", items: { type: "integer" } }, ["1", "2"], true],
    ["numbers for array<string>", { type: "array", items: { type: "string" } }, [1, 2], false],
    ["a scalar for array<string>", { type: "array", items: { type: "string" } }, "a", false],
    ["an encrypted 20 for integer", { type: "integer" }, encrypt("20"), true],
    ["an encrypted word for integer", { type: "integer" }, encrypt("abc"), false],
  ];
  it.each(typeCases)("type rule: %s", (_what, declaration, value, ok) => {
    const check = () => gate({ k: declaration }, { "p:k": value });
    if (ok) expect(check).not.toThrow();
    else
      expect(check).toThrow(
        /validating stack config: Stack 'dev' with configuration key 'p:k' must be of type '(integer|boolean|array<string>)'/,
      );
  });

  it("hands objects over as JSON with nested secure leaves decrypted, the whole key then secret", () => {
    expect(gate({ db: {} }, { "p:db": { user: "u", password: encrypt("pw") } })).toEqual({
      config: { "p:db": '{"user":"u","password":"pw"}' },
      secretKeys: ["p:db"],
    });
  });

  it("fails when a secure value cannot be decrypted", () => {
    expect(() => gate({ token: {} }, { "p:token": { secure: "v1:other-passphrase" } })).toThrow(
      "failed to decrypt configuration key 'p:token'",
    );
  });
});

describe("this project's Pulumi.yaml through the CLI gate", () => {
  const stackFiles = [
    path.relative(PROJECT_ROOT, FIXTURE),
    ...fs
      .readdirSync(path.join(PROJECT_ROOT, "docs"))
      .filter((f) => /^Pulumi\..+\.ya?ml$/.test(f))
      .map((f) => `docs/${f}`),
  ];
  const NEW_CLUSTER = "docs/Pulumi.new-cluster.yaml";

  it("has the docs' stack files to check, the minimal one for a new cluster among them", () => {
    expect(stackFiles).toContain(NEW_CLUSTER);
  });

  it.each(stackFiles)("passes %s once the README's secret is set, and refuses it before", (file) => {
    const stack = readStackFile(file);
    expect(() => cliConfig(stack)).toThrow("is missing configuration value 'homecluster:cloudflareApiToken'");
    const handed = cliConfig(editStackFile(stack, {}, { cloudflareApiToken: "t" }));
    expect(handed.secretKeys).toEqual(["homecluster:cloudflareApiToken"]);
    // externalDnsApiToken is optional: unset, the CLI hands its empty default as a plain value.
    expect(handed.config["homecluster:externalDnsApiToken"]).toBe("");
  });

  it("keeps the new cluster's stack file minimal: exactly the keys Pulumi.yaml declares without a default", () => {
    const required = Object.entries(loadProjectConfig(readProjectFile()))
      .filter(([, d]) => d.default === undefined && d.value === undefined && !d.secret)
      .map(([key]) => key);
    expect(Object.keys(readStackFile(NEW_CLUSTER).config ?? {}).sort()).toEqual(required.sort());
  });

  it("runs the new cluster's stack file, with its secret set, under mocks", async () => {
    const run = await runProgram({ stackFile: readStackFile(NEW_CLUSTER) });
    expect(run.output("domain")).toBe("lab.example.org");
    expect(run.get("pulumi:providers:kubernetes", "k8s").inputs.context).toBe("admin@lab");
  });

  it("refuses externalDnsApiToken written in plain text into the stack file", async () => {
    const error = await runProgramError({ config: { externalDnsApiToken: "plain-token" } });
    expect(error.message).toBe(
      "Invalid configuration: homecluster:externalDnsApiToken: is stored in plain text in the stack file; remove it and run: pulumi config set --secret externalDnsApiToken <token>",
    );
  });

  it("keeps the example app stack's project valid too", () => {
    const file = readStackFile("examples/app-stack/Pulumi.yaml") as ProjectFile;
    expect(() => applyProjectConfig(file, "dev", {}, decrypt)).not.toThrow();
  });
});
