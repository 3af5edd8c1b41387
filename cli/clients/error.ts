/** The one error the API clients throw: what went wrong, already phrased for the user. */

/**
 * An error already phrased for the user in one line (API clients translate theirs into this). `status` is the HTTP
 * status when the API answered, so a check can treat 404 or 403 as a finding rather than an error.
 */
export class CheckError extends Error {
  readonly status: number | undefined;
  readonly fix: string | undefined;

  constructor(message: string, options: { status?: number; fix?: string } = {}) {
    super(message);
    this.name = "CheckError";
    this.status = options.status;
    this.fix = options.fix;
  }
}
