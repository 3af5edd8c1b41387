/**
 * The CLI's tests (preflight, doctor, their checks and the stack adapter), in one test file: vitest runs one file at
 * a time on this two-core machine, and each file pays for a fork and the Pulumi SDK's import.
 */
import "./stack.suite";
import "./checks.suite";
import "./commands.suite";
import "./adopt.suite";
