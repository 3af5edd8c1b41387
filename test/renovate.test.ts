/**
 * renovate.json: its regex managers must find every pin they are meant to bump, with the right package and source
 * (the schema itself is checked by renovate-config-validator in the pull-request workflow, which needs Node 24).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../offline/stack-files";
import { defaultChartRepositories, defaultVersions } from "../versions";

interface CustomManager {
  managerFilePatterns: string[];
  matchStrings: string[];
  datasourceTemplate?: string;
  depNameTemplate?: string;
}
const renovate = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "renovate.json"), "utf8")) as {
  $schema: string;
  extends: string[];
  customManagers: CustomManager[];
};

/** What a regex manager extracts from a file, as Renovate does: every match of every matchString. */
function extract(file: string): Record<string, string | undefined>[] {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");
  const managers = renovate.customManagers.filter((m) =>
    m.managerFilePatterns.some((pattern) => new RegExp(pattern.slice(1, -1)).test(file)),
  );
  return managers.flatMap((manager) =>
    manager.matchStrings.flatMap((source) =>
      [...text.matchAll(new RegExp(source, "gm"))].map((match) => ({
        datasource: manager.datasourceTemplate,
        depName: manager.depNameTemplate,
        ...match.groups,
      })),
    ),
  );
}

describe("renovate.json", () => {
  it("extends the recommended config and pins GitHub Actions to digests", () => {
    expect(renovate.$schema).toBe("https://docs.renovatebot.com/renovate-schema.json");
    expect(renovate.extends).toEqual(["config:recommended", "helpers:pinGitHubActionDigests"]);
  });

  it("finds every pin in versions.ts, with its source; a Helm pin's registry is the chart's repository", () => {
    const found = extract("versions.ts");
    expect(found.map((f) => f.currentValue)).toEqual(Object.values(defaultVersions));
    expect(found.map((f) => [f.datasource, f.depName])).toEqual([
      ["helm", "cilium"],
      ["helm", "istiod"],
      ["helm", "external-dns"],
      ["docker", "cloudflare/cloudflared"],
    ]);
    expect(found.slice(0, 3).map((f) => f.registryUrl)).toEqual([
      defaultChartRepositories.cilium,
      defaultChartRepositories.istio,
      defaultChartRepositories.externalDns,
    ]);
  });

  it("finds the Pulumi CLI version the workflows install", () => {
    const version = fs.readFileSync(path.join(PROJECT_ROOT, ".pulumi-version"), "utf8").trim();
    expect(extract(".pulumi-version")).toEqual([
      { datasource: "github-releases", depName: "pulumi/pulumi", currentValue: version },
    ]);
  });
});
