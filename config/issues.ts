/** A config problem: the full key (`homecluster:cilium.lbPool[0].cidr`) and what is wrong with it. */
import * as pulumi from "@pulumi/pulumi";

export interface ConfigIssue {
  key: string;
  message: string;
}

/**
 * Invalid configuration, with every problem at once, one per line. A `RunError`, so `pulumi preview` prints the
 * message without a stack trace.
 */
export class ConfigError extends pulumi.RunError {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      issues.length === 1
        ? `Invalid configuration: ${issues[0]!.key}: ${issues[0]!.message}`
        : `Invalid configuration:\n${issues.map((i) => `  - ${i.key}: ${i.message}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

/** Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`, ignoring case. */
function distance(a: string, b: string): number {
  [a, b] = [a.toLowerCase(), b.toLowerCase()];
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * `did you mean 'x'?` for a misspelt key, when a known one is close: a case or plural difference, a swapped or
 * missing letter (at most two edits, fewer for a short key, so an unrelated key gets no guess).
 */
export function didYouMean(unknown: string, known: readonly string[]): string | undefined {
  const limit = Math.min(2, unknown.length - 2);
  const scored = known.map((key) => ({ key, d: distance(unknown, key) })).filter(({ d }) => d <= limit);
  if (scored.length === 0) return undefined;
  const best = Math.min(...scored.map(({ d }) => d));
  const keys = scored.filter(({ d }) => d === best).map(({ key }) => `'${key}'`);
  return `did you mean ${keys.join(" or ")}?`;
}
