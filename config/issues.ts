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
