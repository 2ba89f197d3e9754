/**
 * A recursive-descent parser and type checker for the Rules language, following wirefilter's
 * grammar: right-hand sides are lexed according to the operator and the left side's type, just
 * as wirefilter does. Syntax and type errors are reported as values; internally a private
 * `Failure` exception unwinds the descent and is caught at the single entry point. Anything else
 * thrown is a bug in the engine, not in the expression, so it is not caught: it propagates as a
 * defect instead of being passed off as a parse error.
 */
import { Either } from "effect"
import type * as Ast from "../Ast.js"
import type { ParseErrorReason } from "../RulesError.js"
import { RulesParseError } from "../RulesError.js"
import type { Type } from "../Scheme.js"
import { arrayOf, fieldType, formatType } from "../Scheme.js"
import { fromUtf8 } from "./bytes.js"
import type { ArgInfo } from "./functions.js"
import { functions, isCheckError } from "./functions.js"
import type { Ip } from "./ip.js"
import { bits, compareIp, formatIp, networkOf, parseIp } from "./ip.js"
import { compileRegex } from "./regex.js"
import type { ValueType } from "./typing.js"
import { applyIndex } from "./typing.js"
import { parseWildcard } from "./wildcard.js"

/** Cloudflare's documented maximum expression length, in characters. */
export const MAX_EXPRESSION_LENGTH = 4096

/** wirefilter's default maximum nesting depth. */
export const MAX_NESTING_DEPTH = 128

class Failure {
  constructor(
    readonly reason: ParseErrorReason,
    readonly detail: string,
    readonly offset: number
  ) {}
}

type Kind = "Bool" | "BoolArray"

interface Typed {
  readonly node: Ast.Expression
  readonly kind: Kind
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 13
const isTrimmable = (c: number) => isSpace(c) || c === 9
const IDENT = /[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*/y
const QUANTIFIER = /(any|all)[ \r\n]*\(/y
const INT = /-?(?:0[xX][0-9A-Fa-f]+|[0-9]+)/y
const IP_CHARS = /[0-9A-Fa-f:.]+/y
const LIST_CHARS = /[A-Za-z0-9_.]*/y
const LIST_NAME = /^[a-z0-9_](?:[a-z0-9_.]*[a-z0-9_])?$/
const HEX2 = /^[0-9A-Fa-f]{2}$/

const logicalOps: ReadonlyArray<readonly [string, Ast.LogicalOperator]> = [
  ["and", "and"],
  ["&&", "and"],
  ["xor", "xor"],
  ["^^", "xor"],
  ["or", "or"],
  ["||", "or"]
]

const comparisonOps: ReadonlyArray<readonly [string, Ast.ComparisonOperator]> = [
  ["==", "eq"],
  ["!=", "ne"],
  [">=", "ge"],
  ["<=", "le"],
  [">", "gt"],
  ["<", "lt"],
  ["~", "matches"],
  ["eq", "eq"],
  ["ne", "ne"],
  ["lt", "lt"],
  ["le", "le"],
  ["gt", "gt"],
  ["ge", "ge"],
  ["contains", "contains"],
  ["matches", "matches"],
  ["wildcard", "wildcard"],
  ["in", "in"],
  ["bitwise_and", "bitwise_and"]
]

const levels: ReadonlyArray<Ast.LogicalOperator> = ["or", "xor", "and"]

const typeName = (t: Type): string => formatType(t)

class Parser {
  pos: number
  end: number
  depth = 0

  constructor(readonly src: string) {
    let start = 0
    let end = src.length
    while (start < end && isTrimmable(src.charCodeAt(start))) start++
    while (end > start && isTrimmable(src.charCodeAt(end - 1))) end--
    this.pos = start
    this.end = end
  }

  fail(reason: ParseErrorReason, detail: string, at: number = this.pos): never {
    throw new Failure(reason, detail, at)
  }

  ws(): void {
    while (this.pos < this.end && isSpace(this.src.charCodeAt(this.pos))) this.pos++
  }

  atEnd(): boolean {
    return this.pos >= this.end
  }

  at(s: string): boolean {
    return this.pos + s.length <= this.end && this.src.startsWith(s, this.pos)
  }

  char(): string {
    return this.pos < this.end ? this.src[this.pos]! : ""
  }

  sticky(re: RegExp): string | undefined {
    re.lastIndex = this.pos
    const m = re.exec(this.src)
    if (m === null || m.index !== this.pos || this.pos + m[0].length > this.end) return undefined
    return m[0]
  }

  describeHere(): string {
    if (this.atEnd()) return "end of input"
    const c = this.src[this.pos]!
    if (c === "\t") return "a tab (only spaces and newlines separate tokens)"
    if (c === "'") return "' (strings use double quotes or r\"...\")"
    if (c === ",") return ", (set elements are separated by whitespace, not commas)"
    if (c === "#") return "# (comments are not supported)"
    return JSON.stringify(this.src.slice(this.pos, this.pos + 12))
  }

  unexpected(expected: string): never {
    if (this.atEnd()) this.fail("UnexpectedEnd", `expected ${expected}, found end of input`)
    this.fail("UnexpectedToken", `expected ${expected}, found ${this.describeHere()}`)
  }

  enter(): void {
    if (++this.depth > MAX_NESTING_DEPTH) {
      this.fail("NestingTooDeep", `expressions may nest at most ${MAX_NESTING_DEPTH} levels deep`)
    }
  }

  // ---- expressions -------------------------------------------------------------------------

  top(): Ast.Expression {
    if (this.atEnd()) this.fail("EmptyExpression", "the expression is empty")
    const result = this.level(0)
    this.ws()
    if (!this.atEnd()) {
      if (this.char() === ")") this.fail("UnexpectedToken", "unbalanced parenthesis: ) without a matching (")
      this.fail("TrailingInput", `expected a logical operator or the end of the expression, found ${this.describeHere()}`)
    }
    if (result.kind !== "Bool") {
      this.fail("TypeMismatch", "the expression has type Array<Bool>; reduce it with any(...) or all(...)", 0)
    }
    return result.node
  }

  logicalOp(): readonly [number, Ast.LogicalOperator] | undefined {
    for (const [text, op] of logicalOps) if (this.at(text)) return [text.length, op]
    return undefined
  }

  level(n: number): Typed {
    const operator = levels[n]!
    const start = this.pos
    const next = () => (n === 2 ? this.simple() : this.level(n + 1))
    const first = next()
    const operands: Array<Typed> = [first]
    for (;;) {
      const save = this.pos
      this.ws()
      const op = this.logicalOp()
      if (op === undefined || op[1] !== operator) {
        this.pos = save
        break
      }
      this.pos += op[0]
      this.ws()
      if (this.atEnd()) this.fail("UnexpectedEnd", `dangling logical operator: nothing follows ${operator}`)
      operands.push(next())
    }
    if (operands.length === 1) return first
    const kind = first.kind
    if (operands.some((o) => o.kind !== kind)) {
      this.fail("TypeMismatch", `cannot combine Bool and Array<Bool> operands with ${operator}`, start)
    }
    const flat: Array<Ast.Expression> = []
    for (const o of operands) {
      if (o.node._tag === "Logical" && o.node.operator === operator) flat.push(...o.node.operands)
      else flat.push(o.node)
    }
    return { node: { _tag: "Logical", operator, operands: flat }, kind }
  }

  simple(): Typed {
    this.ws()
    if (this.atEnd()) this.fail("UnexpectedEnd", "expected an expression, found end of input")
    const start = this.pos
    if (this.at("not") || (this.at("!") && !this.at("!="))) {
      this.pos += this.at("not") ? 3 : 1
      this.enter()
      this.ws()
      const operand = this.simple()
      this.depth--
      return { node: { _tag: "Not", operand: operand.node }, kind: operand.kind }
    }
    if (this.at("(")) {
      this.pos++
      this.enter()
      const inner = this.level(0)
      this.ws()
      if (!this.at(")")) {
        if (this.atEnd()) this.fail("UnexpectedEnd", "unbalanced parenthesis: ( is never closed", start)
        this.unexpected(") or a logical operator")
      }
      this.pos++
      this.depth--
      return inner
    }
    const quantifier = this.sticky(QUANTIFIER)
    if (quantifier !== undefined) {
      const which = quantifier.startsWith("any") ? "any" : "all"
      this.pos += quantifier.length
      this.enter()
      const operand = this.simple()
      this.ws()
      if (!this.at(")")) {
        if (!this.atEnd() && this.logicalOp() !== undefined) {
          this.fail("UnexpectedToken", `a logical expression inside ${which}() must be wrapped in its own parentheses`)
        }
        this.unexpected(`) closing ${which}(`)
      }
      this.pos++
      this.depth--
      if (operand.kind !== "BoolArray") {
        this.fail("TypeMismatch", `${which}() requires an Array<Bool> argument (a comparison over [*]), got Bool`, start)
      }
      return { node: { _tag: "Quantifier", quantifier: which, operand: operand.node }, kind: "Bool" }
    }
    return this.comparison()
  }

  comparisonOp(): readonly [number, Ast.ComparisonOperator] | undefined {
    if (this.at("&&") || this.at("||") || this.at("^^")) return undefined
    if (this.at("&")) return [1, "bitwise_and"]
    if (this.at("strict")) {
      const m = /strict[ \r\n]+wildcard/y
      const text = this.sticky(m)
      if (text !== undefined) return [text.length, "strict wildcard"]
    }
    for (const [text, op] of comparisonOps) if (this.at(text)) return [text.length, op]
    return undefined
  }

  comparison(): Typed {
    const value = this.value()
    const save = this.pos
    this.ws()
    const opAt = this.pos
    const op = this.comparisonOp()
    const t = value.type.type
    if (op === undefined) {
      this.pos = save
      if (t === "Bool") return { node: { _tag: "BareValue", value: value.node }, kind: value.type.mapped ? "BoolArray" : "Bool" }
      if (typeof t === "object" && "array" in t && t.array === "Bool" && !value.type.mapped) {
        return { node: { _tag: "BareValue", value: value.node }, kind: "BoolArray" }
      }
      this.pos = opAt
      this.fail(
        "ExpectedOperator",
        `expected a comparison operator after a ${typeName(t)} value, found ${this.describeHere()}` +
          (this.atEnd() ? "" : " (operators are lower case; starts_with/ends_with are functions)")
      )
    }
    if (t === "Bool") {
      this.fail("TypeMismatch", "Boolean values take no comparison operator and there is no true/false literal; write `field` or `not field`", opAt)
    }
    if (typeof t === "object") {
      this.fail(
        "TypeMismatch",
        `cannot apply ${op[1]} to a ${typeName(t)} value; index it (e.g. [0]) or use [*] inside any()/all()`,
        opAt
      )
    }
    this.pos += op[0]
    this.ws()
    const right = this.rhs(op[1], t, opAt)
    return { node: { _tag: "Comparison", left: value.node, operator: op[1], right }, kind: value.type.mapped ? "BoolArray" : "Bool" }
  }

  // ---- values ------------------------------------------------------------------------------

  value(): { readonly node: Ast.Value; readonly type: ValueType } {
    const start = this.pos
    const name = this.sticky(IDENT)
    if (name === undefined) {
      const c = this.char()
      if (c === '"' || (c === "r" && (this.src[this.pos + 1] === '"' || this.src[this.pos + 1] === "#"))) {
        this.fail("UnexpectedToken", "a literal cannot appear on the left of a comparison; expected a field or function call")
      }
      this.unexpected("a field, function call or expression")
    }
    this.pos += name.length
    const save = this.pos
    this.ws()
    const isCall = this.at("(")
    this.pos = save
    let node: Ast.Value
    let type: ValueType
    if (isCall && functions.has(name)) {
      ;[node, type] = this.call(name, start)
    } else {
      const ft = fieldType(name)
      if (ft === undefined) {
        if (isCall) this.fail("UnknownFunction", `unknown function ${name}()`, start)
        this.fail("UnknownField", `unknown field ${name}`, start)
      }
      node = { _tag: "Field", name, indexes: [] }
      type = { type: ft, mapped: false }
    }
    const indexes: Array<Ast.Index> = []
    while (this.at("[")) {
      const indexAt = this.pos
      this.pos++
      this.ws()
      let index: Ast.Index
      if (this.at("*")) {
        this.pos++
        index = { _tag: "Each" }
      } else if (this.at('"')) {
        index = { _tag: "Key", key: this.quotedString() }
      } else {
        const digits = this.sticky(/[0-9]+/y)
        if (digits === undefined) this.unexpected('an index: a number, a quoted "key" or *')
        this.pos += digits.length
        const n = Number(digits)
        if (!Number.isSafeInteger(n)) this.fail("InvalidInteger", "array index out of range", indexAt)
        index = { _tag: "Element", index: n }
      }
      this.ws()
      if (!this.at("]")) this.unexpected("]")
      this.pos++
      const next = applyIndex(type, index)
      if (typeof next === "string") this.fail(index._tag === "Each" && type.mapped ? "InvalidMapEach" : "TypeMismatch", next, indexAt)
      type = next
      indexes.push(index)
    }
    if (indexes.length > 0) node = { ...node, indexes }
    return { node, type }
  }

  call(name: string, start: number): [Ast.Call, ValueType] {
    this.ws()
    this.pos++ // (
    this.enter()
    const args: Array<Ast.Argument> = []
    const infos: Array<ArgInfo> = []
    let mappedFirst = false
    this.ws()
    if (this.at(")")) {
      this.pos++
    } else {
      for (;;) {
        this.ws()
        const argAt = this.pos
        const c = this.char()
        let node: Ast.Argument
        let vt: ValueType
        let literal = false
        if (c === '"' || (c === "r" && (this.src[this.pos + 1] === '"' || this.src[this.pos + 1] === "#"))) {
          node = { _tag: "String", value: c === '"' ? this.quotedString() : fromUtf8(this.rawString()) }
          vt = { type: "Bytes", mapped: false }
          literal = true
        } else if (/[0-9-]/.test(c)) {
          node = { _tag: "Int", value: this.intLiteral() }
          vt = { type: "Int", mapped: false }
          literal = true
        } else {
          const v = this.value()
          node = v.node
          vt = v.type
        }
        if (vt.mapped) {
          if (args.length > 0) this.fail("InvalidMapEach", "[*] is only allowed in the first argument of a function", argAt)
          mappedFirst = true
        }
        args.push(node)
        infos.push({ node, literal, type: vt.type })
        this.ws()
        if (this.at(",")) {
          this.pos++
          continue
        }
        if (this.at(")")) {
          this.pos++
          break
        }
        this.unexpected(`, or ) in the arguments of ${name}()`)
      }
    }
    this.depth--
    const result = functions.get(name)!.check(infos)
    if (isCheckError(result)) this.fail("InvalidArgument", result.error, start)
    return [{ _tag: "Call", name, args, indexes: [] }, { type: mappedFirst ? arrayOf(result) : result, mapped: false }]
  }

  // ---- right-hand sides --------------------------------------------------------------------

  rhs(op: Ast.ComparisonOperator, t: "Bytes" | "Int" | "Ip", opAt: number): Ast.Rhs {
    const need = (ok: boolean) => {
      if (!ok) this.fail("TypeMismatch", `${op} cannot be applied to a ${t} value`, opAt)
    }
    switch (op) {
      case "eq":
      case "ne":
      case "lt":
      case "le":
      case "gt":
      case "ge":
        return this.scalar(t, false)
      case "contains":
        need(t === "Bytes")
        return this.scalar(t, false)
      case "bitwise_and":
        need(t === "Int")
        return this.scalar(t, false)
      case "matches": {
        need(t === "Bytes")
        return this.regex()
      }
      case "wildcard":
      case "strict wildcard": {
        need(t === "Bytes")
        const at = this.pos
        const c = this.char()
        if (c !== '"' && c !== "r") this.typedLiteralError("Bytes", "a quoted or raw string")
        const pattern = c === '"' ? this.quotedString() : fromUtf8(this.rawString())
        const parsed = parseWildcard(pattern)
        if (!parsed.ok) this.fail("InvalidWildcard", parsed.error, at)
        return { _tag: "Wildcard", pattern }
      }
      case "in": {
        if (this.at("$")) return this.list()
        if (!this.at("{")) {
          this.fail("ExpectedSetOrList", `\`in\` needs a set literal {...} or a named list $name, found ${this.describeHere()}`)
        }
        return this.set(t)
      }
    }
  }

  typedLiteralError(t: "Bytes" | "Int" | "Ip", what: string): never {
    const c = this.char()
    if (this.atEnd()) this.fail("UnexpectedEnd", `expected ${what}, found end of input`)
    const looksString = c === '"' || (c === "r" && (this.src[this.pos + 1] === '"' || this.src[this.pos + 1] === "#"))
    const looksNumber = /[0-9-]/.test(c)
    if ((looksString && t !== "Bytes") || (looksNumber && t === "Bytes")) {
      this.fail("TypeMismatch", `expected ${what} for a ${t} value, found ${this.describeHere()}`)
    }
    this.unexpected(what)
  }

  scalar(t: "Bytes" | "Int" | "Ip", inSet: boolean): Ast.StringLiteral | Ast.IntLiteral | Ast.IpLiteral {
    if (t === "Bytes") return { _tag: "String", value: this.bytesLiteral() }
    if (t === "Int") {
      if (!/[0-9-]/.test(this.char())) this.typedLiteralError(t, "an integer")
      return { _tag: "Int", value: this.intLiteral() }
    }
    const [, text] = this.ipLiteral()
    if (!inSet) {
      if (this.at("/")) this.fail("InvalidCidr", "a CIDR is only allowed inside an `in` set; eq takes a single address")
      if (this.at("..")) this.fail("InvalidRange", "an IP range is only allowed inside an `in` set")
    }
    return { _tag: "Ip", value: text }
  }

  bytesLiteral(): string {
    const c = this.char()
    if (c === '"') return this.quotedString()
    if (c === "r" && (this.src[this.pos + 1] === '"' || this.src[this.pos + 1] === "#")) return fromUtf8(this.rawString())
    if (/[0-9A-Fa-f]/.test(c)) return this.byteString()
    this.typedLiteralError("Bytes", 'a string ("..." or r"...")')
  }

  quotedString(): string {
    const start = this.pos
    this.pos++ // opening quote
    let out = ""
    for (;;) {
      if (this.atEnd()) this.fail("UnexpectedEnd", "missing closing quote", start)
      const code = this.src.codePointAt(this.pos)!
      const ch = String.fromCodePoint(code)
      if (ch === '"') {
        this.pos++
        return out
      }
      if (ch === "\\") {
        const escAt = this.pos
        this.pos++
        if (this.atEnd()) this.fail("UnexpectedEnd", "missing closing quote", start)
        const e = this.src[this.pos]!
        if (e === '"' || e === "\\") {
          out += e
          this.pos++
        } else if (e === "x") {
          const hex = this.src.slice(this.pos + 1, this.pos + 3)
          if (this.pos + 3 > this.end || !HEX2.test(hex)) this.fail("InvalidEscape", "\\x must be followed by exactly two hex digits", escAt)
          out += String.fromCharCode(parseInt(hex, 16))
          this.pos += 3
        } else if (e >= "0" && e <= "7") {
          const oct = this.src.slice(this.pos, this.pos + 3)
          if (this.pos + 3 > this.end || !/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) {
            this.fail("InvalidEscape", "an octal escape is a backslash and exactly three octal digits up to \\377", escAt)
          }
          out += String.fromCharCode(parseInt(oct, 8))
          this.pos += 3
        } else {
          this.fail("InvalidEscape", `invalid escape \\${e}: quoted strings accept only \\" \\\\ \\xHH and \\OOO (use a raw string r"..." instead)`, escAt)
        }
        continue
      }
      out += code > 0x7f ? fromUtf8(ch) : ch
      this.pos += ch.length
    }
  }

  rawString(): string {
    const start = this.pos
    this.pos++ // r
    let hashes = 0
    while (this.at("#")) {
      hashes++
      this.pos++
    }
    if (hashes > 255) this.fail("UnexpectedToken", "a raw string may use at most 255 #", start)
    if (!this.at('"')) this.unexpected('" after r and #')
    this.pos++
    const terminator = '"' + "#".repeat(hashes)
    const close = this.src.indexOf(terminator, this.pos)
    if (close < 0 || close + terminator.length > this.end) this.fail("UnexpectedEnd", "missing closing quote of raw string", start)
    const text = this.src.slice(this.pos, close)
    this.pos = close + terminator.length
    return text
  }

  byteString(): string {
    const start = this.pos
    let out = ""
    const hex = () => {
      const h = this.src.slice(this.pos, this.pos + 2)
      if (this.pos + 2 > this.end || !HEX2.test(h)) this.fail("UnexpectedToken", "a byte string is hex pairs joined by : - or .", start)
      out += String.fromCharCode(parseInt(h, 16))
      this.pos += 2
    }
    hex()
    if (!/[:.-]/.test(this.char())) this.fail("UnexpectedToken", 'expected a string ("..." or r"...")', start)
    this.pos++
    hex()
    while (/[:.-]/.test(this.char()) && HEX2.test(this.src.slice(this.pos + 1, this.pos + 3))) {
      this.pos++
      hex()
    }
    return out
  }

  intLiteral(): number {
    const start = this.pos
    const text = this.sticky(INT)
    if (text === undefined) this.unexpected("an integer")
    this.pos += text.length
    const negative = text.startsWith("-")
    const body = negative ? text.slice(1) : text
    let value: number
    if (/^0[xX]/.test(body)) value = parseInt(body.slice(2), 16)
    else if (body.length > 1 && body.startsWith("0")) {
      if (!/^[0-7]+$/.test(body)) this.fail("InvalidInteger", `${text} is not a valid octal integer (a leading 0 means octal)`, start)
      value = parseInt(body, 8)
    } else value = Number(body)
    if (negative) value = -value
    if (!Number.isSafeInteger(value)) this.fail("InvalidInteger", `${text} is outside the supported integer range (±2^53)`, start)
    if (/[A-Za-z_]/.test(this.char())) this.fail("InvalidInteger", `malformed integer ${text}${this.char()}`, start)
    return value === 0 ? 0 : value
  }

  ipLiteral(): [Ip, string] {
    const start = this.pos
    const c = this.char()
    if (!/[0-9A-Fa-f:]/.test(c)) this.typedLiteralError("Ip", "an IP address")
    let text = this.sticky(IP_CHARS)!
    const dots = text.indexOf("..")
    if (dots >= 0) text = text.slice(0, dots)
    const ip = parseIp(text)
    if (ip === undefined) this.fail("InvalidIp", `${text} is not a valid IP address`, start)
    this.pos += text.length
    return [ip, formatIp(ip)]
  }

  regex(): Ast.RegexLiteral {
    const start = this.pos
    const c = this.char()
    let pattern: string
    if (c === '"') {
      this.pos++
      pattern = ""
      let inClass = false
      for (;;) {
        if (this.atEnd()) this.fail("UnexpectedEnd", "missing closing quote", start)
        const ch = this.src[this.pos]!
        this.pos++
        if (ch === "\\") {
          if (this.atEnd()) this.fail("UnexpectedEnd", "missing closing quote", start)
          const next = this.src[this.pos]!
          this.pos++
          if (inClass || next !== '"') pattern += "\\"
          pattern += next
        } else if (ch === '"' && !inClass) {
          break
        } else {
          if (ch === "[" && !inClass) inClass = true
          else if (ch === "]" && inClass) inClass = false
          pattern += ch
        }
      }
    } else if (c === "r" && (this.src[this.pos + 1] === '"' || this.src[this.pos + 1] === "#")) {
      pattern = this.rawString()
    } else {
      this.typedLiteralError("Bytes", 'a regular expression ("..." or r"...")')
    }
    const compiled = compileRegex(pattern)
    if (!compiled.ok) this.fail("InvalidRegex", `invalid regular expression: ${compiled.error}`, start)
    return { _tag: "Regex", pattern }
  }

  list(): Ast.ListRef {
    const start = this.pos
    this.pos++ // $
    const name = this.sticky(LIST_CHARS) ?? ""
    this.pos += name.length
    if (!LIST_NAME.test(name)) {
      this.fail("InvalidListName", `$${name} is not a valid list name: use lower-case letters, digits, _ (and . for managed lists)`, start)
    }
    return { _tag: "List", name }
  }

  set(t: "Bytes" | "Int" | "Ip"): Ast.SetLiteral {
    const start = this.pos
    this.pos++ // {
    const elements: Array<Ast.SetElement> = []
    for (;;) {
      this.ws()
      if (this.atEnd()) this.fail("UnexpectedEnd", "set is never closed with }", start)
      if (this.at("}")) {
        this.pos++
        return { _tag: "Set", elements }
      }
      if (this.at(",")) this.fail("UnexpectedToken", "set elements are separated by whitespace, not commas")
      const elementAt = this.pos
      if (t === "Bytes") {
        elements.push({ _tag: "String", value: this.bytesLiteral() })
      } else if (t === "Int") {
        if (!/[0-9-]/.test(this.char())) this.typedLiteralError(t, "an integer or integer range")
        const from = this.intLiteral()
        if (this.at("..")) {
          this.pos += 2
          const to = this.intLiteral()
          if (from > to) this.fail("InvalidRange", `integer range ${from}..${to} starts after it ends`, elementAt)
          elements.push({ _tag: "IntRange", from, to })
        } else {
          elements.push({ _tag: "Int", value: from })
        }
      } else {
        const [ip, text] = this.ipLiteral()
        if (this.at("/")) {
          this.pos++
          const digits = this.sticky(/[0-9]+/y)
          if (digits === undefined) this.unexpected("a prefix length after /")
          this.pos += digits.length
          const prefix = Number(digits)
          if (prefix > bits(ip)) this.fail("InvalidCidr", `prefix /${digits} is too long for ${text}`, elementAt)
          if (networkOf(ip, prefix) !== ip) this.fail("InvalidCidr", `host part of address was not zero in ${text}/${prefix}`, elementAt)
          elements.push({ _tag: "Cidr", address: text, prefix })
        } else if (this.at("..")) {
          this.pos += 2
          const [to, toText] = this.ipLiteral()
          const cmp = compareIp(ip, to)
          if (cmp === undefined) this.fail("InvalidRange", `IP range ${text}..${toText} mixes IPv4 and IPv6`, elementAt)
          if (cmp > 0) this.fail("InvalidRange", `IP range ${text}..${toText} starts after it ends`, elementAt)
          elements.push({ _tag: "IpRange", from: text, to: toText })
        } else {
          elements.push({ _tag: "Ip", value: text })
        }
      }
      if (!this.atEnd() && !isSpace(this.src.charCodeAt(this.pos)) && !this.at("}")) {
        if (this.at(",")) this.fail("UnexpectedToken", "set elements are separated by whitespace, not commas")
        this.unexpected("whitespace or } after a set element")
      }
    }
  }
}

const positionOf = (src: string, offset: number) => {
  let line = 1
  let column = 1
  const stop = Math.min(Math.max(offset, 0), src.length)
  for (let i = 0; i < stop; i++) {
    if (src.charCodeAt(i) === 10) {
      line++
      column = 1
    } else {
      column++
    }
  }
  return { offset: stop, line, column }
}

const countCharacters = (src: string): number => {
  let n = 0
  for (let i = 0; i < src.length; i++) {
    const c = src.charCodeAt(i)
    if (c < 0xdc00 || c > 0xdfff) n++
  }
  return n
}

/**
 * Parses and type-checks an expression. Every syntax or type error is a `RulesParseError` value;
 * only a bug in the engine throws (a defect, which the Effect API reports as a die).
 */
export const parseExpression = (source: string): Either.Either<Ast.Expression, RulesParseError> => {
  const text = typeof source === "string" ? source : String(source)
  const length = countCharacters(text)
  if (length > MAX_EXPRESSION_LENGTH) {
    return Either.left(
      new RulesParseError({
        reason: "ExpressionTooLong",
        detail: `expression is ${length} characters; the documented maximum is ${MAX_EXPRESSION_LENGTH}`,
        position: positionOf(text, MAX_EXPRESSION_LENGTH)
      })
    )
  }
  const parser = new Parser(text)
  try {
    return Either.right(parser.top())
  } catch (e) {
    // Only the parser's own Failure is a verdict on the expression; an engine bug is rethrown
    // so that it is not reported to the user as a problem in their expression.
    if (e instanceof Failure) {
      return Either.left(new RulesParseError({ reason: e.reason, detail: e.detail, position: positionOf(text, e.offset) }))
    }
    throw e
  }
}
