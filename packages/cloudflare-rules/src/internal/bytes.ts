/**
 * Byte strings. Rules-language strings are byte strings; the engine stores them as JavaScript
 * strings whose code units are all in 0..255 ("binary strings"), so comparisons, `.length`,
 * `startsWith` and a regex `.` all work byte-wise without allocating `Uint8Array`s.
 */

const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: false })
const strictDecoder = new TextDecoder("utf-8", { fatal: true })

/** Encodes a JavaScript (UTF-16) string as UTF-8 and returns it as a binary string. */
export const fromUtf8 = (text: string): string => {
  // Fast path: pure ASCII strings are already binary strings.
  let ascii = true
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false
      break
    }
  }
  if (ascii) return text
  return fromUint8Array(encoder.encode(text))
}

/** Turns raw bytes into a binary string. */
export const fromUint8Array = (bytes: Uint8Array): string => {
  let out = ""
  const chunk = 0x2000
  for (let i = 0; i < bytes.length; i += chunk) {
    out += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + chunk)))
  }
  return out
}

/** Turns a binary string into raw bytes. */
export const toUint8Array = (binary: string): Uint8Array => {
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i) & 0xff
  return out
}

/** Decodes a binary string as UTF-8, replacing invalid sequences with U+FFFD. */
export const toUtf8 = (binary: string): string => {
  for (let i = 0; i < binary.length; i++) {
    if (binary.charCodeAt(i) > 0x7f) return decoder.decode(toUint8Array(binary))
  }
  return binary
}

/** Decodes a binary string as UTF-8, or returns undefined when it is not valid UTF-8. */
export const toUtf8Strict = (binary: string): string | undefined => {
  try {
    return strictDecoder.decode(toUint8Array(binary))
  } catch {
    return undefined
  }
}

/** ASCII-only lower-casing, as Cloudflare's `lower()` does. */
export const asciiLower = (binary: string): string => {
  for (let i = 0; i < binary.length; i++) {
    const c = binary.charCodeAt(i)
    if (c >= 65 && c <= 90) return binary.replace(/[A-Z]+/g, (m) => m.toLowerCase())
  }
  return binary
}

/** ASCII-only upper-casing, as Cloudflare's `upper()` does. */
export const asciiUpper = (binary: string): string => {
  for (let i = 0; i < binary.length; i++) {
    const c = binary.charCodeAt(i)
    if (c >= 97 && c <= 122) return binary.replace(/[a-z]+/g, (m) => m.toUpperCase())
  }
  return binary
}

const hexValue = (c: number): number =>
  c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1

/**
 * Percent-decodes a binary string. `plus` turns `+` into a space (form/query semantics) and
 * `unicode` also decodes `%uXXXX` (emitted as UTF-8).
 */
export const percentDecode = (binary: string, plus: boolean, unicode: boolean): string => {
  if (binary.indexOf("%") === -1 && (!plus || binary.indexOf("+") === -1)) return binary
  let out = ""
  for (let i = 0; i < binary.length; i++) {
    const c = binary.charCodeAt(i)
    if (c === 37 /* % */) {
      if (unicode && (binary.charCodeAt(i + 1) === 117 || binary.charCodeAt(i + 1) === 85) && i + 5 < binary.length) {
        const h = [2, 3, 4, 5].map((k) => hexValue(binary.charCodeAt(i + k)))
        if (h.every((d) => d >= 0)) {
          const code = (h[0]! << 12) | (h[1]! << 8) | (h[2]! << 4) | h[3]!
          out += fromUtf8(String.fromCharCode(code))
          i += 5
          continue
        }
      }
      const hi = hexValue(binary.charCodeAt(i + 1))
      const lo = hexValue(binary.charCodeAt(i + 2))
      if (hi >= 0 && lo >= 0) {
        out += String.fromCharCode((hi << 4) | lo)
        i += 2
        continue
      }
      out += "%"
    } else if (plus && c === 43 /* + */) {
      out += " "
    } else {
      out += binary[i]
    }
  }
  return out
}

const hexDigits = "0123456789ABCDEF"

/** Hex-encodes one byte as two upper-case digits. */
export const hexByte = (b: number): string => hexDigits[(b >> 4) & 15]! + hexDigits[b & 15]!
