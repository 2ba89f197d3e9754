/**
 * Where a webhook may be sent: the outbound address policy. A webhook URL is chosen by whoever holds
 * the API key, and the monitor POSTs to it from inside the network, so without a policy it is a side
 * door (SSRF): it reached the simulator's `/__admin` routes and the cloud metadata address, and the
 * delivery log told a port scanner which ports answer. So a URL must be http(s), without userinfo,
 * at most 2,048 characters, and every address its host resolves to must be public: loopback,
 * private, link-local, CGNAT, multicast, unspecified, broadcast, metadata and unique-local addresses
 * are refused, in IPv4 and IPv6, including IPv6 forms that embed an IPv4 address (mapped,
 * compatible, NAT64, 6to4). Odd IPv4 spellings (`2130706433`, `0x7f.1`, `0177.0.0.1`) are
 * normalised by WHATWG URL parsing before they get here. An explicit allowlist of `host:port` lets a
 * self-hosted receiver through.
 */
import { BlockList, isIP, isIPv4 } from "node:net"
import { Either } from "effect"

/** The longest webhook URL accepted. */
export const maxUrlLength = 2048

/** IPv4 ranges a webhook may not reach. */
const v4Refused: ReadonlyArray<readonly [string, number]> = [
  ["0.0.0.0", 8], // "this network", unspecified
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, cloud metadata (169.254.169.254)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4] // reserved, broadcast (255.255.255.255)
]

/** IPv6 ranges a webhook may not reach (embedded IPv4 forms are checked on the IPv4 they carry). */
const v6Refused: ReadonlyArray<readonly [string, number]> = [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["100::", 64], // discard
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique-local (and the EC2 metadata address fd00:ec2::254)
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8] // multicast
]

const blockList = (() => {
  const list = new BlockList()
  for (const [net, prefix] of v4Refused) list.addSubnet(net, prefix, "ipv4")
  for (const [net, prefix] of v6Refused) list.addSubnet(net, prefix, "ipv6")
  return list
})()

/** The 8 groups of an IPv6 address (with a trailing dotted IPv4 allowed), or undefined. */
const groupsOf = (address: string): ReadonlyArray<number> | undefined => {
  let text = address.toLowerCase().replace(/%.*$/, "")
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted?.[1] !== undefined) {
    const bytes = dotted[1].split(".").map(Number)
    const [a = 0, b = 0, c = 0, d = 0] = bytes
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = "", tail, ...rest] = text.split("::")
  if (rest.length > 0) return undefined
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)))
  const first = parse(head)
  const last = tail === undefined ? [] : parse(tail)
  const fill = tail === undefined ? 0 : 8 - first.length - last.length
  const groups = [...first, ...Array<number>(Math.max(fill, 0)).fill(0), ...last]
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined
}

const v4Of = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any. */
const embeddedV4 = (groups: ReadonlyArray<number>): string | undefined => {
  const g = (i: number) => groups[i] ?? 0
  const zeroUpTo = (n: number) => groups.slice(0, n).every((x) => x === 0)
  // ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated), ::a.b.c.d (compatible, deprecated)
  if (zeroUpTo(5) && g(5) === 0xffff) return v4Of(g(6), g(7))
  if (zeroUpTo(4) && g(4) === 0xffff && g(5) === 0) return v4Of(g(6), g(7))
  if (zeroUpTo(6) && (g(6) !== 0 || g(7) > 1)) return v4Of(g(6), g(7))
  // 64:ff9b::/96 (NAT64 well-known) and 64:ff9b:1::/48 (local-use NAT64)
  if (g(0) === 0x64 && g(1) === 0xff9b && groups.slice(2, 6).every((x) => x === 0)) return v4Of(g(6), g(7))
  if (g(0) === 0x64 && g(1) === 0xff9b && g(2) === 1) return v4Of(g(6), g(7))
  // 2002:aabb:ccdd::/16 (6to4)
  if (g(0) === 0x2002) return v4Of(g(1), g(2))
  return undefined
}

/**
 * Why `address` (an IP literal) may not receive webhooks, or undefined when it may. Anything that is
 * not an IP address is refused too: only resolved addresses are checked here.
 */
export const refusal = (address: string): string | undefined => {
  const bare = address.replace(/^\[|\]$/g, "")
  if (isIPv4(bare)) return blockList.check(bare, "ipv4") ? "a non-public IPv4 address" : undefined
  if (isIP(bare.replace(/%.*$/, "")) !== 6) return "not an IP address"
  const groups = groupsOf(bare)
  if (groups === undefined) return "not an IP address"
  const normal = groups.map((g) => g.toString(16)).join(":")
  if (blockList.check(normal, "ipv6")) return "a non-public IPv6 address"
  const v4 = embeddedV4(groups)
  if (v4 !== undefined && blockList.check(v4, "ipv4")) return "an IPv6 address carrying a non-public IPv4 address"
  return undefined
}

/** The host of `url` without IPv6 brackets. */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[|\]$/g, "")

/** `host:port` of `url` (the scheme's default port when none is written), lowercase. */
export const hostPort = (url: URL): string =>
  `${url.hostname.toLowerCase()}:${url.port === "" ? (url.protocol === "https:" ? "443" : "80") : url.port}`

/** Parses an allowlist setting: `host:port` entries separated by commas, lowercase. */
export const parseAllowlist = (text: string): Either.Either<ReadonlyArray<string>, string> => {
  const entries = text.split(",").map((e) => e.trim().toLowerCase()).filter((e) => e !== "")
  for (const entry of entries) {
    if (!/^(\[[0-9a-f:.]+\]|[^:\s/]+):\d{1,5}$/.test(entry)) return Either.left(`"${entry}" is not host:port`)
  }
  return Either.right(entries)
}

/** Whether `url`'s `host:port` is on `allowlist`. */
export const isAllowlisted = (url: URL, allowlist: ReadonlyArray<string>): boolean => allowlist.includes(hostPort(url))

/**
 * Parses and checks a webhook URL's shape: absolute, http(s), no userinfo, at most `maxUrlLength`
 * characters. The message never quotes the URL (it may carry a credential).
 */
export const parseUrl = (raw: string): Either.Either<URL, string> => {
  if (raw.length > maxUrlLength) return Either.left(`url: longer than ${maxUrlLength} characters`)
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return Either.left("url: not an absolute URL")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return Either.left("url: must be http or https")
  if (url.username !== "" || url.password !== "") return Either.left("url: must not carry a user name or password")
  if (url.href.length > maxUrlLength) return Either.left(`url: longer than ${maxUrlLength} characters`)
  return Either.right(url)
}
