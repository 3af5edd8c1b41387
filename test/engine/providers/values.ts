/**
 * Property values as a Node provider receives them from the engine (`toJavaScript()` of the wire struct): a secret
 * is an object carrying Pulumi's signature key, an unknown (a preview's computed value) a sentinel string.
 */
import { isDeepStrictEqual } from "node:util";

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A value marked secret, as the engine expects it back. */
export const secret = (value: unknown) => ({ [SIG]: SECRET_SIG, value });

/** The plain value: secrets unwrapped, everywhere in it. */
export function plain(value: unknown): any {
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[SIG] === SECRET_SIG) return plain(record["value"]);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

export function hasUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(hasUnknown);
  if (value && typeof value === "object") return Object.values(value).some(hasUnknown);
  return false;
}

/**
 * The diff of a resource's new inputs against its state: the inputs that changed, those of them that force a
 * replacement, and whether any is not known yet (the engine then decides, as it does for a provider without Diff).
 */
export function diffInputs(
  inputNames: ReadonlySet<string>,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  replaceOn: readonly string[],
) {
  if (hasUnknown(news)) return {};
  // The state holds computed outputs beside the inputs: an input left out is a change, an output is not.
  const keys = new Set([...Object.keys(news), ...Object.keys(olds).filter((k) => inputNames.has(k))]);
  const changed = [...keys].filter((k) => !isDeepStrictEqual(plain(olds[k]), plain(news[k])));
  const replaces = changed.filter((k) => replaceOn.includes(k));
  return { changes: changed.length > 0, replaces };
}
