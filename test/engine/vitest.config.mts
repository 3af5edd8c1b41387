// The engine tier (npm run test:engine): the real Pulumi CLI and Kubernetes provider against a simulated cluster. Its
// files end in .engine.ts, so neither npm test nor the conformance tier picks them up. One file at a time: each
// starts its own cluster, and the operations are CPU-bound.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/engine/**/*.engine.ts"],
    pool: "forks",
    fileParallelism: false,
    // A Helm release waits for its pods, an up for every release: minutes on a busy machine, never a bound we assert.
    testTimeout: 1_800_000,
    hookTimeout: 3_600_000,
  },
});
