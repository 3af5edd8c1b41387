/**
 * preflight and doctor: a list of checks run concurrently under one deadline against the cluster and the Cloudflare
 * account behind the stack, printed one line each, exit 1 when one fails.
 */
import { setMaxListeners } from "node:events";
import * as path from "node:path";
import type { Check } from "./checks/check";
import { createContext, type CheckContext } from "./checks/context";
import { exitCode, redact, renderJson, renderText } from "./checks/render";
import { runChecks } from "./checks/runner";
import { loadCloudflareSdk, TOKEN_ENV } from "./clients/cloudflare";
import { loadClientNode } from "./clients/kube";
import type { CommandDefinition } from "./command";
import type { StackFacts } from "./stack/facts";

/**
 * The deadline of every check, in seconds. With the offline run of the program before it (about 3 s) an unreachable
 * cluster or API fails the command within about 15 s.
 */
export const DEFAULT_TIMEOUT_SECONDS = 10;

export interface CheckOptions {
  probe: boolean;
  timeoutSeconds: number;
}

export function checkCommand(spec: {
  name: "preflight" | "doctor";
  purpose: string;
  /** Whether it takes --probe. */
  probe: boolean;
  checks(facts: StackFacts, options: { probe: boolean }): Check<CheckContext>[];
}): CommandDefinition<CheckOptions> {
  return {
    name: spec.name,
    purpose: spec.purpose,
    flags: [
      { name: "timeout", value: "SECONDS", help: `the deadline of every check (default: ${DEFAULT_TIMEOUT_SECONDS})` },
      ...(spec.probe ? [{ name: "probe", help: "also request https://<hostname>/ for each routed hostname" }] : []),
    ],
    notes: [
      "Kubernetes: the stack's kube context, from homecluster:kubeconfig, $KUBECONFIG or ~/.kube/config.",
      `Cloudflare: ${TOKEN_ENV} (export ${TOKEN_ENV}=$(pulumi config get cloudflareApiToken)); CLOUDFLARE_BASE_URL if set.`,
      "Exit code: 0 when no check failed, 1 otherwise (2: bad arguments).",
    ],
    options: (flags) => {
      const timeout = flags.values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(flags.values.timeout);
      if (!(timeout > 0)) return "--timeout takes a number of seconds above 0";
      return { probe: flags.switches.has("probe"), timeoutSeconds: timeout };
    },
    run: async (options, { env, io, loadStack }) => {
      const { facts } = await loadStack(env.KUBECONFIG);
      // The deadline is the APIs' to meet: loading the clients takes seconds on a busy machine, and counted in it, a
      // refused connection would be reported as no answer.
      await Promise.all([loadClientNode(), loadCloudflareSdk()]);
      const deadline = AbortSignal.timeout(options.timeoutSeconds * 1000);
      // Every request in flight listens for the deadline: dozens at once is the design, not a leak.
      setMaxListeners(Infinity, deadline);
      const context = createContext({
        facts,
        env,
        deadline,
        timeoutSeconds: options.timeoutSeconds,
        fetch: io.fetch ?? fetch,
      });
      const checks = spec.checks(facts, { probe: options.probe });
      const progress = !options.json && io.stdout.isTTY;
      const outcomes = await runChecks(checks, context, {
        deadline,
        timeoutSeconds: options.timeoutSeconds,
        ...(progress
          ? { onProgress: (done: number, total: number) => io.stdout.write(`\r${spec.name}: ${done}/${total} checks`) }
          : {}),
      });
      if (progress) io.stdout.write("\r\x1b[K");
      const file = path.relative(process.cwd(), facts.stackFile) || facts.stackFile;
      const title = `${spec.name} of stack ${facts.stack} (${file}): kube context ${facts.kubernetes.context}, zone ${facts.domain}`;
      const text = options.json ? renderJson(spec.name, facts.stack, outcomes) : renderText(spec.name, title, outcomes);
      io.stdout.write(redact(text, [env[TOKEN_ENV]]));
      return exitCode(outcomes);
    },
  };
}
