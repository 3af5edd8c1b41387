/**
 * `doctor --probe`: one HTTPS request to each public hostname, through Cloudflare and the tunnel, as a user's browser
 * would make it. Any answer below 500 means the path works (an app may well answer 401 or 404); a 5xx says where it
 * breaks. Wildcard hostnames name no host to ask, so they are left out.
 */
import { fail, ok, type Check, type Result } from "./check";
import type { CheckContext } from "./context";

/** Cloudflare's status when it cannot reach the tunnel (error 1033). */
const TUNNEL_DOWN = 530;

export function probeResult(status: number, milliseconds: number): Result {
  const text = `HTTP ${status} in ${Math.round(milliseconds)} ms`;
  if (status < 500) return ok(text);
  if (status === TUNNEL_DOWN) return fail(`${text}: Cloudflare cannot reach the tunnel`, "see the Tunnel checks above");
  return fail(
    `${text}: the tunnel answers but what is behind it fails`,
    "see the Istio checks, then the routed Service's pods",
  );
}

export function probeChecks(hostnames: readonly string[]): Check<CheckContext>[] {
  return hostnames
    .filter((hostname) => !hostname.startsWith("*."))
    .map((hostname) => ({
      id: `probe-${hostname}`,
      component: "Probe",
      name: hostname,
      run: async (context) => {
        const started = performance.now();
        try {
          // Redirects are an answer too (a login page, say): not followed.
          const response = await context.fetch(`https://${hostname}/`, {
            redirect: "manual",
            signal: context.deadline,
          });
          await response.body?.cancel();
          return probeResult(response.status, performance.now() - started);
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause?.code;
          const aborted = (error as Error).name === "AbortError" || (error as Error).name === "TimeoutError";
          return fail(
            aborted
              ? `no answer within ${context.timeoutSeconds} s`
              : `request failed: ${cause ?? (error as Error).message}`,
            `check that ${hostname} resolves to Cloudflare (dig +short ${hostname})`,
          );
        }
      },
    }));
}
