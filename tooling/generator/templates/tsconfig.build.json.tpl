{
  "extends": "@plumbline/tsconfig/library.json",
  "include": ["src"]
}
