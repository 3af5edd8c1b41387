/**
 * The contract as another repository consumes it: `npm run pack:contract` packs the contract alone, declaring no
 * dependency, and a copy of examples/app-stack outside the tree type-checks against that package, installed as npm
 * installs a tarball.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../offline/stack-files";

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const TSC = path.join(PROJECT_ROOT, "node_modules/typescript/bin/tsc");

interface Packed {
  filename: string;
  files: { path: string }[];
}

let packed: Packed;
let tarball: string;
beforeAll(() => {
  const destination = fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-pack-"));
  const out = execFileSync(NPM, ["run", "-s", "pack:contract", "--", "--json", destination], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  packed = (JSON.parse(out) as Packed[])[0]!;
  tarball = path.join(destination, packed.filename);
}, 60_000);

/** examples/app-stack copied outside the tree, the packed project installed in its node_modules. */
function consumer(extraSource?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-consumer-"));
  for (const file of ["index.ts", "tsconfig.json", "package.json", "Pulumi.yaml"]) {
    fs.copyFileSync(path.join(PROJECT_ROOT, "examples/app-stack", file), path.join(dir, file));
  }
  if (extraSource) fs.writeFileSync(path.join(dir, "extra.ts"), extraSource);
  const modules = path.join(dir, "node_modules");
  fs.mkdirSync(path.join(modules, "homecluster"), { recursive: true });
  // npm unpacks a tarball dependency's package/ folder as the package.
  execFileSync("tar", ["-xzf", tarball, "-C", path.join(modules, "homecluster"), "--strip-components=1"]);
  // The example's registry dependencies, as its own install would resolve them (same pinned versions).
  for (const dependency of ["@pulumi", "@types", "@grpc", "@opentelemetry", "@logdna", "@protobufjs", "protobufjs"]) {
    const source = path.join(PROJECT_ROOT, "node_modules", dependency);
    if (fs.existsSync(source)) fs.symlinkSync(source, path.join(modules, dependency));
  }
  return dir;
}

function typecheck(dir: string): { code: number; output: string } {
  try {
    execFileSync(process.execPath, [TSC, "--noEmit", "-p", dir], { encoding: "utf8", stdio: "pipe" });
    return { code: 0, output: "" };
  } catch (error) {
    const failed = error as { status: number; stdout: string };
    return { code: failed.status, output: failed.stdout };
  }
}

describe("the contract package", () => {
  it("holds the contract and the modules it imports, nothing else of the program", () => {
    expect(packed.files.map((f) => f.path).sort()).toEqual([
      "contract.ts",
      "crds/cilium-io.ts",
      "crds/object.ts",
      "package.json",
      "versions.ts",
    ]);
  });

  it("declares no dependency, and its files import nothing but each other", () => {
    const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-unpacked-"));
    execFileSync("tar", ["-xzf", tarball, "-C", unpacked, "--strip-components=1"]);
    const manifest = JSON.parse(fs.readFileSync(path.join(unpacked, "package.json"), "utf8"));
    expect(Object.keys(manifest).filter((key) => /dependencies$/i.test(key))).toEqual([]);
    const files = packed.files.map((f) => f.path).filter((file) => file.endsWith(".ts"));
    for (const file of files) {
      const source = fs.readFileSync(path.join(unpacked, file), "utf8");
      for (const [, specifier] of source.matchAll(/^(?:import|export)[^"]*from "([^"]+)"/gm)) {
        // A bare specifier would need a dependency; a relative one must land on a packed file.
        expect(specifier, file).toMatch(/^\./);
        expect(files, `${file} imports ${specifier}`).toContain(
          path.posix.join(path.posix.dirname(file), `${specifier}.ts`),
        );
      }
    }
  });

  it("type-checks a copy of examples/app-stack outside the tree, which cannot reach the program's other modules", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "examples/app-stack/package.json"), "utf8"));
    expect(manifest.dependencies.homecluster).toBe(`file:${packed.filename}`);
    // One tsc run proves both: were homecluster/versions importable, the expected error would be missing, and that
    // is an error too (TS2578).
    const dir = consumer(
      '// @ts-expect-error the package exports the contract alone\nexport type { Versions } from "homecluster/versions";\n',
    );
    expect(dir.startsWith(PROJECT_ROOT)).toBe(false);
    expect(typecheck(dir)).toEqual({ code: 0, output: "" });
  }, 60_000);
});
