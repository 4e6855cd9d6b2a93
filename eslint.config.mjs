// ESLint 9 flat config for the front ends (widget, console, dashboard, shared modules) and the
// Node build scripts. `make lint` runs it; versions are pinned in package.json.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["**/dist/**", "node_modules/**", "cdk.out/**", "build/**", ".venv/**", ".tools/**"] },
  js.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-var": "error",
      "prefer-const": "error",
      "no-unused-vars": ["error", { argsIgnorePattern: "^_", caughtErrors: "none" }],
      complexity: ["error", 12],
    },
  },
  {
    // Browser code, bundled by esbuild from ES modules.
    files: ["widget/**/*.js", "console/**/*.js", "dashboard/**/*.js", "frontend/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
  },
  {
    files: ["scripts/**/*.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
];
