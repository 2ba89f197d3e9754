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

const bytesOfLiterals = (source: string): string => {
  let out = ""
  let inClass = false
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!
    const code = source.charCodeAt(i)
    if (c === "\\") {
      out += c + (source[i + 1] ?? "")
      i++
      continue
    }
    if (c === "[") inClass = true
    else if (c === "]") inClass = false
    if (code > 0x7f) {
      // Keep surrogate pairs together before encoding.
      let ch = c
      if (code >= 0xd800 && code < 0xdc00 && i + 1 < source.length) {
        ch += source[i + 1]!
        i++
      }
      const bytes = fromUtf8(ch)
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
    const re = RE2JS.compile(bytesOfLiterals(source))
    return { ok: true, matcher: (value) => re.test(value) }
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) }
  }
}

/** Compiles a regex for `regex_replace`, or undefined. */
export const compileRegexObject = (pattern: string): { readonly re: RE2JS; readonly unicode: boolean } | undefined => {
  try {
    const { source, unicode } = translate(pattern)
    return { re: RE2JS.compile(unicode ? source : bytesOfLiterals(source)), unicode }
  } catch {
    return undefined
  }
}
