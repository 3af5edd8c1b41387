/**
 * The Cloudflare client: the official SDK with the token from CLOUDFLARE_API_TOKEN (and CLOUDFLARE_BASE_URL when
 * set), no retries (a retry would outlive the command's deadline), every request aborted at the deadline, and every
 * error turned into one line. The token itself never appears in a message.
 */
import type Cloudflare from "cloudflare" with { "resolution-mode": "import" };
import { CheckError } from "./error";

/** The SDK's client, as the checks call it. */
export type CloudflareSdk = Cloudflare;
/** The SDK module, loaded when a command first talks to Cloudflare: --help and argument errors never pay for it. */
type Sdk = typeof import("cloudflare", { with: { "resolution-mode": "import" } });

export const TOKEN_ENV = "CLOUDFLARE_API_TOKEN";
export const TOKEN_FIX = `export ${TOKEN_ENV}=$(pulumi config get cloudflareApiToken)`;

export interface CloudflareTarget {
  env: Record<string, string | undefined>;
  deadline: AbortSignal;
  timeoutSeconds: number;
}

export interface CloudflareClient {
  /** Calls the API; an error becomes a CheckError. */
  request<T>(call: (sdk: Cloudflare) => Promise<T>): Promise<T>;
}

function translate(Cloudflare: Sdk["default"], error: unknown, target: CloudflareTarget, baseURL: string): CheckError {
  const unreachable = (reason: string) =>
    new CheckError(`cannot reach the Cloudflare API (${baseURL}): ${reason}`, {
      fix: "check the connection (and CLOUDFLARE_BASE_URL, if set)",
    });
  // Timeouts and aborts are connection errors too; test them first.
  if (error instanceof Cloudflare.APIConnectionTimeoutError || error instanceof Cloudflare.APIUserAbortError) {
    return unreachable(`no answer within ${target.timeoutSeconds} s`);
  }
  if (error instanceof Cloudflare.APIConnectionError) {
    const cause = (error.cause as { cause?: { code?: string } } | undefined)?.cause?.code;
    return unreachable(cause ?? error.message);
  }
  if (error instanceof Cloudflare.APIError) {
    const detail = error.errors.map((e) => `${e.code} ${e.message}`).join("; ");
    const message = `Cloudflare API: HTTP ${error.status}${detail ? ` (${detail})` : ""}`;
    return error.status === 401
      ? new CheckError(`Cloudflare rejected the token in ${TOKEN_ENV}: HTTP 401${detail ? ` (${detail})` : ""}`, {
          status: 401,
          fix: TOKEN_FIX,
        })
      : new CheckError(message, { ...(error.status === undefined ? {} : { status: error.status }) });
  }
  return new CheckError(`Cloudflare API: ${String(error instanceof Error ? error.message : error).split("\n")[0]}`);
}

/** The SDK, loaded on first use (the command loads it before its deadline starts: see check-command.ts). */
export const loadCloudflareSdk = () => import("cloudflare");

/** The client, or a CheckError when there is no token to use. */
export async function connectCloudflare(target: CloudflareTarget): Promise<CloudflareClient> {
  const token = target.env[TOKEN_ENV];
  if (!token) throw new CheckError(`${TOKEN_ENV} is not set`, { fix: TOKEN_FIX });
  const { default: Cloudflare } = await loadCloudflareSdk();
  const sdk = new Cloudflare({
    apiToken: token,
    // Only the token authenticates: keys a shell may also export would be sent alongside it.
    apiKey: null,
    apiEmail: null,
    userServiceKey: null,
    baseURL: target.env.CLOUDFLARE_BASE_URL ?? null,
    maxRetries: 0,
    timeout: target.timeoutSeconds * 1000,
    // The SDK's timeout is per request; the deadline ends every request at once.
    fetch: (url, init) =>
      fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, target.deadline]) : target.deadline }),
  });
  return {
    request: async (call) => {
      try {
        return await call(sdk);
      } catch (error) {
        throw translate(Cloudflare, error, target, sdk.baseURL);
      }
    },
  };
}

/** Every item of a paginated list. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
