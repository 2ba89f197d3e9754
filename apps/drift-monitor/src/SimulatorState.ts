/**
 * Keeps the demo's simulated Cloudflare account across restarts: the simulator holds its world in
 * memory, so `demo` saves it to the data folder after every request that changed it (before the
 * answer is sent, so a change the customer saw acknowledged survives even `kill -9`) and restores it
 * when it starts. Then
 * a restart of the demo behaves like a restart against Cloudflare — the rule the customer added and
 * the token they revoked are still there — and nothing the app stored looks stale.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs"
import { join } from "node:path"
import type { Simulator, State } from "@plumbline/cloudflare-simulator"
import * as DataFolder from "./DataFolder.js"

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

/**
 * Saves the state to `dataDir` atomically: written to a temp file in the same folder, flushed to
 * disk, then renamed over the old file, so a crash leaves the old state or the new, never half a file.
 */
export const save = (state: State.State, dataDir: string): void => writeAtomically(fileIn(dataDir), serialize(state))

const writeAtomically = (file: string, text: string): void => {
  const temp = `${file}.tmp`
  const fd = openSync(temp, "w", 0o600)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, file)
  // The rename itself reaches the disk with the folder's entry.
  const dir = openSync(join(file, ".."), "r")
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}

/**
 * `simulator`, saving its state to `dataDir` whenever a request (an API write, an `/__admin` route,
 * a scheduled revocation coming due) or `revokeToken` changed it. The save happens before the answer
 * is returned, so every change a client saw acknowledged is on disk. Serve this one, not `simulator`.
 */
export const savingOnChange = (simulator: Simulator.Simulator, dataDir: string): Simulator.Simulator => {
  DataFolder.secureFolder(dataDir)
  let saved = serialize(simulator.state)
  const saveIfChanged = () => {
    const now = serialize(simulator.state)
    if (now === saved) return
    writeAtomically(fileIn(dataDir), now)
    saved = now
  }
  return {
    ...simulator,
    handle: async (request) => {
      const response = await simulator.handle(request)
      saveIfChanged()
      return response
    },
    revokeToken: (name) => {
      simulator.revokeToken(name)
      saveIfChanged()
    }
  }
}
