/**
 * What a check runs with: the stack's facts, the API clients (connected on first use, once per run) and a per-run
 * cache, so checks that read the same list (the nodes, say) fetch it once.
 */
import { connectCloudflare, type CloudflareClient } from "../clients/cloudflare";
import { connectKube, type KubeClient } from "../clients/kube";
import type { StackFacts } from "../stack/facts";

export interface CheckContext {
  facts: StackFacts;
  kube(): Promise<KubeClient>;
  cloudflare(): Promise<CloudflareClient>;
  /** The result of `load`, run once per key and run. */
  shared<T>(key: string, load: () => Promise<T>): Promise<T>;
  /** For the HTTPS probes. */
  fetch: typeof fetch;
  deadline: AbortSignal;
  timeoutSeconds: number;
}

export interface ContextOptions {
  facts: StackFacts;
  env: Record<string, string | undefined>;
  deadline: AbortSignal;
  timeoutSeconds: number;
  fetch: typeof fetch;
}

export function createContext(options: ContextOptions): CheckContext {
  const { facts, env, deadline, timeoutSeconds } = options;
  const cache = new Map<string, Promise<unknown>>();
  const shared = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    if (!cache.has(key)) cache.set(key, load());
    return cache.get(key) as Promise<T>;
  };
  return {
    facts,
    shared,
    fetch: options.fetch,
    deadline,
    timeoutSeconds,
    kube: () =>
      shared("kube", () =>
        connectKube({
          context: facts.kubernetes.context,
          kubeconfig: facts.kubernetes.kubeconfig,
          env,
          deadline,
          timeoutSeconds,
        }),
      ),
    cloudflare: () => shared("cloudflare", async () => connectCloudflare({ env, deadline, timeoutSeconds })),
  };
}
