/**
 * Runs a command's checks concurrently under one deadline and returns their outcomes in the order they were
 * declared. A check that throws fails with the error's one line (never a stack trace); a check whose `needs` did not
 * pass is skipped; a check still pending at the deadline fails as timed out, so the whole run ends by then.
 */
import { CheckError } from "../clients/error";
import type { Check, Status } from "./check";

export interface Outcome {
  id: string;
  component: string;
  name: string;
  status: Status | "skip";
  message: string;
  fix?: string;
}

/** An outcome without its check's identity. */
type Finding = Pick<Outcome, "status" | "message" | "fix">;

export interface RunOptions {
  /** Aborts every API request; checks not done by then are reported as timed out. */
  deadline: AbortSignal;
  /** The deadline in seconds, for the timed-out message. */
  timeoutSeconds: number;
  /** Called as each check finishes. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * How long after the deadline the runner waits before declaring pending checks timed out: requests aborted at the
 * deadline settle within it and report their own, more specific, error (naming the kube context, say).
 */
export const DEADLINE_GRACE_MS = 100;

function settlesAfter(deadline: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const later = () => setTimeout(resolve, DEADLINE_GRACE_MS);
    if (deadline.aborted) later();
    else deadline.addEventListener("abort", later, { once: true });
  });
}

function fromError(error: unknown): Finding {
  if (error instanceof CheckError)
    return { status: "fail", message: error.message, ...(error.fix ? { fix: error.fix } : {}) };
  // A bug in a check, not a finding: still one line, so the other checks' lines stay readable.
  const text = error instanceof Error ? error.message : String(error);
  return { status: "fail", message: `unexpected error: ${text.split("\n")[0]}` };
}

export async function runChecks<Context>(
  checks: readonly Check<Context>[],
  context: Context,
  options: RunOptions,
): Promise<Outcome[]> {
  const byId = new Map(checks.map((check) => [check.id, check]));
  if (byId.size !== checks.length) throw new Error("check ids must be unique");
  const deadline = settlesAfter(options.deadline);
  const started = new Map<string, Promise<Outcome>>();
  let done = 0;

  const attempt = async (check: Check<Context>): Promise<Finding> => {
    try {
      return await check.run(context);
    } catch (error) {
      return fromError(error);
    }
  };
  const execute = async (check: Check<Context>): Promise<Outcome> => {
    const needed = await Promise.all((check.needs ?? []).map(outcomeOf));
    const blocker = needed.find((outcome) => outcome.status === "fail" || outcome.status === "skip");
    const result: Finding = blocker
      ? { status: "skip", message: `skipped: needs ${blocker.component} ${blocker.name}` }
      : await Promise.race([
          attempt(check),
          deadline.then((): Finding => ({
            status: "fail",
            message: `no answer within ${options.timeoutSeconds} s`,
            fix: "re-run with a longer --timeout, or check the connection to the API",
          })),
        ]);
    done += 1;
    options.onProgress?.(done, checks.length);
    return { id: check.id, component: check.component, name: check.name, ...result };
  };
  function outcomeOf(id: string): Promise<Outcome> {
    const check = byId.get(id);
    if (!check) throw new Error(`unknown check '${id}' in needs`);
    let outcome = started.get(id);
    if (!outcome) {
      outcome = execute(check);
      started.set(id, outcome);
    }
    return outcome;
  }
  return Promise.all(checks.map((check) => outcomeOf(check.id)));
}
