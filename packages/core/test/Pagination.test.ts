import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Option, Stream } from "effect"
import type { RequestRejected } from "../src/ConnectorError.js"
import * as Pagination from "../src/Pagination.js"

const PER_PAGE = 3
const items = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `item-${i}` }))

/** A page-number provider over `all`, counting the pages it serves. */
const numbered = (all: ReadonlyArray<{ id: string }>, reportTotal: boolean) => {
  const calls: Array<number> = []
  const fetch = (page: number) =>
    Effect.sync(() => {
      calls.push(page)
      return {
        items: all.slice((page - 1) * PER_PAGE, page * PER_PAGE),
        totalPages: reportTotal ? Math.ceil(all.length / PER_PAGE) : undefined
      }
    })
  return { calls, options: { perPage: PER_PAGE, fetch, key: (i: { id: string }) => i.id, path: "/things" } }
}

/** A cursor provider over `all`. */
const cursored = (all: ReadonlyArray<{ id: string }>) => {
  const calls: Array<Option.Option<string>> = []
  const fetch = (cursor: Option.Option<string>) =>
    Effect.sync(() => {
      calls.push(cursor)
      const start = Option.match(cursor, { onNone: () => 0, onSome: (c) => Number(c.replace("c", "")) })
      const end = start + PER_PAGE
      return { items: all.slice(start, end), next: end < all.length ? `c${end}` : undefined }
    })
  return { calls, options: { fetch, path: "/things" } }
}

/** Both ways to read a listing, which must agree in everything: streamed, and read whole. */
interface Mode {
  readonly name: string
  readonly pages: <A, E>(options: Pagination.PageNumberOptions<A, E, never>) => Effect.Effect<ReadonlyArray<A>, E | RequestRejected>
  readonly cursor: <A, E>(options: Pagination.CursorOptions<A, E, never>) => Effect.Effect<ReadonlyArray<A>, E | RequestRejected>
}
const modes: ReadonlyArray<Mode> = [
  {
    name: "streamed",
    pages: <A, E>(options: Pagination.PageNumberOptions<A, E, never>) =>
      Effect.map(Stream.runCollect(Pagination.pageNumber(options)), Chunk.toReadonlyArray),
    cursor: <A, E>(options: Pagination.CursorOptions<A, E, never>) =>
      Effect.map(Stream.runCollect(Pagination.cursor(options)), Chunk.toReadonlyArray)
  },
  { name: "read whole", pages: Pagination.collectPageNumber, cursor: Pagination.collectCursor }
]

const cases = [
  { name: "no items", count: 0, pagesWithTotal: 1, pagesWithout: 1, cursorPages: 1 },
  { name: "one item", count: 1, pagesWithTotal: 1, pagesWithout: 1, cursorPages: 1 },
  { name: "exactly one full page", count: PER_PAGE, pagesWithTotal: 1, pagesWithout: 2, cursorPages: 1 },
  { name: "one full page plus one", count: PER_PAGE + 1, pagesWithTotal: 2, pagesWithout: 2, cursorPages: 2 }
]

describe("Pagination", () => {
  for (const mode of modes) describe(mode.name, () => {
    for (const c of cases) {
      it.effect(`page numbers with total_pages: ${c.name}`, () =>
        Effect.gen(function* () {
          const provider = numbered(items(c.count), true)
          const out = yield* mode.pages(provider.options)
          assert.deepStrictEqual(out, items(c.count))
          assert.strictEqual(provider.calls.length, c.pagesWithTotal)
        }))

      it.effect(`page numbers without total_pages stop at a short page: ${c.name}`, () =>
        Effect.gen(function* () {
          const provider = numbered(items(c.count), false)
          const out = yield* mode.pages(provider.options)
          assert.deepStrictEqual(out, items(c.count))
          assert.strictEqual(provider.calls.length, c.pagesWithout)
        }))

      it.effect(`cursors: ${c.name}`, () =>
        Effect.gen(function* () {
          const provider = cursored(items(c.count))
          const out = yield* mode.cursor(provider.options)
          assert.deepStrictEqual(out, items(c.count))
          assert.strictEqual(provider.calls.length, c.cursorPages)
        }))
    }

    it.effect("fails on a page that repeats the previous one", () =>
      Effect.gen(function* () {
        const fetch = (page: number) =>
          Effect.succeed({ items: page === 1 ? items(3) : items(3), totalPages: 99 })
        const exit = yield* Effect.exit(
          mode.pages({ perPage: 3, fetch, key: (i) => i.id, path: "/loop" })
        )
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
          assert.strictEqual(exit.cause.error.reason, "repeated-page")
          assert.include(exit.cause.error.message, "page 2 repeats")
        }
      }))

    it.effect("fails on a cursor that comes back", () =>
      Effect.gen(function* () {
        const fetch = (cursor: Option.Option<string>) =>
          Effect.succeed({ items: items(1), next: Option.isNone(cursor) ? "a" : cursor.value === "a" ? "b" : "a" })
        const exit = yield* Effect.exit(mode.cursor({ fetch, path: "/loop" }))
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit) && exit.cause._tag === "Fail") assert.strictEqual(exit.cause.error.reason, "repeated-page")
      }))

    it.effect("stops at the first empty page even when total_pages promises more", () =>
      Effect.gen(function* () {
        const calls: Array<number> = []
        const fetch = (page: number) =>
          Effect.sync(() => {
            calls.push(page)
            return { items: page === 1 ? items(3) : [], totalPages: 5 }
          })
        const out = yield* mode.pages({ perPage: 3, fetch, key: (i) => i.id, path: "/x" })
        assert.strictEqual(out.length, 3)
        assert.deepStrictEqual(calls, [1, 2])
      }))

    it.effect("fails on a page that overlaps an earlier one", () =>
      Effect.gen(function* () {
        const fetch = (page: number) =>
          Effect.succeed({ items: page === 1 ? items(3) : [{ id: "item-2" }, { id: "item-9" }], totalPages: 2 })
        const exit = yield* Effect.exit(
          mode.pages({ perPage: 3, fetch, key: (i) => i.id, path: "/overlap" })
        )
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
          assert.strictEqual(exit.cause.error.reason, "repeated-page")
          assert.include(exit.cause.error.message, "item-2")
        }
      }))
  })

  it.effect("a listing read twice starts afresh each time", () =>
    Effect.gen(function* () {
      const provider = numbered(items(4), true)
      const stream = Pagination.pageNumber(provider.options)
      const whole = Pagination.collectPageNumber(provider.options)
      assert.strictEqual((yield* Stream.runCollect(stream)).length, 4)
      assert.strictEqual((yield* Stream.runCollect(stream)).length, 4)
      assert.strictEqual((yield* whole).length, 4)
      assert.strictEqual((yield* whole).length, 4)
    }))
})
