// The conformance tier (npm run test:conformance): its own run, since it needs helm and, for admission, an API
// server. `npm test` picks none of it up: its files end in .conformance.ts, not .test.ts.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/conformance/**/*.conformance.ts"],
    pool: "forks",
    // One worker for both files, one after the other: helm is CPU-bound, and renders are shared within a process.
    isolate: false,
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // A path, loaded by vitest itself: the config loader would warn about a CommonJS .ts module.
    reporters: ["default", "./test/conformance/summary.ts"],
  },
});
