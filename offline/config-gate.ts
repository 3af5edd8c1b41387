/**
 * The Pulumi CLI's config gates, ported from pulumi/pulumi at commit 1b5949891b3cefcb9974752b24a5ecef0acc86c8 so the
 * tests and the offline plan start the program from exactly what `pulumi preview` / `pulumi up` would hand it:
 *
 * - sdk/go/common/workspace/project.json and project.go (`ValidateProject`, `RewriteShorthandConfigValues`,
 *   `Project.Validate`, `ValidateConfigValue`): the checks of Pulumi.yaml's `config:` block when the project loads;
 * - pkg/workspace/config.go (`mergeConfig`, `validateStackConfigValues`, `missingStackConfigurationKeysError`): a
 *   declared key without `default`/`value` is required; defaults are applied as plain values; then every explicitly
 *   typed key is checked: a `secret: true` key must hold an encrypted value, and the value must be of its type, where
 *   every scalar arrives as a string;
 * - sdk/nodejs/cmd/pulumi-language-nodejs/main.go (`constructConfig`): the program receives every value as a string
 *   (objects and lists as JSON) and the list of secret keys.
 *
 * Messages are the CLI's, including the `validating stack config: ` prefix preview.go and up.go add.
 */

/** A `config:` entry of Pulumi.yaml in its long form. */
interface ConfigDeclaration {
  type?: string;
  items?: ItemsType;
  description?: string;
  secret?: boolean;
  default?: unknown;
  value?: unknown;
}

interface ItemsType {
  type: string;
  items?: ItemsType;
}

export interface ProjectFile {
  name: string;
  config?: Record<string, unknown>;
}

export interface StackFile {
  config?: Record<string, unknown> | null;
}

/** What the language host hands the program: `<project>:<key>` → string, and which of those keys are secret. */
export interface ProgramConfig {
  config: Record<string, string>;
  secretKeys: string[];
}

/** An error the CLI reports before the program runs. */
export class PulumiCliError extends Error {
  override name = "PulumiCliError";
}

const SIMPLE_TYPES = ["string", "integer", "boolean", "array", "object"];
const DECLARATION_KEYS = new Set(["type", "items", "description", "secret", "default", "value"]);

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** project.go `ValidateConfigValue`: Go's YAML and JSON types mapped to JavaScript's. */
export function validateConfigValue(type: string, items: ItemsType | undefined, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      // Go: an int, a whole float64, or a string strconv.Atoi accepts.
      return typeof value === "number"
        ? Number.isInteger(value)
        : typeof value === "string" && /^[+-]?\d+$/.test(value);
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    case "object":
      return isMap(value);
    default:
      return (
        Array.isArray(value) &&
        items !== undefined &&
        value.every((v) => validateConfigValue(items.type, items.items, v))
      );
  }
}

/** project.go `InferFullTypeName`: `array<string>` for arrays. */
function fullTypeName(type: string, items: ItemsType | undefined): string {
  return type === "array" && items ? `array<${fullTypeName(items.type, items.items)}>` : type;
}

function namespacedByProject(project: string, key: string): boolean {
  return !key.includes(":") || key.startsWith(`${project}:`);
}

/**
 * Loads Pulumi.yaml's `config:` block as the CLI does: the JSON schema, the shorthand rewrite, then
 * `Project.Validate`. Returns the declarations in long form; throws the CLI's message.
 */
export function loadProjectConfig(project: ProjectFile, file = "Pulumi.yaml"): Record<string, ConfigDeclaration> {
  const declarations: Record<string, ConfigDeclaration> = {};
  const schemaErrors: string[] = [];
  for (const [key, entry] of Object.entries(project.config ?? {})) {
    // project.json: each entry is a string, integer, boolean, array or a configTypeDeclaration.
    if (typeof entry === "string" || typeof entry === "boolean" || Array.isArray(entry) || Number.isInteger(entry)) {
      declarations[key] = namespacedByProject(project.name, key) ? { default: entry } : { value: entry };
      continue;
    }
    if (!isMap(entry)) {
      schemaErrors.push(`#/config/${key}: oneOf failed`);
      continue;
    }
    const unknown = Object.keys(entry).filter((k) => !DECLARATION_KEYS.has(k));
    unknown.forEach((k) => schemaErrors.push(`#/config/${key}: additionalProperties '${k}' not allowed`));
    if (entry.type !== undefined && !SIMPLE_TYPES.includes(String(entry.type))) {
      schemaErrors.push(`#/config/${key}/type: value must be one of ${SIMPLE_TYPES.map((t) => `"${t}"`).join(", ")}`);
    }
    declarations[key] = entry as ConfigDeclaration;
  }
  if (schemaErrors.length > 0) {
    throw new PulumiCliError(
      `could not validate '${file}': ${schemaErrors.length} error${schemaErrors.length > 1 ? "s" : ""} occurred:\n` +
        schemaErrors.map((e) => `\t* ${e}`).join("\n"),
    );
  }
  // A `default: null` is no default at all (the Go field stays nil).
  const has = (value: unknown) => value !== undefined && value !== null;
  for (const [key, declaration] of Object.entries(declarations)) {
    const fail = (message: string) => {
      throw new PulumiCliError(`could not unmarshal '${file}': ${message}`);
    };
    if (has(declaration.default) && has(declaration.value)) {
      fail(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
    }
    if (namespacedByProject(project.name, key)) {
      if (declaration.type === "array" && declaration.items === undefined) {
        fail(
          `The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`,
        );
      }
      if (
        declaration.type !== undefined &&
        has(declaration.default) &&
        !validateConfigValue(declaration.type, declaration.items, declaration.default)
      ) {
        fail(
          `The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(declaration.type, declaration.items)}'`,
        );
      }
    } else {
      if (declaration.type !== undefined) {
        fail(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
      }
      if (has(declaration.default)) {
        fail(
          `Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`,
        );
      }
      if (!has(declaration.value))
        fail(`Configuration key '${key}' is namespaced and must provide an attribute 'value'`);
    }
  }
  return declarations;
}

/** One stack config value as the CLI holds it (sdk/go/common/resource/config/value.go). */
interface StackValue {
  /** The plaintext, as a string: scalars in their JSON text, objects and lists as JSON. */
  text: string;
  secure: boolean;
  object: boolean;
}

/** A stack file's `secure:` value, as `pulumi config set --secret` writes it. */
function isSecure(value: unknown): value is { secure: string } {
  return isMap(value) && Object.keys(value).length === 1 && typeof value.secure === "string";
}

/** Decrypts a `secure:` ciphertext; throws as the CLI does when the secrets provider cannot. */
type Decrypter = (ciphertext: string, key: string) => string;

function stackValue(raw: unknown, key: string, decrypt: Decrypter): StackValue {
  if (isSecure(raw)) return { text: decrypt(raw.secure, key), secure: true, object: false };
  if (raw === null || raw === undefined) return { text: "", secure: false, object: false };
  if (typeof raw === "string") return { text: raw, secure: false, object: false };
  if (typeof raw === "number" || typeof raw === "boolean")
    return { text: JSON.stringify(raw), secure: false, object: false };
  // Maps and lists: JSON, with nested secure leaves decrypted; the whole value is then secure.
  let secure = false;
  const plain = (value: unknown): unknown => {
    if (isSecure(value)) {
      secure = true;
      return decrypt(value.secure, key);
    }
    if (Array.isArray(value)) return value.map(plain);
    if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
    return value;
  };
  return { text: JSON.stringify(plain(raw)), secure, object: true };
}

/** config.go `formatMissingKeys`. */
function formatMissingKeys(keys: string[]): string {
  const quoted = [...keys].sort().map((k) => `'${k}'`);
  return quoted.length <= 1 ? (quoted[0] ?? "") : `${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)}`;
}

/** A key as the stack file spells it, qualified by the project when it names no namespace. */
export const qualified = (project: ProjectFile, key: string) => (key.includes(":") ? key : `${project.name}:${key}`);

/**
 * The project's keys (as Pulumi.yaml declares them) that have no default or value and that the stack file does not
 * set: `pulumi preview` and `pulumi up` refuse the stack while any is missing.
 */
export function missingConfigKeys(project: ProjectFile, stackFile: StackFile): string[] {
  const set = new Set(Object.keys(stackFile.config ?? {}).map((key) => qualified(project, key)));
  return Object.entries(loadProjectConfig(project))
    .filter(([key, declaration]) => {
      const full = qualified(project, key);
      const fallback = declaration.default ?? declaration.value;
      return !set.has(full) && (fallback === undefined || fallback === null) && full.startsWith(`${project.name}:`);
    })
    .map(([key]) => key)
    .sort();
}

/**
 * config.go `mergeConfig`, then the language host's hand-over. With `validate` (the default) as `pulumi preview`
 * and `pulumi up` run it (`ValidateStackConfigAndApplyProjectConfig`), throwing the CLI's message prefixed as
 * preview.go and up.go wrap it; without, as `pulumi config get` does (`ApplyProjectConfig`): defaults only.
 */
export function applyProjectConfig(
  project: ProjectFile,
  stackName: string,
  stackFile: StackFile,
  decrypt: Decrypter,
  { validate = true }: { validate?: boolean } = {},
): ProgramConfig {
  const declarations = loadProjectConfig(project);
  const qualify = (key: string) => qualified(project, key);
  const values = new Map<string, StackValue>();
  for (const [key, raw] of Object.entries(stackFile.config ?? {}))
    values.set(qualify(key), stackValue(raw, key, decrypt));

  const sortedKeys = Object.keys(declarations).sort();
  for (const key of sortedKeys) {
    const declaration = declarations[key]!;
    const full = qualify(key);
    if (values.has(full)) continue;
    const fallback = declaration.default ?? declaration.value;
    if (fallback === undefined || fallback === null) continue;
    // createConfigValue: string, int and bool become plain text; anything else (maps, lists, floats) JSON.
    const scalar = typeof fallback === "string" || typeof fallback === "boolean" || Number.isInteger(fallback);
    values.set(full, { text: scalar ? String(fallback) : JSON.stringify(fallback), secure: false, object: !scalar });
  }
  const handOver = {
    config: Object.fromEntries([...values].map(([key, value]) => [key, value.text])),
    secretKeys: [...values].filter(([, value]) => value.secure).map(([key]) => key),
  };
  if (!validate) return handOver;
  const fail = (message: string) => {
    throw new PulumiCliError(`validating stack config: ${message}`);
  };
  const missing = missingConfigKeys(project, stackFile);
  if (missing.length > 0) {
    fail(
      `Stack '${stackName}' is missing configuration ${missing.length === 1 ? "value" : "values"} ${formatMissingKeys(missing)}`,
    );
  }
  for (const key of sortedKeys) {
    const declaration = declarations[key]!;
    if (declaration.type === undefined) continue;
    const full = qualify(key);
    const value = values.get(full)!;
    if (declaration.secret && !value.secure)
      fail(`Stack '${stackName}' with configuration key '${full}' must be encrypted as it's secret`);
    const content: unknown = value.object ? JSON.parse(value.text) : value.text;
    if (!validateConfigValue(declaration.type, declaration.items, content)) {
      fail(
        `Stack '${stackName}' with configuration key '${full}' must be of type '${fullTypeName(declaration.type, declaration.items)}'`,
      );
    }
  }
  return handOver;
}
