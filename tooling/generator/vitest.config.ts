import { makeConfig } from "@plumbline/vitest-config"

// The end-to-end test copies a workspace, installs it offline and runs a generated package's checks.
export default makeConfig({ testTimeout: 120_000 })
