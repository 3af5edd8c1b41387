// The command lines themselves (npm run test:commands): the documented ones run through npm and a shell, their exit
// codes, the contract packed with npm pack and type-checked outside the tree, ts-node as the Pulumi CLI runs it. Each
// starts processes, so they run one file at a time. How long they take is npm run bench's.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/commands/**/*.test.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
