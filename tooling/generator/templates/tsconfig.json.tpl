{
  "extends": "@plumbline/tsconfig/base.json",
  "include": ["src", "test", "examples", "*.config.ts"]
}
