import type { UserConfig, UserWorkspaceConfig } from "vitest/config"

/** The shared config with some `test` options replaced. */
export declare const makeConfig: (overrides?: UserConfig["test"]) => UserWorkspaceConfig
declare const config: UserWorkspaceConfig
export default config
