/**
 * The stacks the tier checks: the tests' own, the minimal stack of a new cluster, the tests' own on each other
 * distribution, and with encryption off. Each is run as the other tests run the program (test/support/harness.ts):
 * the stack file through the ported CLI gate, then the real program under the mocks as `pulumi up`, where every
 * value a provider computes (a token, an Access application's `aud`) has a plausible mock value. A preview would
 * leave some of them unknown, the token Secrets' keys among them, which external-dns' seam reads.
 */
import { parseConfig } from "../../config/load";
import { configSchema, type HomeclusterConfig } from "../../config/schema";
import type { StackFile } from "../../offline/config-gate";
import * as path from "node:path";
import { PROJECT_ROOT, readStackFile } from "../../offline/stack-files";
import { editStackFile, FIXTURE, runProgram, STACK, type ConfigValues, type ProgramRun } from "../support/harness";

export interface StackUnderTest {
  /** How reports name it: the stack file and what was changed. */
  name: string;
  /** The stack's config as the program parses it: what the seams expect of the charts. */
  config: HomeclusterConfig;
  run: ProgramRun;
}

const TESTS = path.relative(PROJECT_ROOT, FIXTURE);
const NEW_CLUSTER = "docs/Pulumi.new-cluster.yaml";
// A name, not an address: the API endpoint a non-Talos cluster needs. Nothing is ever sent to it.
const API_HOST = "kube-api.home.arpa";

function plainConfig(file: StackFile): ConfigValues {
  return Object.fromEntries(Object.entries(file.config ?? {}).map(([k, v]) => [k.replace(/^[^:]+:/, ""), v]));
}

/** A stack the tier checks: its name and its stack file's contents. */
export interface StackCase {
  name: string;
  file: StackFile;
}

export function stackCases(): StackCase[] {
  const tests = readStackFile(TESTS);
  const testConfig = plainConfig(tests);
  const cilium = testConfig["cilium"] as ConfigValues;
  const distribution = String(testConfig["distribution"]);
  const others = configSchema.shape.distribution.unwrap().options.filter((d) => d !== distribution);
  return [
    { name: `${TESTS} (${distribution})`, file: tests },
    { name: NEW_CLUSTER, file: readStackFile(NEW_CLUSTER) },
    ...others.map((d) => ({
      name: `${TESTS} as ${d}`,
      file: editStackFile(tests, { distribution: d, cilium: { ...cilium, k8sServiceHost: API_HOST } }),
    })),
    {
      name: `${TESTS}, cilium.encryption none`,
      file: editStackFile(tests, { cilium: { ...cilium, encryption: "none" } }),
    },
  ];
}

/** Runs the program with one stack's file (one run at a time: the mock runtime is one per process). */
export async function runStack(c: StackCase): Promise<StackUnderTest> {
  return {
    name: c.name,
    config: parseConfig(plainConfig(c.file), STACK),
    run: await runProgram({ stackFile: c.file }),
  };
}
