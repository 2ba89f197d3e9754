/**
 * Provider pagination, as Streams (`pageNumber`, `cursor`) or read whole into one array
 * (`collectPageNumber`, `collectCursor`). Two styles cover the APIs we read:
 *
 * - page numbers (`?page=N&per_page=M`), stopping at `totalPages` when the provider reports it and
 *   otherwise at the first short or empty page;
 * - cursors (`?cursor=…`), stopping when no cursor comes back.
 *
 * Both guard against a provider that serves a page again (a loop that would never end, or pages
 * that overlap): a page with an item already listed, or a cursor that comes back, fails the listing with
 * `RequestRejected` reason `repeated-page`. Each fetched page is reported to the progress reporter.
 */
import { Chunk, Effect, Option, Stream } from "effect"
import { RequestRejected } from "./ConnectorError.js"
import * as Progress from "./Progress.js"

/** One page of a page-number listing. */
export interface NumberedPage<A> {
  readonly items: ReadonlyArray<A>
  /** Total pages, when the provider reports it. */
  readonly totalPages?: number | undefined
  /**
   * How many items the provider sent, when some were left out (undecodable): whether a page was full
   * is judged on this, so a dropped item never ends the listing early.
   */
  readonly rawCount?: number | undefined
}

/** Options of a page-number listing. */
export interface PageNumberOptions<A, E, R> {
  /** The page size requested (the largest the provider allows). */
  readonly perPage: number
  /** Fetches page `page` (1-based). */
  readonly fetch: (page: number) => Effect.Effect<NumberedPage<A>, E, R>
  /** Identifies an item, to detect repeated pages. */
  readonly key: (item: A) => string
  /** Names the listing in errors (method and path). */
  readonly path: string
}

const repeated = (path: string, detail: string) =>
  new RequestRejected({ reason: "repeated-page", method: "GET", path, detail })

/** One fetched page and the state of the next one (`undefined` at the end). */
interface Step<A, S> {
  readonly items: ReadonlyArray<A>
  readonly next: S | undefined
}

/** The pages from `first`, each fetched by `step`, as a Stream. `step` is made afresh per run. */
const streamPages = <A, S, E, R>(first: S, makeStep: () => (state: S) => Effect.Effect<Step<A, S>, E, R>): Stream.Stream<A, E, R> =>
  Stream.suspend(() => {
    const step = makeStep()
    return Stream.paginateChunkEffect(first, (state: S) =>
      Effect.map(step(state), ({ items, next }) => [Chunk.fromIterable(items), next === undefined ? Option.none() : Option.some(next)] as const)
    )
  })

/** The pages from `first`, each fetched by `step`, read into one array. `step` is made afresh per run. */
const collectPages = <A, S, E, R>(first: S, makeStep: () => (state: S) => Effect.Effect<Step<A, S>, E, R>): Effect.Effect<ReadonlyArray<A>, E, R> =>
  Effect.suspend(() => {
    const step = makeStep()
    const out: Array<A> = []
    const from = (state: S): Effect.Effect<ReadonlyArray<A>, E, R> =>
      Effect.flatMap(step(state), ({ items, next }) => {
        for (const item of items) out.push(item)
        return next === undefined ? Effect.succeed(out) : from(next)
      })
    return from(first)
  })

/**
 * One page of a page-number listing: fetched, reported, checked against the items `seen` before it;
 * with the next page's number when there is one.
 */
const numberedStep = <A, E, R>(options: PageNumberOptions<A, E, R>, seen: Set<string>, page: number) =>
  Effect.flatMap(options.fetch(page), (result) => {
    const sent = result.rawCount ?? result.items.length
    const keys = result.items.map(options.key)
    const again = keys.find((key) => seen.has(key))
    if (again !== undefined) {
      return Effect.zipRight(
        Progress.reportPage(page, sent),
        Effect.fail(repeated(options.path, `page ${page} repeats items already listed (${again})`))
      )
    }
    for (const key of keys) seen.add(key)
    const more = sent > 0 && (result.totalPages === undefined ? sent >= options.perPage : page < result.totalPages)
    return Effect.as(Progress.reportPage(page, sent), { items: result.items, next: more ? page + 1 : undefined })
  })

/** Streams every item of a page-number listing. */
export const pageNumber = <A, E, R>(options: PageNumberOptions<A, E, R>): Stream.Stream<A, E | RequestRejected, R> =>
  streamPages(1, () => {
    const seen = new Set<string>()
    return (page: number) => numberedStep(options, seen, page)
  })

/**
 * Every item of a page-number listing, read page after page into one array: what `pageNumber`
 * streams, at a fraction of the cost of collecting a Stream (a snapshot reads thousands of listings).
 */
export const collectPageNumber = <A, E, R>(options: PageNumberOptions<A, E, R>): Effect.Effect<ReadonlyArray<A>, E | RequestRejected, R> =>
  collectPages(1, () => {
    const seen = new Set<string>()
    return (page: number) => numberedStep(options, seen, page)
  })

/** One page of a cursor listing. */
export interface CursorPage<A> {
  readonly items: ReadonlyArray<A>
  /** The cursor of the next page; absent or empty at the end. */
  readonly next?: string | undefined
}

/** Options of a cursor listing. */
export interface CursorOptions<A, E, R> {
  /** Fetches the page after `cursor` (none for the first page). */
  readonly fetch: (cursor: Option.Option<string>) => Effect.Effect<CursorPage<A>, E, R>
  /** Names the listing in errors (method and path). */
  readonly path: string
}

/** One page of a cursor listing, with the state of the next page when there is one. */
interface CursorState {
  readonly cursor: Option.Option<string>
  readonly page: number
}

const cursorStep = <A, E, R>(options: CursorOptions<A, E, R>, seen: Set<string>, state: CursorState): Effect.Effect<Step<A, CursorState>, E | RequestRejected, R> =>
  Effect.gen(function* () {
    const result = yield* options.fetch(state.cursor)
    yield* Progress.reportPage(state.page, result.items.length)
    const next = result.next === undefined || result.next === "" ? undefined : result.next
    if (next !== undefined) {
      if (seen.has(next)) return yield* Effect.fail(repeated(options.path, `cursor ${next} came back`))
      seen.add(next)
    }
    return { items: result.items, next: next === undefined ? undefined : { cursor: Option.some(next), page: state.page + 1 } }
  })

const firstCursor: CursorState = { cursor: Option.none<string>(), page: 1 }

/** Streams every item of a cursor listing. */
export const cursor = <A, E, R>(options: CursorOptions<A, E, R>): Stream.Stream<A, E | RequestRejected, R> =>
  streamPages(firstCursor, () => {
    const seen = new Set<string>()
    return (state: CursorState) => cursorStep(options, seen, state)
  })

/** Every item of a cursor listing, read page after page into one array (see `collectPageNumber`). */
export const collectCursor = <A, E, R>(options: CursorOptions<A, E, R>): Effect.Effect<ReadonlyArray<A>, E | RequestRejected, R> =>
  collectPages(firstCursor, () => {
    const seen = new Set<string>()
    return (state: CursorState) => cursorStep(options, seen, state)
  })
