/**
 * What the suites check of a run that holds whatever the config says: explicit providers, no token in plain text, and
 * every routed hostname a tunnel rule with its proxied CNAME, the catch-all 404 last. The README's edits (step 3's
 * minimal stack, the pasted route lines) run through them as well as the tests' own stack.
 */
import { MOCK_MINTED_TOKEN, MOCK_TUNNEL_TOKEN } from "../../offline/mock-runtime";
import { plainOccurrences, TEST_API_TOKEN, TYPES, type ProgramRun } from "./harness";

/** The explicit provider of each package whose resources must not fall back to a default provider. */
export const PROVIDERS = {
  kubernetes: "urn:pulumi:homecluster::homecluster::pulumi:providers:kubernetes::k8s",
  cloudflare: "urn:pulumi:homecluster::homecluster::pulumi:providers:cloudflare::cloudflare",
};

/** The URN part of a provider reference (`<urn>::<id>`). */
export const providerUrn = (reference: string | undefined) => reference?.replace(/::[^:]*$/, "");

interface TunnelRule {
  hostname?: string;
  service: string;
}

/** Each problem as one line naming the resource; none: the run passes. */
export function programProblems(run: ProgramRun): string[] {
  const problems: string[] = [];
  for (const [pkg, urn] of Object.entries(PROVIDERS)) {
    for (const r of run.resources.filter((r) => r.custom && r.type.startsWith(`${pkg}:`))) {
      if (providerUrn(r.provider) !== urn) problems.push(`${r.name}: provider ${r.provider ?? "default"}, not ${urn}`);
    }
  }
  for (const token of [TEST_API_TOKEN, MOCK_TUNNEL_TOKEN, MOCK_MINTED_TOKEN]) {
    for (const r of run.resources) {
      for (const at of plainOccurrences(r.rawInputs, token)) problems.push(`${r.name}: a token in plain text at ${at}`);
    }
    for (const at of plainOccurrences(run.outputs, token))
      problems.push(`stack outputs: a token in plain text at ${at}`);
  }
  const rules = (run.all(TYPES.tunnelConfig)[0]?.inputs.config as { ingresses: TunnelRule[] } | undefined)?.ingresses;
  if (!rules) return [...problems, "no tunnel configuration"];
  const last = rules.at(-1);
  if (last?.hostname !== undefined || last?.service !== "http_status:404") {
    problems.push(`tunnel configuration: the last rule is ${last?.hostname} → ${last?.service}, not the catch-all 404`);
  }
  const cnames = new Map(run.all(TYPES.dnsRecord).map((r) => [r.inputs.name, r.inputs]));
  for (const hostname of rules.flatMap((rule) => rule.hostname ?? [])) {
    const record = cnames.get(hostname);
    if (record?.type !== "CNAME" || record.proxied !== true) problems.push(`${hostname}: no proxied CNAME`);
  }
  return problems;
}
