/** The documentation stays true: the config reference is what the schema says, links resolve, the README is short. */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { configReference, REFERENCE_FILE } from "../cli/config-docs";
import { PROJECT_ROOT } from "../cli/stack-files";

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
});
