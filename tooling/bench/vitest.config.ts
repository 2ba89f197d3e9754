import { makeConfig } from "@plumbline/vitest-config"

export default makeConfig()
