/**
 * The engine tier's summary, printed when a file's scenarios end: which tools ran (the Kubernetes provider's code is
 * not the plugin users get), what was stood in and what the stand-ins did, and the figures measured.
 */
import { STAND_INS } from "./stand-ins";
import type { Tools } from "./world";

export const engineSummary: { tools?: Tools; figures: string[]; standInLog: string[] } = {
  figures: [],
  standInLog: [],
};

export function printSummary(title: string): void {
  {
    const tools = engineSummary.tools;
    const lines = [
      "",
      `Engine tier: ${title}`,
      ...(tools
        ? [
            `  Pulumi CLI: ${tools.cli}`,
            ...(tools.kubernetesProvider === "registry"
              ? ["  Kubernetes provider: the real plugin @pulumi/kubernetes asks for, from Pulumi's plugin server"]
              : [
                  `  Kubernetes provider: ${tools.kubernetesProvider}`,
                  `    code of github.com/pulumi/pulumi-kubernetes/provider/v4@${tools.providerCode} (between 4.24.0 and 4.24.1: the`,
                  "    one version the Go module proxy serves), installed as the plugin @pulumi/kubernetes asks for, standing in for it",
                ]),
          ]
        : ["  (the tools were not set up)"]),
      "  Stood in:",
      ...STAND_INS.map((s) => `    - ${s}`),
      `  What the stand-ins did: ${engineSummary.standInLog.length} actions`,
      ...engineSummary.standInLog
        .filter((l) => !l.includes("error"))
        .slice(0, 40)
        .map((l) => `    ${l}`),
      ...engineSummary.figures.map((f) => `  ${f}`),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
}
