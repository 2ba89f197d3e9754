import shared from "@plumbline/eslint-config"

export default [
  ...shared,
  { ignores: ["templates/**"] },
  {
    // The generator is a command-line script: it prints and reads its arguments.
    files: ["*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
    rules: { "no-console": "off" }
  }
]
