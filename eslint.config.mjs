// Small and about correctness (STYLE.md 3.19): typed recommended rules, floating promises,
// type-only imports, braces and strict equality; no console in the daemon and language server.
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      ".e2e/**",
      "test/e2e/**",
      "examples/**",
      "test/fixtures/**/*.js",
      "**/*.mjs",
      "bin/**",
      "clients/**",
      "test-results/**",
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          // node:test's test() returns a promise the runner itself tracks.
          allowForKnownSafeCalls: [
            { from: "package", name: ["test", "it", "describe", "suite"], package: "node:test" },
          ],
        },
      ],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      curly: "error",
      eqeqeq: "error",
    },
  },
  {
    files: ["daemon/src/**/*.ts"],
    rules: { "no-console": "error" },
  },
);
