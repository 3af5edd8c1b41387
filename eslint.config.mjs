// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The architecture, top to bottom: a module may import only from the layers below its own (and from its own folder),
 * never back up. Peers in one layer stay apart too, except the small libraries at the bottom.
 */
const LAYERS = [
  ["index", "cli"],
  ["components"],
  ["builders", "policies"],
  ["config"],
  ["model"],
  ["lib", "crds", "versions", "contract"],
];
const BOTTOM = LAYERS.length - 1;

/** `no-restricted-imports` for the modules of `name` (a folder, or a file at the root). */
function layerRule(name, layer) {
  const prefix = ["versions", "contract"].includes(name) ? "./" : "../";
  const above = LAYERS.slice(0, layer).flat();
  const peers = layer === BOTTOM ? [] : LAYERS[layer].filter((peer) => peer !== name);
  const forbidden = [...above, ...peers, "test"];
  return {
    files: [["versions", "contract"].includes(name) ? `${name}.ts` : `${name}/**/*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: forbidden.map((target) => ({
            group: [`${prefix}${target}`, `${prefix}${target}.js`, `${prefix}${target}/**`],
            message: `${name} sits below ${target}: imports run one way (index/cli → components → builders/policies → config → model → lib/crds).`,
          })),
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ["node_modules/", "bin/", "plan-out/", "examples/app-stack/node_modules/"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  ...LAYERS.flatMap((names, layer) =>
    names.filter((name) => name !== "index" && name !== "cli").map((name) => layerRule(name, layer)),
  ),
  {
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
