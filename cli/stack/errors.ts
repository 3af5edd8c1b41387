/** The commands' user errors, and the stack a command reads unless told. */

/** The stack the commands read unless `--stack` says otherwise. */
export const DEFAULT_STACK = "homecluster";

/** A mistake of the user's (a file, a flag, the config): reported in one line, without a stack trace. */
export class UserError extends Error {
  override name = "UserError";
  /** Told apart by this, not by class: the tests load the program (and so this module) afresh for every run. */
  readonly userError = true;
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof Error && (error as Partial<UserError>).userError === true;
}

/** A stack file or config that cannot be used; the message is one line naming the file or the key. */
export class StackError extends UserError {
  override name = "StackError";
}
