/**
 * The syntax tree of a Rules-language expression. Nodes are plain, immutable, JSON-friendly
 * objects with no source positions, so two parses of equivalent text compare deep-equal and the
 * canonical printer can round-trip them. String contents are byte strings held as JavaScript
 * strings with code units 0..255 (see the README).
 */

/** A boolean (or, inside `any`/`all`, boolean-array) expression. */
export type Expression = Logical | Not | Quantifier | Comparison | BareValue

/** A logical operator. */
export type LogicalOperator = "and" | "xor" | "or"

/** `a and b and c`: a flattened run of one logical operator. */
export interface Logical {
  readonly _tag: "Logical"
  readonly operator: LogicalOperator
  readonly operands: ReadonlyArray<Expression>
}

/** `not e` / `!e`. */
export interface Not {
  readonly _tag: "Not"
  readonly operand: Expression
}

/** `any(e)` / `all(e)` over an `Array<Bool>`. */
export interface Quantifier {
  readonly _tag: "Quantifier"
  readonly quantifier: "any" | "all"
  readonly operand: Expression
}

/** A comparison operator, in its canonical English spelling. */
export type ComparisonOperator =
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "contains"
  | "matches"
  | "wildcard"
  | "strict wildcard"
  | "in"
  | "bitwise_and"

/** `value operator rhs`. */
export interface Comparison {
  readonly _tag: "Comparison"
  readonly left: Value
  readonly operator: ComparisonOperator
  readonly right: Rhs
}

/** A boolean value used on its own, e.g. `ssl`. */
export interface BareValue {
  readonly _tag: "BareValue"
  readonly value: Value
}

/** A field or function call with optional indexes. */
export type Value = FieldRef | Call

/** A field reference such as `http.request.headers["accept"][0]`. */
export interface FieldRef {
  readonly _tag: "Field"
  readonly name: string
  readonly indexes: ReadonlyArray<Index>
}

/** A function call such as `lower(http.host)`. */
export interface Call {
  readonly _tag: "Call"
  readonly name: string
  readonly args: ReadonlyArray<Argument>
  readonly indexes: ReadonlyArray<Index>
}

/** `[n]`, `["key"]` or `[*]`. */
export type Index = ElementIndex | KeyIndex | EachIndex

/** `[n]` on an array. */
export interface ElementIndex {
  readonly _tag: "Element"
  readonly index: number
}

/** `["key"]` on a map. */
export interface KeyIndex {
  readonly _tag: "Key"
  readonly key: string
}

/** `[*]`: every element of an array or every value of a map. */
export interface EachIndex {
  readonly _tag: "Each"
}

/** A function argument. */
export type Argument = Value | StringLiteral | IntLiteral

/** A byte-string literal. */
export interface StringLiteral {
  readonly _tag: "String"
  readonly value: string
}

/** An integer literal (always stored in decimal). */
export interface IntLiteral {
  readonly _tag: "Int"
  readonly value: number
}

/** An IP address literal in canonical text form. */
export interface IpLiteral {
  readonly _tag: "Ip"
  readonly value: string
}

/** The right side of `matches`: the regex text handed to the regex engine. */
export interface RegexLiteral {
  readonly _tag: "Regex"
  readonly pattern: string
}

/** The right side of `wildcard` / `strict wildcard`: the pattern bytes (wildcard escapes kept). */
export interface WildcardLiteral {
  readonly _tag: "Wildcard"
  readonly pattern: string
}

/** `{...}` after `in`. */
export interface SetLiteral {
  readonly _tag: "Set"
  readonly elements: ReadonlyArray<SetElement>
}

/** `$name` after `in`. */
export interface ListRef {
  readonly _tag: "List"
  readonly name: string
}

/** An element of an inline set. */
export type SetElement = StringLiteral | IntLiteral | IpLiteral | IntRange | IpRange | Cidr

/** `a..b` over integers, inclusive. */
export interface IntRange {
  readonly _tag: "IntRange"
  readonly from: number
  readonly to: number
}

/** `a..b` over IPs of one family, inclusive. */
export interface IpRange {
  readonly _tag: "IpRange"
  readonly from: string
  readonly to: string
}

/** `address/prefix`. */
export interface Cidr {
  readonly _tag: "Cidr"
  readonly address: string
  readonly prefix: number
}

/** Anything that may follow a comparison operator. */
export type Rhs = StringLiteral | IntLiteral | IpLiteral | RegexLiteral | WildcardLiteral | SetLiteral | ListRef
