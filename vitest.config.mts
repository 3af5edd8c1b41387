import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each test file's runs set up Pulumi's mock runtime afresh (support/harness.ts) and re-import the program, so
    // files can share a worker: loading the Pulumi SDKs once per worker instead of once per file halves the run.
    pool: "forks",
    isolate: false,
    testTimeout: 30_000,
  },
});
