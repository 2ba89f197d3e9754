// Shared lint rules. Not type-aware on purpose: `typecheck` already runs tsc, and this keeps
// `lint` fast on two cores.
import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/test-results/**", "**/coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "no-console": "error",
      "no-restricted-syntax": [
        "error",
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: "Read configuration through Effect Config." }
      ]
    }
  },
  {
    files: ["test/**", "examples/**", "bench/**", "scripts/**", "**/*.config.*"],
    rules: { "no-console": "off", "no-restricted-syntax": "off" }
  }
)
