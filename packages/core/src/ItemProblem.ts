/**
 * Item problems: one item of a provider's answer that could not be decoded. A connector reports each
 * bad item here and keeps every good one, so one unexpected item costs that item, not the resource.
 * The runner installs a collector (a FiberRef, like `Progress`) for each resource it reads; a read
 * that reported problems becomes a `partial` result carrying them, which drift treats as incomplete.
 */
import { Effect, FiberRef, Schema } from "effect"

/** One item that could not be decoded: where it was, what it was called, and what the schema said. */
export class ItemProblem extends Schema.Class<ItemProblem>("@plumbline/core/ItemProblem")({
  /** The item's 0-based index in the listing (across pages). */
  index: Schema.Number,
  /** The item's id, when it has a readable one. */
  id: Schema.optional(Schema.String),
  /** JSON Pointer of the offending value, relative to the item. */
  path: Schema.String,
  /** The schema's message. */
  message: Schema.String
}) {}

/** Where problems of the resource being read go. */
export interface Collector {
  readonly report: (problem: ItemProblem) => void
}

const dropped: Collector = { report: () => {} }

/** The collector of the current fiber; problems are dropped outside a snapshot. */
export const currentCollector: FiberRef.FiberRef<Collector> = FiberRef.unsafeMake(dropped)

/** Reports one bad item of the resource being read. */
export const report = (problem: ItemProblem): Effect.Effect<void> =>
  Effect.map(FiberRef.get(currentCollector), (c) => c.report(problem))

/** A collector that keeps what it is given, in order. */
export const makeCollector = (): Collector & { readonly problems: ReadonlyArray<ItemProblem> } => {
  const problems: Array<ItemProblem> = []
  return { problems, report: (problem) => void problems.push(problem) }
}
