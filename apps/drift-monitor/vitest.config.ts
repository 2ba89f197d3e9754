export { default } from "@plumbline/vitest-config"
