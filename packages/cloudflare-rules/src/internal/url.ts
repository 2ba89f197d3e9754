/**
 * URL path normalization steps shared by Cloudflare's own URL normalization (`Request`) and the
 * RFC 3986 normalization a zone may choose instead (coverage): both decode the percent-encoded
 * unreserved characters and remove dot segments, so both use these.
 */
import { hexByte } from "./bytes.js"

const isUnreserved = (c: number) =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126

/**
 * Decodes percent-encoded unreserved characters and upper-cases the hex digits of every other
 * percent-encoding (RFC 3986 §6.2.2.1–2); a `%` not followed by two hex digits is kept as is.
 */
export const normalizePercentEncoding = (path: string): string => {
  let decoded = ""
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!
    if (c === "%" && /^[0-9A-Fa-f]{2}$/.test(path.slice(i + 1, i + 3))) {
      const byte = parseInt(path.slice(i + 1, i + 3), 16)
      decoded += isUnreserved(byte) ? String.fromCharCode(byte) : "%" + hexByte(byte)
      i += 2
    } else {
      decoded += c
    }
  }
  return decoded
}

/** Removes `.` and `..` segments (never above the root) and makes the path start with `/`. */
export const removeDotSegments = (path: string): string => {
  const out: Array<string> = []
  const segments = path.split("/")
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    if (s === ".") {
      if (i === segments.length - 1) out.push("")
      continue
    }
    if (s === "..") {
      if (out.length > 1) out.pop()
      if (i === segments.length - 1) out.push("")
      continue
    }
    out.push(s)
  }
  const joined = out.join("/")
  return joined.startsWith("/") ? joined : "/" + joined
}
