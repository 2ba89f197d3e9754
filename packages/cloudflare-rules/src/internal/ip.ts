/**
 * IP addresses. An IPv4 address is a `number` (0..2^32-1) and an IPv6 address a `bigint`
 * (0..2^128-1); the two families never compare equal, which is what wirefilter does
 * (`::ffff:1.2.3.4` is not `1.2.3.4`).
 */

/** A runtime IP value: `number` for IPv4, `bigint` for IPv6. */
export type Ip = number | bigint

/** Parses a dotted-quad IPv4 address the way Rust's `Ipv4Addr::from_str` does (no leading zeros). */
export const parseIpv4 = (text: string): number | undefined => {
  const parts = text.split(".")
  if (parts.length !== 4) return undefined
  let value = 0
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return undefined
    if (part.length > 1 && part[0] === "0") return undefined
    const n = Number(part)
    if (n > 255) return undefined
    value = value * 256 + n
  }
  return value
}

/** Parses an IPv6 address (with optional embedded IPv4 tail), no zone id. */
export const parseIpv6 = (text: string): bigint | undefined => {
  if (text.length < 2 || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined
  const halves = text.split("::")
  if (halves.length > 2) return undefined
  const parseGroups = (part: string): Array<number> | undefined => {
    if (part === "") return []
    const out: Array<number> = []
    const groups = part.split(":")
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!
      if (i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIpv4(g)
        if (v4 === undefined) return undefined
        out.push(Math.floor(v4 / 65536), v4 % 65536)
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined
        out.push(parseInt(g, 16))
      }
    }
    return out
  }
  const head = parseGroups(halves[0]!)
  if (head === undefined) return undefined
  let groups: Array<number>
  if (halves.length === 2) {
    const tail = parseGroups(halves[1]!)
    if (tail === undefined) return undefined
    const fill = 8 - head.length - tail.length
    if (fill < 1) return undefined
    groups = [...head, ...new Array<number>(fill).fill(0), ...tail]
  } else {
    groups = head
  }
  if (groups.length !== 8) return undefined
  let value = 0n
  for (const g of groups) value = (value << 16n) | BigInt(g)
  return value
}

/** Parses an IPv4 or IPv6 address. */
export const parseIp = (text: string): Ip | undefined => (text.includes(":") ? parseIpv6(text) : parseIpv4(text))

/** Formats an IP address canonically (RFC 5952 for IPv6). */
export const formatIp = (ip: Ip): string => {
  if (typeof ip === "number") {
    return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join(".")
  }
  if (ip >> 32n === 0xffffn) return "::ffff:" + formatIp(Number(ip & 0xffffffffn))
  const groups: Array<number> = []
  for (let i = 7; i >= 0; i--) groups.push(Number((ip >> BigInt(i * 16)) & 0xffffn))
  // Longest run (length >= 2) of zero groups becomes "::".
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (groups[i] === 0) {
      let j = i
      while (j < 8 && groups[j] === 0) j++
      if (j - i > bestLen && j - i >= 2) {
        bestStart = i
        bestLen = j - i
      }
      i = j
    } else {
      i++
    }
  }
  const hex = (gs: Array<number>) => gs.map((g) => g.toString(16)).join(":")
  if (bestStart < 0) return hex(groups)
  return hex(groups.slice(0, bestStart)) + "::" + hex(groups.slice(bestStart + bestLen))
}

/** Bit width of an address family. */
export const bits = (ip: Ip): number => (typeof ip === "number" ? 32 : 128)

/** The network address of `ip` under a prefix length. */
export const networkOf = (ip: Ip, prefix: number): Ip => {
  if (typeof ip === "number") {
    if (prefix <= 0) return 0
    if (prefix >= 32) return ip
    const size = 2 ** (32 - prefix)
    return ip - (ip % size)
  }
  if (prefix <= 0) return 0n
  if (prefix >= 128) return ip
  const hostBits = BigInt(128 - prefix)
  return (ip >> hostBits) << hostBits
}

/** The last address of the network `ip/prefix`. */
export const lastOf = (ip: Ip, prefix: number): Ip => {
  if (typeof ip === "number") {
    if (prefix >= 32) return ip
    return networkOf(ip, prefix) as number + 2 ** (32 - prefix) - 1
  }
  if (prefix >= 128) return ip
  return (networkOf(ip, prefix) as bigint) | ((1n << BigInt(128 - prefix)) - 1n)
}

/** Same-family ordering; undefined when the families differ (incomparable). */
export const compareIp = (a: Ip, b: Ip): number | undefined => {
  if (typeof a !== typeof b) return undefined
  return a < b ? -1 : a > b ? 1 : 0
}
