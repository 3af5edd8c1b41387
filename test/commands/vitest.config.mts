// The command lines themselves (npm run test:commands): the documented ones run through npm and a shell, the
// start-up times measured, the contract packed with npm pack and type-checked outside the tree, ts-node as the
// Pulumi CLI runs it. Each starts processes, so they run one file at a time, on a machine not busy with npm test,
// and their timings measure the command rather than the tests beside it.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/commands/**/*.test.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 60_000,
  },
});
