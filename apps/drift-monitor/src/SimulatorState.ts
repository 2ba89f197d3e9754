/**
 * Keeps the demo's simulated Cloudflare account across restarts: the simulator holds its world in
 * memory, so `demo` saves it to the data folder when it stops and restores it when it starts. Then
 * a restart of the demo behaves like a restart against Cloudflare — the rule the customer added and
 * the token they revoked are still there — and nothing the app stored looks stale.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { State } from "@plumbline/cloudflare-simulator"

/** The file in the data folder. */
export const fileIn = (dataDir: string): string => join(dataDir, "simulator-state.json")

/** The state as JSON (its Maps as entry lists). */
export const serialize = (state: State.State): string =>
  JSON.stringify(state, (_key, value: unknown) => (value instanceof Map ? { $map: Array.from(value.entries()) } : value))

/** Replaces the contents of `into` with a serialized state. */
export const restore = (into: State.State, text: string): void => {
  const parsed = JSON.parse(text, (_key, value: unknown) =>
    typeof value === "object" && value !== null && "$map" in value ? new Map((value as { $map: Array<[unknown, unknown]> }).$map) : value
  ) as State.State
  Object.assign(into, parsed)
}

/** Restores the state saved in `dataDir`, if any; returns whether it did. */
export const load = (into: State.State, dataDir: string): boolean => {
  const file = fileIn(dataDir)
  if (!existsSync(file)) return false
  restore(into, readFileSync(file, "utf8"))
  return true
}

/** Saves the state to `dataDir` (written aside, then renamed, so a crash never leaves half a file). */
export const save = (state: State.State, dataDir: string): void => {
  const file = fileIn(dataDir)
  writeFileSync(`${file}.tmp`, serialize(state), { mode: 0o600 })
  renameSync(`${file}.tmp`, file)
}
