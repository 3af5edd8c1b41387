/**
 * The check framework's vocabulary: a check is one question about the cluster or the Cloudflare account, answered
 * with ok, warn or fail and, when not ok, the fix. Checks run concurrently (runner.ts) and print one line each
 * (render.ts).
 */

export type Status = "ok" | "warn" | "fail";

/** What a check found; `skip`: the cluster cannot answer the question (its message says why). */
export interface Result {
  status: Status | "skip";
  /** One line: what was seen. */
  message: string;
  /** One line: what to do about it (warn and fail). */
  fix?: string;
}

export interface Check<Context> {
  /** Unique in a command; other checks name it in `needs`. */
  id: string;
  /** The heading the check is grouped under (`Cilium`, `Tunnel`, ...). */
  component: string;
  name: string;
  /**
   * Checks whose failure makes this one pointless: it is skipped, so an unreachable cluster is one failure line rather
   * than one per check.
   */
  needs?: string[];
  run(context: Context): Promise<Result>;
}

export const ok = (message: string): Result => ({ status: "ok", message });
export const warn = (message: string, fix: string): Result => ({ status: "warn", message, fix });
export const fail = (message: string, fix: string): Result => ({ status: "fail", message, fix });
export const skip = (message: string): Result => ({ status: "skip", message });

/** `1 node`, `3 nodes`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** `a`, `a and b`, `a, b and c`. */
export function listing(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}
