import shared from "@plumbline/eslint-config"

export default [
  ...shared,
  { ignores: ["results/**"] }
]
