{
  "name": "@plumbline/__name__",
  "version": "0.0.0",
  "description": "Plumbline's read-only __Title__ connector.",
  "license": "MIT",
  "type": "module",
  "sideEffects": [],
  "engines": {
    "node": ">=20.19"
  },
  "files": [
    "dist",
    "src",
    "README.md"
  ],
  "exports": {
    ".": {
      "types": "./dist/index.d.ts",
      "import": "./dist/index.js"
    },
    "./*": {
      "types": "./dist/*.d.ts",
      "import": "./dist/*.js"
    },
    "./internal/*": null,
    "./package.json": "./package.json"
  },
  "scripts": {
    "build": "tsc -p tsconfig.build.json",
    "typecheck": "tsc -p tsconfig.json",
    "lint": "eslint .",
    "test": "vitest run"
  },
  "dependencies": {
    "@effect/platform": "catalog:",
    "@plumbline/core": "workspace:*",
    "effect": "catalog:"
  },
  "devDependencies": {
    "@effect/vitest": "catalog:",
    "@plumbline/eslint-config": "workspace:*",
    "@plumbline/testkit": "workspace:*",
    "@plumbline/tsconfig": "workspace:*",
    "@plumbline/vitest-config": "workspace:*",
    "@types/node": "catalog:",
    "eslint": "catalog:",
    "typescript": "catalog:",
    "vitest": "catalog:"
  }
}
