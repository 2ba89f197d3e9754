/**
 * Regular expressions with Cloudflare's semantics, on top of re2js (a pure-JS RE2). wirefilter
 * builds its regexes with Unicode and UTF-8 mode off: matching is over bytes, `.` is one byte and
 * `\d`/`\w` are ASCII. We get that by matching against binary strings (one code unit per byte) and
 * by turning non-ASCII literals of the pattern into their UTF-8 bytes. `(?u)` switches a pattern
 * to Unicode mode, which we emulate by matching against the UTF-8 decoding of the value.
 */
import { RE2JS } from "re2js"
import { fromUtf8, toUtf8 } from "./bytes.js"

/** A compiled matcher over binary strings: an unanchored search. */
export type RegexMatcher = (value: string) => boolean

/** The outcome of compiling a pattern. */
export type RegexResult = { readonly ok: true; readonly matcher: RegexMatcher } | { readonly ok: false; readonly error: string }

const translate = (pattern: string): { readonly source: string; readonly unicode: boolean } => {
  let out = ""
  let unicode = false
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === "\\") {
      out += c + (pattern[i + 1] ?? "")
      i++
      continue
    }
    if (inClass) {
      if (c === "]") inClass = false
      out += c
      continue
    }
    if (c === "[") {
      inClass = true
      out += c
      // A `]` right after `[` or `[^` is a literal member.
      if (pattern[i + 1] === "^") {
        out += "^"
        i++
      }
      if (pattern[i + 1] === "]") {
        out += "]"
        i++
      }
      continue
    }
    if (c === "(" && pattern[i + 1] === "?") {
      const m = /^\(\?([A-Za-z-]*)([:)])/.exec(pattern.slice(i))
      if (m !== null) {
        const flags = m[1]!
        const negated = flags.indexOf("-")
        const on = negated < 0 ? flags : flags.slice(0, negated)
        if (on.includes("u")) unicode = true
        let kept = flags.replace(/u/g, "")
        if (kept.endsWith("-")) kept = kept.slice(0, -1)
        if (kept === "" && m[2] === ")") {
          i += m[0].length - 1
          continue
        }
        out += "(?" + kept + m[2]
        i += m[0].length - 1
        continue
      }
    }
    out += c
  }
  return { source: out, unicode }
}

// In byte mode, bytes 0x80..0xFF are moved to U+2880..U+28FF (Braille patterns, which have no
// case mappings) both in the pattern and in the value, so RE2's Unicode case folding under (?i)
// cannot relate two different bytes; Rust's byte mode folds ASCII only.
const HIGH_BASE = 0x2800

const highByte = (b: number): string => String.fromCharCode(HIGH_BASE + b)

const HIGH_RANGE = /[\x80-\xff]/

/** Moves the high bytes of a binary string out of the case-folding range. */
export const toByteSubject = (value: string): string =>
  HIGH_RANGE.test(value) ? value.replace(/[\x80-\xff]/g, (c) => highByte(c.charCodeAt(0))) : value

/** Undoes {@link toByteSubject}. */
export const fromByteSubject = (value: string): string =>
  /[\u2880-\u28ff]/.test(value) ? value.replace(/[\u2880-\u28ff]/g, (c) => String.fromCharCode(c.charCodeAt(0) - HIGH_BASE)) : value

const bytePattern = (source: string): string => {
  let out = ""
  let inClass = false
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!
    const code = source.charCodeAt(i)
    if (c === "\\") {
      const next = source[i + 1] ?? ""
      if (next === "x") {
        const short = /^[0-9A-Fa-f]{2}/.exec(source.slice(i + 2))
        const long = /^\{([0-9A-Fa-f]{1,8})\}/.exec(source.slice(i + 2))
        const hex = short?.[0] ?? long?.[1]
        const length = short !== null ? 2 : long !== null ? long[0].length : 0
        if (hex !== undefined) {
          const value = parseInt(hex, 16)
          out += value >= 0x80 && value <= 0xff ? `\\x{${(HIGH_BASE + value).toString(16)}}` : source.slice(i, i + 2 + length)
          i += 1 + length
          continue
        }
      }
      out += c + next
      i++
      continue
    }
    if (c === "[") inClass = true
    else if (c === "]") inClass = false
    if (code > 0x7f) {
      // A non-ASCII literal is its UTF-8 bytes; keep surrogate pairs together before encoding.
      let ch = c
      if (code >= 0xd800 && code < 0xdc00 && i + 1 < source.length) {
        ch += source[i + 1]!
        i++
      }
      const bytes = Array.from(fromUtf8(ch), (b) => highByte(b.charCodeAt(0))).join("")
      out += inClass ? bytes : "(?:" + bytes + ")"
      continue
    }
    out += c
  }
  return out
}

/** Compiles a Rules-language regex. Never throws. */
export const compileRegex = (pattern: string): RegexResult => {
  try {
    const { source, unicode } = translate(pattern)
    if (unicode) {
      const re = RE2JS.compile(source)
      return { ok: true, matcher: (value) => re.test(toUtf8(value)) }
    }
    const re = RE2JS.compile(bytePattern(source))
    return { ok: true, matcher: (value) => re.test(toByteSubject(value)) }
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) }
  }
}

/** Compiles a regex for `regex_replace`, or undefined. */
export const compileRegexObject = (pattern: string): { readonly re: RE2JS; readonly unicode: boolean } | undefined => {
  try {
    const { source, unicode } = translate(pattern)
    return { re: RE2JS.compile(unicode ? source : bytePattern(source)), unicode }
  } catch {
    return undefined
  }
}
