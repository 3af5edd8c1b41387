/** Recorded inputs as Pulumi serializes them: secrets are wrapped in an object carrying Pulumi's signature. */

/** The signature Pulumi puts on secret values in serialized inputs. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && SECRET_SIG in value;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the caller knows the shape it recorded
export function unwrap(value: unknown): any {
  if (isSecretValue(value)) return unwrap(value.value);
  if (Array.isArray(value)) return value.map(unwrap);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
  }
  return value;
}

/** Replaces every secret value by `replacement` (for display). */
export function redact(value: unknown, replacement = "[secret]"): unknown {
  if (isSecretValue(value)) return replacement;
  if (Array.isArray(value)) return value.map((v) => redact(v, replacement));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, replacement)]));
  }
  return value;
}
