/**
 * Parsing, printing and inspecting Rules-language expressions. `parse` type-checks against the
 * field scheme and returns the syntax tree or a {@link RulesParseError} with a reason and a
 * position; whatever the input, a bad expression never makes it throw (only a bug in the engine
 * itself is a defect). `print` gives the canonical text, and `fields` / `lists` say what an
 * expression depends on (useful when explaining why a rule does or does not cover a request).
 */
import { Effect, Either } from "effect"
import type * as Ast from "./Ast.js"
import { parseExpression } from "./internal/parser.js"
import { printExpression, printValue } from "./internal/printer.js"
import type { RulesParseError } from "./RulesError.js"

/** Cloudflare's documented maximum expression length, in characters. */
export const MAX_LENGTH = 4096

/** Parses and type-checks an expression, as an Effect. */
export const parse = (source: string): Effect.Effect<Ast.Expression, RulesParseError> =>
  Effect.suspend(() => parseExpression(source))

/** Parses and type-checks an expression; a bad expression is a `Left`, never a throw. */
export const parseEither = (source: string): Either.Either<Ast.Expression, RulesParseError> => parseExpression(source)

/** Prints an expression in canonical form (English operators, minimal parentheses). */
export const print = (expression: Ast.Expression): string => printExpression(expression)

/** Parses then prints: the canonical text of an expression. */
export const format = (source: string): Either.Either<string, RulesParseError> => Either.map(parseExpression(source), printExpression)

/** Walks the values an expression compares (its top-level operands) and the right-hand sides. */
const visitCompared = (expression: Ast.Expression, onValue: (value: Ast.Value) => void, onRhs: (rhs: Ast.Rhs) => void): void => {
  const go = (e: Ast.Expression): void => {
    switch (e._tag) {
      case "Logical":
        e.operands.forEach(go)
        return
      case "Not":
      case "Quantifier":
        go(e.operand)
        return
      case "Comparison":
        onValue(e.left)
        onRhs(e.right)
        return
      case "BareValue":
        onValue(e.value)
        return
    }
  }
  go(expression)
}

/** Like `visitCompared`, also descending into the field and call arguments of function calls. */
const visitValues = (expression: Ast.Expression, onValue: (value: Ast.Value) => void, onRhs: (rhs: Ast.Rhs) => void): void => {
  const value = (v: Ast.Value): void => {
    onValue(v)
    if (v._tag === "Call") for (const a of v.args) if (a._tag === "Field" || a._tag === "Call") value(a)
  }
  visitCompared(expression, value, onRhs)
}

/** The fields an expression reads, sorted and without duplicates. */
export const fields = (expression: Ast.Expression): ReadonlyArray<string> => {
  const out = new Set<string>()
  visitValues(expression, (v) => v._tag === "Field" && out.add(v.name), () => {})
  return [...out].sort()
}

/**
 * The values an expression compares, as canonical text (e.g. `lower(http.request.uri.path)`,
 * `http.request.headers["x-api-key"][0]`), sorted and without duplicates.
 */
export const values = (expression: Ast.Expression): ReadonlyArray<string> => {
  const out = new Set<string>()
  visitCompared(expression, (v) => out.add(printValue(v)), () => {})
  return [...out].sort()
}

/** The named lists (`$name`, without the `$`) an expression refers to, sorted. */
export const lists = (expression: Ast.Expression): ReadonlyArray<string> => {
  const out = new Set<string>()
  visitValues(expression, () => {}, (rhs) => rhs._tag === "List" && out.add(rhs.name))
  return [...out].sort()
}

/** The functions an expression calls, sorted. */
export const functions = (expression: Ast.Expression): ReadonlyArray<string> => {
  const out = new Set<string>()
  visitValues(expression, (v) => v._tag === "Call" && out.add(v.name), () => {})
  return [...out].sort()
}
