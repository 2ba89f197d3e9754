/**
 * Pagination as fake providers serve it: slice a list into numbered pages or cursor pages from a
 * request's query, the way the real provider would, so a fake route stays a one-liner.
 */

/** A numbered page of `items` and what the provider reports about the listing. */
export interface NumberedPage<A> {
  readonly items: ReadonlyArray<A>
  readonly page: number
  readonly perPage: number
  readonly totalPages: number
  readonly totalCount: number
}

/** Options of `byPageNumber`: the query parameter names and the provider's page size rules. */
export interface PageNumberOptions {
  readonly pageParam?: string
  readonly perPageParam?: string
  readonly defaultPerPage: number
  readonly maxPerPage?: number
}

/** The page of `items` a page-number request asks for (1-based; `page` past the end is empty). */
export const byPageNumber = <A>(items: ReadonlyArray<A>, query: URLSearchParams, options: PageNumberOptions): NumberedPage<A> => {
  const page = Math.max(1, Number(query.get(options.pageParam ?? "page") ?? "1") || 1)
  const asked = Number(query.get(options.perPageParam ?? "per_page") ?? options.defaultPerPage) || options.defaultPerPage
  const perPage = Math.max(1, Math.min(asked, options.maxPerPage ?? asked))
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    page,
    perPage,
    totalPages: Math.ceil(items.length / perPage),
    totalCount: items.length
  }
}

/** A cursor page of `items`: `next` is absent on the last page. */
export interface CursorPage<A> {
  readonly items: ReadonlyArray<A>
  readonly next: string | undefined
}

/** Options of `byCursor`. */
export interface CursorOptions {
  readonly cursorParam?: string
  readonly limitParam?: string
  readonly defaultLimit: number
}

/** The page of `items` after the request's cursor (an opaque offset). */
export const byCursor = <A>(items: ReadonlyArray<A>, query: URLSearchParams, options: CursorOptions): CursorPage<A> => {
  const cursor = query.get(options.cursorParam ?? "cursor")
  const start = cursor === null ? 0 : Number(Buffer.from(cursor, "base64url").toString("utf8").replace(/^offset:/, "")) || 0
  const limit = Math.max(1, Number(query.get(options.limitParam ?? "limit") ?? options.defaultLimit) || options.defaultLimit)
  const end = start + limit
  return {
    items: items.slice(start, end),
    next: end < items.length ? Buffer.from(`offset:${end}`, "utf8").toString("base64url") : undefined
  }
}
