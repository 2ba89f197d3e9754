/**
 * The shape of a pasted Cloudflare API token, checked before any request is sent. Cloudflare's older
 * tokens are 40 characters of `[A-Za-z0-9_-]`; newer ones are a `cfut_`/`cfat_` prefix, 40 characters
 * and a checksum (https://developers.cloudflare.com/fundamentals/api/get-started/token-formats/), and other issuers
 * (a simulator, a proxy) differ, so this refuses only what no token ever has: a character outside
 * printable ASCII (a control character, NUL, DEL, a zero-width space, a curly quote, any non-ASCII
 * character, a lone surrogate) or whitespace inside it. Such a token would be refused by the API
 * anyway, but only after the client's retries; refusing it here answers at once. Whitespace around it
 * (a careless copy) is trimmed, and the caller is told so. No message ever quotes the token.
 */
import { Either, Schema } from "effect"

/** The token has a character no Cloudflare token has; `position` is 1-based, in the trimmed token. */
export class TokenFormatError extends Schema.TaggedError<TokenFormatError>()("TokenFormatError", {
  /** `illegal-character`: a character outside printable ASCII, or whitespace inside; `empty`: nothing but whitespace. */
  reason: Schema.Literal("illegal-character", "empty"),
  /** 1-based position of the first bad character in the trimmed token (in UTF-16 code units); 0 when empty. */
  position: Schema.Number,
  message: Schema.String
}) {}

/** A token that passed the check. */
export interface Checked {
  /** The token without surrounding whitespace. */
  readonly token: string
  /** Whether surrounding whitespace was removed. */
  readonly trimmed: boolean
}

/** Printable ASCII without the space: `!` (0x21) to `~` (0x7E). */
const isTokenChar = (code: number): boolean => code >= 0x21 && code <= 0x7e

/** Checks a pasted token: trims surrounding whitespace, and refuses any character a token never has. */
export const check = (raw: string): Either.Either<Checked, TokenFormatError> => {
  // Whitespace a careless copy brings: spaces, tabs, line breaks, and the Unicode spaces `trim` knows.
  const token = raw.trim()
  if (token.length === 0) {
    return Either.left(new TokenFormatError({ reason: "empty", position: 0, message: "the token is empty" }))
  }
  for (let i = 0; i < token.length; i++) {
    if (!isTokenChar(token.charCodeAt(i))) {
      return Either.left(
        new TokenFormatError({
          reason: "illegal-character",
          position: i + 1,
          message: `the token contains characters a Cloudflare token never has (position ${i + 1})`
        })
      )
    }
  }
  return Either.right({ token, trimmed: token.length !== raw.length })
}

/** The note to show when `check` trimmed the token. */
export const trimmedNote = "whitespace around the token was removed"
