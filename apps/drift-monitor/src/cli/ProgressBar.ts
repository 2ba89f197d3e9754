/**
 * The one-line progress bar `plumbline snapshot` draws on a terminal's stderr while a snapshot runs:
 * resources read out of those known so far, and the zone being read. The total grows as the runner
 * discovers scopes (each zone adds its resources), so the bar can step back a little when a new
 * account's zones appear; it never claims more than it knows. Pure functions, tested directly; the
 * command decides when to redraw.
 */
import type { Progress } from "@plumbline/core"

/** What the bar shows. */
export interface State {
  /** Resource reads finished (any status). */
  readonly done: number
  /** Resource reads known so far: every resource of every scope started. */
  readonly total: number
  /** Of the finished reads, those that failed. */
  readonly failed: number
  /** The zone (or other non-root scope) most recently worked on, by name. */
  readonly current: string | undefined
}

/** Nothing read yet. */
export const initial: State = { done: 0, total: 0, failed: 0, current: undefined }

/**
 * The state after one progress event. `resourcesIn(kind)` is how many resources the connector reads
 * in a scope of that kind (what a started scope adds to the total).
 */
export const step = (state: State, event: Progress.ProgressEvent, resourcesIn: (kind: string) => number): State => {
  switch (event._tag) {
    case "ScopeStarted":
      return {
        ...state,
        total: state.total + resourcesIn(event.scope.kind),
        current: event.scope.parent === undefined ? state.current : labelOf(event.scope)
      }
    case "PageFetched":
      return state
    case "ResourceFinished":
      return {
        ...state,
        done: state.done + 1,
        failed: state.failed + (event.status === "failed" ? 1 : 0),
        current: event.scope.parent === undefined ? state.current : labelOf(event.scope)
      }
  }
}

const labelOf = (scope: { readonly kind: string; readonly id: string; readonly name?: string | undefined }): string =>
  `${scope.kind} ${scope.name ?? scope.id}`

/**
 * The bar as one line of at most `columns - 1` characters (the last column is left free so the
 * terminal never wraps), e.g. `snapshot [██████░░░░░░░░░░░░] 12/34 resources · zone redpine.io`.
 */
export const render = (state: State, columns: number): string => {
  const limit = Math.max(10, columns - 1)
  const count = `${state.done}/${state.total} resources${state.failed > 0 ? ` (${state.failed} failed)` : ""}`
  const where = state.current === undefined ? "" : ` · ${state.current}`
  const fixed = `snapshot [] ${count}`
  const barWidth = Math.max(0, Math.min(30, limit - fixed.length - where.length))
  const ratio = state.total === 0 ? 0 : Math.min(1, state.done / state.total)
  const filled = Math.round(ratio * barWidth)
  const bar = barWidth === 0 ? "" : `[${"█".repeat(filled)}${"░".repeat(barWidth - filled)}] `
  const line = `snapshot ${bar}${count}${where}`
  return line.length <= limit ? line : `${line.slice(0, limit - 1)}…`
}

/** The control sequence that returns to the line's start and clears it (redraw, or erase when done). */
export const clearLine = "\r\u001b[K"
