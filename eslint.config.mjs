// @ts-check
import path from "node:path";
import { fileURLToPath } from "node:url";
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

const ROOT = path.dirname(fileURLToPath(import.meta.url));

/**
 * The architecture: each part of the product and the parts it may import from (its own always). Imports run one
 * way: the commands read checks, checks read the API clients and the stack's facts, and `cli/stack` is the one door
 * from the CLI into the program (it runs it offline and reads its graph). Below the door the program runs top to
 * bottom, peers in a layer apart except the small libraries at the bottom. Nothing in the product imports a test.
 */
const BOTTOM = ["lib", "crds", "versions", "contract"];
const PROGRAM = ["offline", "index", "components", "builders", "policies", "config", "model", ...BOTTOM];
const ALLOWED = {
  cli: ["cli/checks", "cli/clients", "cli/stack"],
  "cli/checks": ["cli/clients", "cli/stack"],
  "cli/clients": [],
  "cli/stack": PROGRAM,
  offline: ["config", "model", ...BOTTOM],
  index: ["components", "builders", "policies", "config", "model", ...BOTTOM],
  components: ["builders", "policies", "config", "model", ...BOTTOM],
  builders: ["config", "model", ...BOTTOM],
  policies: ["config", "model", ...BOTTOM],
  config: ["model", ...BOTTOM],
  model: BOTTOM,
  ...Object.fromEntries(BOTTOM.map((part) => [part, BOTTOM])),
};
/** Most specific first: `cli/checks/x.ts` is in `cli/checks`, `cli/plan.ts` in `cli`. */
const PARTS = Object.keys(ALLOWED).sort((a, b) => b.length - a.length);

/** The part a project file belongs to; "test" and "examples" are outside the product; undefined for other files. */
function partOf(file) {
  const relative = path
    .relative(ROOT, file)
    .split(path.sep)
    .join("/")
    .replace(/\.[cm]?[jt]s$/, "");
  if (relative.startsWith("test/")) return "test";
  if (relative.startsWith("examples/")) return "examples";
  return PARTS.find((part) => relative === part || relative.startsWith(`${part}/`));
}

/**
 * Every way a module names another: `import`, `export … from`, `import()`, `require()`, `import x = require()` and
 * `import("…").T` in types. A relative or absolute path is resolved, so `../../` reaches no further than a plain
 * one; a specifier that is not a string literal cannot be checked and is refused.
 */
const layers = {
  meta: { type: "problem", schema: [], messages: { up: "{{message}}" } },
  create(context) {
    const from = partOf(context.filename);
    if (from === undefined || from === "test" || from === "examples") return {};
    const check = (node, source) => {
      if (!source || source.type !== "Literal" || typeof source.value !== "string") {
        if (source && source.type === "TemplateLiteral" && source.expressions.length === 0) {
          return check(node, { type: "Literal", value: source.quasis[0].value.cooked });
        }
        context.report({
          node,
          messageId: "up",
          data: { message: `${from}: a module path must be a string literal, so the layer rule can read it.` },
        });
        return;
      }
      const specifier = source.value;
      if (!specifier.startsWith(".") && !path.isAbsolute(specifier)) return;
      const to = partOf(path.resolve(path.dirname(context.filename), specifier));
      if (to === from) return;
      if (to !== undefined && ALLOWED[from].includes(to)) return;
      const why =
        to === "test" || to === "examples"
          ? `the product never imports ${to} code`
          : to === undefined
            ? "it is outside the project's parts"
            : `${from} may import only ${[from, ...ALLOWED[from]].join(", ")}`;
      context.report({
        node,
        messageId: "up",
        data: { message: `${from} cannot import ${specifier}: ${why} (imports run one way; see eslint.config.mjs).` },
      });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      TSImportType: (node) => check(node, node.source),
      TSExternalModuleReference: (node) => check(node, node.expression),
      CallExpression: (node) => {
        const callee = node.callee;
        const isRequire =
          (callee.type === "Identifier" && callee.name === "require") ||
          (callee.type === "MemberExpression" &&
            callee.object.type === "Identifier" &&
            callee.object.name === "require" &&
            callee.property.type === "Identifier" &&
            callee.property.name === "resolve");
        if (isRequire) check(node, node.arguments[0]);
      },
    };
  },
};

export default tseslint.config(
  { ignores: ["node_modules/", "bin/", "plan-out/", "examples/app-stack/node_modules/"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { homecluster: { rules: { layers } } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "homecluster/layers": "error",
    },
  },
  {
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // Node scripts (npm test's runner, this config).
    files: ["**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", performance: "readonly" } },
  },
);
