import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The command lines run as processes: npm run test:commands (test/commands/vitest.config.mts).
    exclude: ["test/commands/**", "**/node_modules/**"],
    // Each test file's runs set up Pulumi's mock runtime afresh (support/harness.ts) and re-import the program, so
    // files can share a worker: loading the Pulumi SDKs once per worker instead of once per file halves the run.
    pool: "threads",
    isolate: false,
    // Two workers on this project's usual two cores: several files mostly wait on the CLI processes they start.
    maxWorkers: 2,
    testTimeout: 30_000,
    // Hooks run the program too (support/harness.ts sharedRun): as long as a test may take.
    hookTimeout: 30_000,
  },
});
