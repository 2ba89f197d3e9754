export { default } from "@plumbline/eslint-config"
