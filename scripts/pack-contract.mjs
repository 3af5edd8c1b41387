// npm run pack:contract [-- --json] [DESTINATION]: the contract package, homecluster-<version>.tgz, written to
// DESTINATION (default examples/app-stack). It holds contract.ts and the modules its types import, under a manifest of
// its own that declares no dependency: `npm pack` of the project would declare the program's (the Pulumi providers,
// the Cloudflare SDK, client-node, zod), and every consumer would install them.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
/** contract.ts and what it imports, transitively; test/commands/contract-package.test.ts checks that this is all. */
const CONTRACT_FILES = ["contract.ts", "versions.ts", "crds/cilium-io.ts", "crds/object.ts"];

const args = process.argv.slice(2);
const json = args.includes("--json");
const destination = path.resolve(args.find((arg) => arg !== "--json") ?? path.join(ROOT, "examples/app-stack"));

const project = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const stage = fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-contract-"));
try {
  for (const file of CONTRACT_FILES) {
    fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(stage, file));
  }
  const manifest = {
    name: project.name,
    version: project.version,
    description: "The output contract of the homecluster stack: the types application stacks read its outputs by.",
    license: project.license,
    engines: project.engines,
    exports: { "./contract": { types: "./contract.ts", default: "./contract.ts" } },
    files: CONTRACT_FILES,
  };
  fs.writeFileSync(path.join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.mkdirSync(destination, { recursive: true });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const out = execFileSync(npm, ["pack", ...(json ? ["--json"] : []), "--pack-destination", destination], {
    cwd: stage,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.stdout.write(out);
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
