/**
 * What a provider's schema accepts, read from the SDK the program uses: each resource's and function's input names,
 * as the generated SDK sends them (`resourceInputs["accountId"]`, an invoke's `"accountId": args.accountId`). The
 * SDK is generated from the provider's schema, so an input it does not send is one the real provider does not have.
 */
import fs from "node:fs";
import path from "node:path";

/** Input names by type token (resources) or function token (invokes). */
export type InputNames = Map<string, Set<string>>;

export function sdkInputNames(packageDir: string): InputNames {
  const names: InputNames = new Map();
  for (const file of fs.readdirSync(packageDir).filter((f) => f.endsWith(".js"))) {
    const source = fs.readFileSync(path.join(packageDir, file), "utf8");
    const resource = /__pulumiType = '([^']+)'/.exec(source);
    if (resource) {
      names.set(resource[1]!, new Set([...source.matchAll(/resourceInputs\["(\w+)"\] = args/g)].map((m) => m[1]!)));
    }
    const invoke = /runtime\.invoke\("([^"]+)", \{([^}]*)\}/.exec(source);
    if (invoke) names.set(invoke[1]!, new Set([...invoke[2]!.matchAll(/"(\w+)": args/g)].map((m) => m[1]!)));
  }
  return names;
}

/** The inputs of `token` that its schema does not have, as Check failures. */
export function unknownInputs(names: InputNames, token: string, inputs: Record<string, unknown>) {
  const known = names.get(token);
  if (!known) return [{ property: "", reason: `the provider has no ${token}` }];
  return Object.keys(inputs)
    .filter((key) => !known.has(key) && !key.startsWith("__"))
    .map((key) => ({ property: key, reason: `${token} has no input '${key}' (it has: ${[...known].join(", ")})` }));
}

/** The version of an installed package: a stand-in answers as the plugin its SDK asks for. */
export function packageVersion(name: string): string {
  return JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), "utf8")).version;
}
