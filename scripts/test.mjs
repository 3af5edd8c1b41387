#!/usr/bin/env node
// npm test: the type-check, the lint, the format check and the tests, side by side. Each is mostly one process on
// one core and none needs another's output, so the whole takes about as long as the slowest instead of their sum.
// Each one's output is printed whole when it ends, then a line with its time; the exit code is 1 when any failed.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = (name) => path.join(root, "node_modules", ".bin", name);

const jobs = [
  { name: "typecheck", command: bin("tsc"), args: ["--noEmit"] },
  { name: "eslint", command: bin("eslint"), args: ["."] },
  { name: "prettier", command: bin("prettier"), args: ["--check", "."] },
  { name: "vitest", command: bin("vitest"), args: ["run"] },
];

const started = performance.now();
const seconds = (from) => ((performance.now() - from) / 1000).toFixed(1);

const results = await Promise.all(
  jobs.map(
    (job) =>
      new Promise((resolve) => {
        const start = performance.now();
        const child = spawn(job.command, job.args, { cwd: root, env: { ...process.env, FORCE_COLOR: "0" } });
        let output = "";
        child.stdout.on("data", (chunk) => (output += chunk));
        child.stderr.on("data", (chunk) => (output += chunk));
        child.on("error", (error) =>
          resolve({ ...job, code: 127, output: `${error.message}\n`, took: seconds(start) }),
        );
        child.on("close", (code) => {
          const result = { ...job, code: code ?? 1, output, took: seconds(start) };
          process.stdout.write(`\n── ${job.name} (${result.took} s): ${result.code === 0 ? "ok" : "FAILED"}\n`);
          // A passing job's output is noise (vitest's and prettier's summaries aside): print its tail only.
          process.stdout.write(result.code === 0 ? output.trimEnd().split("\n").slice(-4).join("\n") + "\n" : output);
          resolve(result);
        });
      }),
  ),
);

const failed = results.filter((r) => r.code !== 0);
const parts = results.map((r) => `${r.name} ${r.took} s`).join(", ");
process.stdout.write(
  `\nnpm test: ${failed.length === 0 ? "ok" : `FAILED (${failed.map((r) => r.name).join(", ")})`} in ${seconds(started)} s (${parts})\n`,
);
process.exit(failed.length === 0 ? 0 : 1);
