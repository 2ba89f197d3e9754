/**
 * The v4 envelope, API errors and the paging styles, shared by every route.
 */
import { Data } from "effect"

/** An entry of `errors` / `messages`. */
export interface ApiMessage {
  readonly code: number
  readonly message: string
  readonly error_chain?: ReadonlyArray<ApiMessage>
  readonly source?: { readonly pointer: string }
}

/** A failure a route answers with; caught by the handler and rendered as the v4 envelope. */
export class ApiFailure extends Data.TaggedError("ApiFailure")<{
  readonly status: number
  readonly errors: ReadonlyArray<ApiMessage>
}> {
  override get message(): string {
    return `HTTP ${this.status}: ${this.errors.map((e) => `${e.code} ${e.message}`).join("; ")}`
  }
}

/** Shorthands for the failures of API-NOTES §3. */
export const fail = {
  missingCredentials: () =>
    new ApiFailure({ status: 400, errors: [{ code: 9106, message: "Missing X-Auth-Key, X-Auth-Email or Authorization headers" }] }),
  malformedCredentials: (code: 6103 | 6111, header: string) =>
    new ApiFailure({
      status: 400,
      errors: [{ code: 6003, message: "Invalid request headers", error_chain: [{ code, message: `Invalid format for ${header} header` }] }]
    }),
  rateLimited: () => new ApiFailure({ status: 429, errors: [{ code: 971, message: "Please wait and consider throttling your request speed" }] }),
  invalidToken: () => new ApiFailure({ status: 401, errors: [{ code: 1000, message: "Invalid API Token" }] }),
  /**
   * A suspended or locked account: 403 with the generic refusal code 10000 and a message naming the
   * state. No dedicated Cloudflare code is published (connector API-NOTES, "Suspended or locked accounts").
   */
  accountUnavailable: (state: "suspended" | "locked") =>
    new ApiFailure({ status: 403, errors: [{ code: 10000, message: `This account is ${state}; contact Cloudflare support` }] }),
  /** A plan or entitlement refusal: 10010 `<product>.api.not_entitled` (see API-NOTES "403 kinds"). */
  notEntitled: (product: string) => new ApiFailure({ status: 403, errors: [{ code: 10010, message: `${product}.api.not_entitled` }] }),
  forbidden: () => new ApiFailure({ status: 403, errors: [{ code: 10000, message: "Authentication error" }] }),
  notFound: (path: string) =>
    new ApiFailure({ status: 404, errors: [{ code: 7003, message: `Could not route to ${path}, perhaps your object identifier is invalid?` }] }),
  noRoute: () => new ApiFailure({ status: 404, errors: [{ code: 7000, message: "No route for that URI" }] }),
  methodNotAllowed: () => new ApiFailure({ status: 405, errors: [{ code: 10405, message: "Method not allowed for api_token authentication scheme" }] }),
  invalidParam: (detail: string) =>
    new ApiFailure({ status: 400, errors: [{ code: 6008, message: "Invalid request parameters", error_chain: [{ code: 11000, message: detail }] }] }),
  invalidBody: (code: number, detail: string) => new ApiFailure({ status: 400, errors: [{ code, message: detail }] }),
  noEntrypoint: (phase: string) => new ApiFailure({ status: 404, errors: [{ code: 10003, message: `could not find entrypoint ruleset in the ${phase} phase` }] }),
  gone: () => new ApiFailure({ status: 410, errors: [{ code: 10410, message: "Gone: this endpoint is retired; use the Rulesets API instead." }] })
}

/** A successful route result: the `result` and optional `result_info`. */
export interface Ok {
  readonly status?: number
  readonly result: unknown
  readonly result_info?: Readonly<Record<string, unknown>>
  readonly messages?: ReadonlyArray<ApiMessage>
}

/** Renders a success body. */
export const successBody = (ok: Ok): Record<string, unknown> => {
  const body: Record<string, unknown> = { result: ok.result, success: true, errors: [], messages: ok.messages ?? [] }
  if (ok.result_info !== undefined) body["result_info"] = ok.result_info
  return body
}

/** Renders a failure body. */
export const failureBody = (failure: ApiFailure): Record<string, unknown> => ({
  result: null,
  success: false,
  errors: failure.errors,
  messages: []
})

/** Bounds of a page-based endpoint. */
export interface PageBounds {
  readonly min: number
  readonly max: number
  readonly default: number
  /** Extra rule on the value (legacy rate limits: 1 or a multiple of 5). */
  readonly check?: (n: number) => boolean
}

const parseIntParam = (query: URLSearchParams, name: string): number | undefined => {
  const raw = query.get(name)
  if (raw === null) return undefined
  if (!/^\d+$/.test(raw.trim())) throw fail.invalidParam(`${name} must be a positive integer`)
  return Number(raw)
}

/** Reads and checks `page` / `per_page`. */
export const readPage = (query: URLSearchParams, bounds: PageBounds): { page: number; perPage: number } => {
  const page = parseIntParam(query, "page") ?? 1
  if (page < 1) throw fail.invalidParam("page must be a number greater than or equal to 1")
  const perPage = parseIntParam(query, "per_page") ?? bounds.default
  if (perPage < bounds.min || perPage > bounds.max || (bounds.check !== undefined && !bounds.check(perPage))) {
    throw fail.invalidParam(`per_page must be a number between ${bounds.min} and ${bounds.max}`)
  }
  return { page, perPage }
}

/** Reads and checks `per_page` alone (cursor-paged endpoints). */
export const readPerPage = (query: URLSearchParams, bounds: PageBounds): number => {
  const perPage = parseIntParam(query, "per_page") ?? bounds.default
  if (perPage < bounds.min || perPage > bounds.max) throw fail.invalidParam(`per_page must be a number between ${bounds.min} and ${bounds.max}`)
  return perPage
}

/** Slices a page; `result_info` has page, per_page, count, total_count and total_pages. */
export const pageOf = <A>(items: ReadonlyArray<A>, page: number, perPage: number): Ok => {
  const start = (page - 1) * perPage
  const slice = items.slice(start, start + perPage)
  return {
    result: slice,
    result_info: {
      page,
      per_page: perPage,
      count: slice.length,
      total_count: items.length,
      total_pages: Math.ceil(items.length / perPage)
    }
  }
}

/** Encodes an offset as an opaque cursor. */
export const encodeCursor = (offset: number, salt: string): string =>
  Buffer.from(JSON.stringify({ o: offset, s: salt })).toString("base64url")

/** Decodes a cursor made by `encodeCursor` for the same collection, or fails 400. */
export const decodeCursor = (cursor: string, salt: string): number => {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
    if (typeof parsed === "object" && parsed !== null && "o" in parsed && "s" in parsed) {
      const { o, s } = parsed as { o: unknown; s: unknown }
      if (typeof o === "number" && Number.isInteger(o) && o >= 0 && s === salt) return o
    }
  } catch {
    // fall through to the 400 below
  }
  throw fail.invalidParam("cursor is invalid")
}

/** Reads an enum query parameter, failing 400 on other values. */
export const readEnum = <A extends string>(query: URLSearchParams, name: string, values: ReadonlyArray<A>): A | undefined => {
  const raw = query.get(name)
  if (raw === null) return undefined
  if (!(values as ReadonlyArray<string>).includes(raw)) throw fail.invalidParam(`${name} must be one of ${values.join(", ")}`)
  return raw as A
}

/** Reads a boolean query parameter. */
export const readBool = (query: URLSearchParams, name: string): boolean | undefined => {
  const raw = query.get(name)
  if (raw === null) return undefined
  if (raw === "true") return true
  if (raw === "false") return false
  throw fail.invalidParam(`${name} must be true or false`)
}

/** Compares two values for sorting (strings by code point, numbers numerically). */
export const compare = (a: unknown, b: unknown): number => {
  if (typeof a === "number" && typeof b === "number") return a - b
  const sa = String(a ?? "")
  const sb = String(b ?? "")
  return sa < sb ? -1 : sa > sb ? 1 : 0
}

/** Is this a 32-character lowercase hex id? */
export const isId = (s: string): boolean => /^[0-9a-f]{32}$/.test(s)
