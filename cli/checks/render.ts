/**
 * Prints outcomes: one line per check grouped by component, then a summary line; or one JSON document for scripts.
 * Skipped checks are left out of the text (the failure that caused them is printed) and counted in the summary.
 */
import type { Outcome } from "./runner";

export interface Summary {
  ok: number;
  warn: number;
  fail: number;
  skip: number;
}

function summarize(outcomes: readonly Outcome[]): Summary {
  const summary: Summary = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const outcome of outcomes) summary[outcome.status] += 1;
  return summary;
}

/** 0 when nothing failed, 1 otherwise. */
export function exitCode(outcomes: readonly Outcome[]): number {
  return summarize(outcomes).fail === 0 ? 0 : 1;
}

function summaryLine(command: string, summary: Summary): string {
  const parts = [
    `${summary.fail} failed`,
    `${summary.warn} warning${summary.warn === 1 ? "" : "s"}`,
    `${summary.ok} ok`,
    ...(summary.skip > 0 ? [`${summary.skip} skipped`] : []),
  ];
  return `${command}: ${parts.join(", ")}`;
}

export function renderText(command: string, title: string, outcomes: readonly Outcome[]): string {
  const shown = outcomes.filter((outcome) => outcome.status !== "skip");
  const width = Math.max(0, ...shown.map((outcome) => outcome.name.length));
  const components = [...new Set(shown.map((outcome) => outcome.component))];
  const lines = [title];
  for (const component of components) {
    lines.push("", component);
    for (const outcome of shown.filter((o) => o.component === component)) {
      const fix = outcome.fix ? ` — fix: ${outcome.fix}` : "";
      lines.push(`  ${outcome.status.padEnd(4)}  ${outcome.name.padEnd(width)}  ${outcome.message}${fix}`);
    }
  }
  lines.push("", summaryLine(command, summarize(outcomes)));
  return `${lines.join("\n")}\n`;
}

export function renderJson(command: string, stack: string, outcomes: readonly Outcome[]): string {
  const summary = summarize(outcomes);
  return `${JSON.stringify({ command, stack, ok: summary.fail === 0, summary, checks: outcomes }, null, 2)}\n`;
}

/** Shorter values are not secrets worth the name (real API tokens have 40 characters), and would mangle the text. */
const SECRET_MIN_LENGTH = 8;

/**
 * Replaces every secret in `text`. The checks never put a token into a message; this keeps an API's error text from
 * ever doing so either.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  return secrets.reduce<string>(
    (out, secret) => (secret && secret.length >= SECRET_MIN_LENGTH ? out.replaceAll(secret, "[redacted]") : out),
    text,
  );
}
