/**
 * Wildcard patterns (`wildcard` / `strict wildcard`): `*` matches any run of bytes, `\*` and `\\`
 * are literal, nothing else is special, and the pattern must cover the whole value. The
 * non-strict form folds ASCII case only.
 */
import { asciiLower } from "./bytes.js"

/** The outcome of validating a wildcard pattern: literal segments between stars. */
export type WildcardResult = { readonly ok: true; readonly segments: ReadonlyArray<string> } | { readonly ok: false; readonly error: string }

/** Splits a pattern (bytes, after string escapes) into literal segments separated by `*`. */
export const parseWildcard = (pattern: string): WildcardResult => {
  const segments: Array<string> = []
  let current = ""
  let lastWasStar = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === "\\") {
      const next = pattern[i + 1]
      if (next === "*" || next === "\\") {
        current += next
        i++
        lastWasStar = false
        continue
      }
      return { ok: false, error: next === undefined ? "trailing backslash in wildcard" : `invalid wildcard escape \\${next}` }
    }
    if (c === "*") {
      if (lastWasStar) return { ok: false, error: "wildcard contains a double star" }
      segments.push(current)
      current = ""
      lastWasStar = true
      continue
    }
    current += c
    lastWasStar = false
  }
  segments.push(current)
  return { ok: true, segments }
}

/** Builds a whole-value matcher from segments. */
export const wildcardMatcher = (segments: ReadonlyArray<string>, caseSensitive: boolean): ((value: string) => boolean) => {
  const segs = caseSensitive ? segments : segments.map(asciiLower)
  const fold = caseSensitive ? (s: string) => s : asciiLower
  if (segs.length === 1) {
    const only = segs[0]!
    return (value) => fold(value) === only
  }
  const first = segs[0]!
  const last = segs[segs.length - 1]!
  const middle = segs.slice(1, -1)
  const minLength = segs.reduce((n, s) => n + s.length, 0)
  return (raw) => {
    if (raw.length < minLength) return false
    const value = fold(raw)
    if (!value.startsWith(first) || !value.endsWith(last)) return false
    let pos = first.length
    const end = value.length - last.length
    for (const seg of middle) {
      const at = value.indexOf(seg, pos)
      if (at < 0 || at + seg.length > end) return false
      pos = at + seg.length
    }
    return true
  }
}
