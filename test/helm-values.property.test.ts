/**
 * Properties of `deepMerge` (lib/helm.ts), the merge of config's Helm values escape hatches over the stack's own:
 * objects merge key by key, anything else (lists too, as Helm does) is replaced by the later layer, and inputs are
 * not modified. Values are JSON as the stack file gives them, over a few keys so the layers collide.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deepMerge, type HelmValues } from "../lib/helm";

const key = fc.constantFrom("a", "b", "c", "enabled", "rollOutPods");
const { values } = fc.letrec<{ value: unknown; values: HelmValues }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.oneof(fc.integer(), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(null)),
    fc.array(tie("value"), { maxLength: 3 }),
    tie("values"),
  ),
  values: fc.dictionary(key, tie("value"), { maxKeys: 4, noNullPrototype: true }) as fc.Arbitrary<HelmValues>,
}));

const isObject = (v: unknown): v is HelmValues => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every value below `root` that is not an object (lists and scalars: Helm's leaves), by its path of keys. */
function leaves(root: HelmValues, prefix: string[] = []): [string[], unknown][] {
  return Object.entries(root).flatMap(([k, v]) => (isObject(v) ? leaves(v, [...prefix, k]) : [[[...prefix, k], v]]));
}
/** Every object below `root`, empty ones included, by its path. */
function objectPaths(root: HelmValues, prefix: string[] = []): string[][] {
  return Object.entries(root).flatMap(([k, v]) =>
    isObject(v) ? [[...prefix, k], ...objectPaths(v, [...prefix, k])] : [],
  );
}
/**
 * Whether `layer` replaces the leaf at `path`: it sets anything at the path itself, or something other than an
 * object on the way there.
 */
function replaces(layer: HelmValues, path: string[]): boolean {
  let node: unknown = layer;
  for (const [depth, part] of path.entries()) {
    if (!isObject(node) || !Object.hasOwn(node, part)) return false;
    node = node[part];
    if (depth === path.length - 1 || !isObject(node)) return true;
  }
  return false;
}
function at(root: unknown, path: string[]): unknown {
  return path.reduce<unknown>((node, part) => (isObject(node) ? node[part] : undefined), root);
}

const RUNS = { numRuns: 200 };

describe("deepMerge", () => {
  it("changes nothing when merged with nothing, with {} on either side, or with itself", () => {
    fc.assert(
      fc.property(values, (v) => {
        expect(deepMerge(v)).toEqual(v);
        expect(deepMerge(v, {})).toEqual(v);
        expect(deepMerge({}, v)).toEqual(v);
        expect(deepMerge(v, v)).toEqual(v);
      }),
      RUNS,
    );
  });

  it("keeps every leaf of the override, every leaf of the base it does not replace, and nothing else", () => {
    fc.assert(
      fc.property(values, values, (base, override) => {
        const merged = deepMerge(base, override);
        const expected = [...leaves(base).filter(([path]) => !replaces(override, path)), ...leaves(override)];
        const byPath = (entries: [string[], unknown][]) =>
          Object.fromEntries(entries.map(([path, v]) => [JSON.stringify(path), v]));
        expect(byPath(leaves(merged))).toEqual(byPath(expected));
        // An override's object is there even when empty; lists replace whatever was there, whole.
        for (const path of objectPaths(override)) expect(isObject(at(merged, path)), path.join(".")).toBe(true);
      }),
      RUNS,
    );
  });

  it("applies several layers one after another, the last winning", () => {
    fc.assert(
      fc.property(values, values, values, (a, b, c) => {
        expect(deepMerge(a, b, c)).toEqual(deepMerge(deepMerge(a, b), c));
      }),
      RUNS,
    );
  });

  it("modifies no input, and shares no object or list with them", () => {
    fc.assert(
      fc.property(values, values, (base, override) => {
        const before = structuredClone([base, override]);
        const merged = deepMerge(base, override);
        expect([base, override]).toEqual(before);
        // Writing into every object and list of the result leaves the inputs as they were.
        const scribble = (node: unknown) => {
          if (Array.isArray(node)) {
            node.forEach(scribble);
            node.push("scribbled");
          } else if (isObject(node)) {
            Object.values(node).forEach(scribble);
            node.scribbled = true;
          }
        };
        scribble(merged);
        expect([base, override]).toEqual(before);
      }),
      RUNS,
    );
  });
});
