/**
 * Builds request facts from a simple description of a request: method, URL (or scheme, host,
 * path and query), headers, body, client IP and geo data. The shape is the `request_model` of
 * the conformance cases, so a case's `request` object can be passed as is. Everything the
 * reference derives is derived here: `http.request.uri`, `full_uri`, `uri.args`, the path
 * extension, `raw.*` fields, header maps and arrays, cookies, form fields, `ssl` and the port.
 */
import type { FieldInput, Facts, RuntimeValue } from "./Facts.js"
import { convert, unsafeFromValues } from "./Facts.js"
import { asciiLower, fromUtf8, hexByte, percentDecode } from "./internal/bytes.js"
import { parseIp } from "./internal/ip.js"
import { normalizePercentEncoding, removeDotSegments } from "./internal/url.js"
import { fieldType } from "./Scheme.js"

/** A request described in plain terms. Every key is optional; defaults follow `request_model`. */
export interface RequestDescription {
  /** `http.request.method`, verbatim (default `"GET"`). */
  readonly method?: string
  /** A whole URL (`https://host/path?query`); explicit scheme/host/path/query win over it. */
  readonly url?: string
  /** `"https"` (default) or `"http"`; sets `ssl` and the default `cf.edge.server_port`. */
  readonly scheme?: string
  /** `http.host`, verbatim (default `"example.com"`). */
  readonly host?: string
  /** The request path as sent (default `"/"`). */
  readonly path?: string
  /** The query string without `?` (default `""`). */
  readonly query?: string
  /** `ip.src` (default `"198.51.100.10"`). */
  readonly ip?: string
  /** `ip.src.country` / `ip.geoip.country` (default `"US"`). */
  readonly country?: string
  /** `ip.src.asnum` / `ip.geoip.asnum` (default 0). */
  readonly asn?: number
  /** `http.request.version` (default `"HTTP/1.1"`). */
  readonly version?: string
  /** Header name (case kept) to one value or several values in order. */
  readonly headers?: Readonly<Record<string, string | ReadonlyArray<string>>>
  /** The request body. */
  readonly body?: string
  /** `cf.threat_score` (default 0). */
  readonly threat_score?: number
  /** `cf.bot_management.score` (default 0). */
  readonly bot_score?: number
  /** `cf.client.bot` and `cf.bot_management.verified_bot` (default false). */
  readonly verified_bot?: boolean
  /**
   * Apply Cloudflare URL normalization to the non-raw URI fields, as a zone with "Normalize
   * incoming URLs" does (default false: the path is used verbatim, as in `request_model`).
   */
  readonly normalize?: boolean
  /** Explicit field overrides, applied last. */
  readonly fields?: Readonly<Record<string, FieldInput>>
}

const URL_PATTERN = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/s

interface UrlParts {
  readonly scheme?: string
  readonly host?: string
  readonly path?: string
  readonly query?: string
}

/** Splits a URL without normalizing any part of it (unlike WHATWG `URL`). */
export const splitUrl = (url: string): UrlParts => {
  const m = URL_PATTERN.exec(url)
  if (m === null) {
    const q = url.indexOf("?")
    const noFragment = (s: string) => s.split("#")[0]!
    return q < 0 ? { path: noFragment(url) } : { path: url.slice(0, q), query: noFragment(url.slice(q + 1)) }
  }
  return {
    scheme: m[1]!.toLowerCase(),
    host: m[2]!,
    path: m[3] === "" ? "/" : m[3]!,
    ...(m[4] !== undefined ? { query: m[4] } : {})
  }
}

/**
 * Cloudflare URL normalization of a path (byte string): decode percent-encoded unreserved
 * characters, upper-case the remaining percent-encodings, turn `\` into `/`, merge runs of `/`
 * and remove `.`/`..` segments.
 */
export const normalizePath = (path: string): string => {
  // Percent-decoding yields only unreserved characters, never a `\`, so the order does not matter.
  const merged = normalizePercentEncoding(path).replace(/\\/g, "/").replace(/\/{2,}/g, "/")
  return removeDotSegments(merged.startsWith("/") ? merged : "/" + merged)
}

/** The lower-cased extension of the last path segment, `""` if none. */
export const pathExtension = (path: string): string => {
  const segment = path.slice(path.lastIndexOf("/") + 1)
  const dot = segment.lastIndexOf(".")
  if (dot < 0 || dot === segment.length - 1) return ""
  if (dot === 0 && segment.indexOf(".") === 0 && segment.lastIndexOf(".") === 0) return ""
  return asciiLower(segment.slice(dot + 1))
}

/** Splits `a=1&b&a=2` into an ordered list of name/value pairs, without decoding. */
export const splitArgs = (query: string): Array<readonly [string, string]> => {
  if (query === "") return []
  return query
    .split("&")
    .filter((part) => part !== "")
    .map((part) => {
      const eq = part.indexOf("=")
      return eq < 0 ? ([part, ""] as const) : ([part.slice(0, eq), part.slice(eq + 1)] as const)
    })
}

const argFields = (prefix: string, pairs: ReadonlyArray<readonly [string, string]>, values: Record<string, RuntimeValue>) => {
  const map = new Map<string, Array<string>>()
  for (const [k, v] of pairs) {
    const list = map.get(k)
    if (list === undefined) map.set(k, [v])
    else list.push(v)
  }
  values[prefix] = map
  values[`${prefix}.names`] = pairs.map(([k]) => k)
  values[`${prefix}.values`] = pairs.map(([, v]) => v)
}

const uriFields = (prefix: string, scheme: string, host: string, path: string, query: string, values: Record<string, RuntimeValue>) => {
  const uri = query === "" ? path : `${path}?${query}`
  values[`${prefix}http.request.uri`] = uri
  values[`${prefix}http.request.uri.path`] = path
  values[`${prefix}http.request.uri.path.extension`] = pathExtension(path)
  values[`${prefix}http.request.uri.query`] = query
  values[`${prefix}http.request.full_uri`] = `${scheme}://${host}${uri}`
  argFields(`${prefix}http.request.uri.args`, splitArgs(query), values)
}

/** Builds the facts of a described request. Never throws; unusable overrides are ignored. */
export const make = (description: RequestDescription = {}): Facts => {
  const values: Record<string, RuntimeValue> = Object.create(null)
  const fromUrl = description.url !== undefined ? splitUrl(description.url) : {}
  const scheme = (description.scheme ?? fromUrl.scheme ?? "https").toLowerCase()
  const host = fromUtf8(description.host ?? fromUrl.host ?? "example.com")
  const rawPath = fromUtf8(description.path ?? fromUrl.path ?? "/")
  const query = fromUtf8(description.query ?? fromUrl.query ?? "")

  values["http.request.method"] = fromUtf8(description.method ?? "GET")
  values["http.host"] = host
  values["http.request.version"] = fromUtf8(description.version ?? "HTTP/1.1")
  values["ssl"] = scheme === "https"
  values["cf.edge.server_port"] = scheme === "https" ? 443 : 80
  const path = description.normalize === true ? normalizePath(rawPath) : rawPath
  uriFields("", scheme, host, path, query, values)
  uriFields("raw.", scheme, host, rawPath, query, values)

  const ip = parseIp(description.ip ?? "198.51.100.10")
  if (ip !== undefined) values["ip.src"] = ip
  const country = fromUtf8(description.country ?? "US")
  values["ip.src.country"] = country
  values["ip.geoip.country"] = country
  const asn = description.asn ?? 0
  values["ip.src.asnum"] = asn
  values["ip.geoip.asnum"] = asn
  values["cf.threat_score"] = description.threat_score ?? 0
  values["cf.bot_management.score"] = description.bot_score ?? 0
  const verified = description.verified_bot ?? false
  values["cf.client.bot"] = verified
  values["cf.bot_management.verified_bot"] = verified

  // Headers: the map is keyed by lower-cased name; names/values keep case and order.
  const headerMap = new Map<string, Array<string>>()
  const names: Array<string> = []
  const headerValues: Array<string> = []
  for (const [name, raw] of Object.entries(description.headers ?? {})) {
    // Guard against untyped callers: anything but a string or an array of strings is skipped.
    const list: ReadonlyArray<unknown> = typeof raw === "string" ? [raw] : Array.isArray(raw) ? raw : []
    const key = asciiLower(fromUtf8(name))
    for (const item of list) {
      if (typeof item !== "string") continue
      const v = fromUtf8(item)
      names.push(fromUtf8(name))
      headerValues.push(v)
      const existing = headerMap.get(key)
      if (existing === undefined) headerMap.set(key, [v])
      else existing.push(v)
    }
  }
  values["http.request.headers"] = headerMap
  values["http.request.headers.names"] = names
  values["http.request.headers.values"] = headerValues
  const header = (name: string): string => headerMap.get(name)?.[0] ?? ""
  values["http.user_agent"] = header("user-agent")
  values["http.referer"] = header("referer")
  values["http.cookie"] = header("cookie")
  values["http.x_forwarded_for"] = header("x-forwarded-for")

  const cookies = new Map<string, Array<string>>()
  for (const part of header("cookie").split(";")) {
    const item = part.trim()
    if (item === "") continue
    const eq = item.indexOf("=")
    const name = percentDecode(eq < 0 ? item : item.slice(0, eq), false, false)
    const value = eq < 0 ? "" : item.slice(eq + 1)
    const list = cookies.get(name)
    if (list === undefined) cookies.set(name, [value])
    else list.push(value)
  }
  values["http.request.cookies"] = cookies

  const body = fromUtf8(description.body ?? "")
  values["http.request.body.raw"] = body
  values["http.request.body.size"] = body.length
  const contentType = asciiLower(header("content-type"))
  argFields(
    "http.request.body.form",
    contentType.startsWith("application/x-www-form-urlencoded") ? splitArgs(body) : [],
    values
  )

  for (const [name, input] of Object.entries(description.fields ?? {})) {
    const type = fieldType(name)
    const v = type === undefined ? undefined : convert(type, input)
    if (v !== undefined) values[name] = v
  }
  return unsafeFromValues(values)
}

/** One spelling of a request an attacker could send, with a label saying how it differs. */
export interface Variant {
  readonly label: string
  readonly request: RequestDescription
}

const encodeByte = (c: string) => "%" + hexByte(c.charCodeAt(0))

/**
 * Spellings of a path that a client can send for the same resource: case changes,
 * percent-encoded letters (upper- and lower-case hex), doubled and back-slashes, dot segments and
 * a trailing slash. Which of them reach the origin as the same resource depends on the origin;
 * which of them a rule sees depends on URL normalization (see {@link normalizePath}).
 */
export const pathVariants = (path: string): ReadonlyArray<readonly [label: string, path: string]> => {
  const out = new Map<string, string>()
  const add = (label: string, p: string) => {
    if (![...out.values()].includes(p)) out.set(label, p)
  }
  add("as given", path)
  add("upper case", path.toUpperCase())
  add("lower case", path.toLowerCase())
  add("first letter upper case", path.replace(/[a-z]/, (c) => c.toUpperCase()))
  add("first letter percent-encoded", path.replace(/[A-Za-z]/, encodeByte))
  add("first letter percent-encoded, lower-case hex", path.replace(/[A-Za-z]/, (c) => encodeByte(c).toLowerCase()))
  add("all letters percent-encoded", path.replace(/[A-Za-z]/g, encodeByte))
  add("slash percent-encoded", path.replace(/\/(?=[^/])/g, (s, i: number) => (i === 0 ? s : "%2F")))
  add("doubled leading slash", "/" + path)
  add("doubled slashes", path.replace(/\//g, "//"))
  add("backslashes", path.replace(/\//g, "\\"))
  add("dot segment", path.replace(/^\//, "/./"))
  add("parent segment", path.replace(/^\/([^/]+)/, "/x/../$1"))
  add("trailing slash", path.endsWith("/") ? path.slice(0, -1) || "/" : path + "/")
  add("trailing dot", path + ".")
  add("semicolon parameter", path + ";x=1")
  return [...out.entries()]
}

/**
 * Variants of a request an attacker might send to reach the same resource: every
 * {@link pathVariants} spelling of the path, the method in lower and mixed case, and the host in
 * upper case. Each variant keeps the rest of the description (including `normalize`).
 */
export const variants = (description: RequestDescription): ReadonlyArray<Variant> => {
  const fromUrl = description.url !== undefined ? splitUrl(description.url) : {}
  const path = description.path ?? fromUrl.path ?? "/"
  const out: Array<Variant> = pathVariants(path).map(([label, p]) => ({ label: `path ${label}`, request: { ...description, path: p } }))
  const method = description.method ?? "GET"
  for (const [label, m] of [
    ["method lower case", method.toLowerCase()],
    ["method mixed case", method.charAt(0) + method.slice(1).toLowerCase()]
  ] as const) {
    if (m !== method) out.push({ label, request: { ...description, method: m } })
  }
  const host = description.host ?? fromUrl.host ?? "example.com"
  if (host.toUpperCase() !== host) out.push({ label: "host upper case", request: { ...description, host: host.toUpperCase() } })
  return out
}
