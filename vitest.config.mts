import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each file runs the Pulumi program under mocks; the runtime is process-global, so isolate files.
    pool: "forks",
    testTimeout: 30_000,
  },
});
