/**
 * Named lists (`$name`): the contents of Cloudflare custom and managed lists, supplied from
 * outside because an expression alone cannot decide them. Items are prepared once (IPs and CIDRs
 * into exact sets and ranges, integers into sets) so membership tests during evaluation are cheap.
 */
import { fromUtf8 } from "./internal/bytes.js"
import type { Ip } from "./internal/ip.js"
import { bits, lastOf, networkOf, parseIp } from "./internal/ip.js"

/** One list item as a caller writes it: an IP, a CIDR, an IP range `a-b`, an integer or a string. */
export type ListItem = string | number

/** List contents keyed by list name (without the `$`). */
export type ListsInput = Readonly<Record<string, ReadonlyArray<ListItem>>>

/** A prepared list. */
export class PreparedList {
  readonly strings = new Set<string>()
  readonly ints = new Set<number>()
  readonly ips = new Set<Ip>()
  readonly ipRanges: Array<readonly [Ip, Ip]> = []

  /** Membership of a byte-string value. */
  hasBytes(value: string): boolean {
    return this.strings.has(value)
  }

  /** Membership of an integer value. */
  hasInt(value: number): boolean {
    return this.ints.has(value)
  }

  /** Membership of an IP value (exact address or containment in a CIDR/range). */
  hasIp(value: Ip): boolean {
    if (this.ips.has(value)) return true
    for (const [from, to] of this.ipRanges) {
      if (typeof from === typeof value && value >= from && value <= to) return true
    }
    return false
  }
}

const addItem = (list: PreparedList, item: ListItem): void => {
  if (typeof item === "number") {
    if (Number.isSafeInteger(item)) list.ints.add(item)
    return
  }
  const text = item.trim()
  if (/^-?[0-9]+$/.test(text)) list.ints.add(Number(text))
  const slash = text.indexOf("/")
  if (slash > 0) {
    const ip = parseIp(text.slice(0, slash))
    const prefix = Number(text.slice(slash + 1))
    if (ip !== undefined && Number.isInteger(prefix) && prefix >= 0 && prefix <= bits(ip)) {
      list.ipRanges.push([networkOf(ip, prefix), lastOf(ip, prefix)])
      return
    }
  }
  const dash = text.indexOf("-")
  if (dash > 0 && !text.includes(":")) {
    const from = parseIp(text.slice(0, dash))
    const to = parseIp(text.slice(dash + 1))
    if (from !== undefined && to !== undefined && typeof from === typeof to) {
      list.ipRanges.push([from, to])
      return
    }
  }
  const ip = parseIp(text)
  if (ip !== undefined) {
    list.ips.add(ip)
    return
  }
  list.strings.add(fromUtf8(item))
}

/** Prepared named lists, ready for evaluation. */
export class NamedLists {
  constructor(readonly lists: ReadonlyMap<string, PreparedList>) {}

  /** The prepared list of that name, if supplied. */
  get(name: string): PreparedList | undefined {
    return this.lists.get(name)
  }

  /** True when the list was supplied (even if empty). */
  has(name: string): boolean {
    return this.lists.has(name)
  }
}

/** Prepares list contents. */
export const make = (input: ListsInput): NamedLists => {
  const lists = new Map<string, PreparedList>()
  for (const [name, items] of Object.entries(input)) {
    const list = new PreparedList()
    if (Array.isArray(items)) for (const item of items) if (typeof item === "string" || typeof item === "number") addItem(list, item)
    lists.set(name.startsWith("$") ? name.slice(1) : name, list)
  }
  return new NamedLists(lists)
}

/** No lists at all. */
export const empty: NamedLists = new NamedLists(new Map())

const cache = new WeakMap<object, NamedLists>()

/** Accepts prepared lists or raw contents (prepared once per input object and cached). */
export const from = (input: NamedLists | ListsInput | undefined): NamedLists => {
  if (input === undefined) return empty
  if (input instanceof NamedLists) return input
  let prepared = cache.get(input)
  if (prepared === undefined) {
    prepared = make(input)
    cache.set(input, prepared)
  }
  return prepared
}
