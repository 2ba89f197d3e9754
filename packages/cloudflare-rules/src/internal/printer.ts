/**
 * The canonical printer. Canonical form: English operators, one space around every binary
 * operator, parentheses only where precedence needs them, strings always quoted with the fewest
 * escapes, regexes quoted unless only a raw string can express them, integers in decimal, IPv6 in
 * RFC 5952 form. Printing a parsed expression and parsing the result gives the same tree.
 */
import type * as Ast from "../Ast.js"
import { hexByte, toUtf8Strict } from "./bytes.js"

const precedence: Record<Ast.LogicalOperator, number> = { and: 2, xor: 3, or: 4 }

/** Prints a byte string as a quoted Rules-language string. */
export const printBytes = (bytes: string): string => {
  // Valid UTF-8 prints as text so non-ASCII stays readable; anything else is \xHH.
  const text = toUtf8Strict(bytes)
  let out = '"'
  if (text !== undefined) {
    for (const ch of text) {
      const code = ch.codePointAt(0)!
      if (ch === '"' || ch === "\\") out += "\\" + ch
      else if (code < 0x20 || code === 0x7f) out += "\\x" + hexByte(code).toLowerCase()
      else out += ch
    }
  } else {
    for (let i = 0; i < bytes.length; i++) {
      const code = bytes.charCodeAt(i)
      const ch = bytes[i]!
      if (ch === '"' || ch === "\\") out += "\\" + ch
      else if (code < 0x20 || code >= 0x7f) out += "\\x" + hexByte(code).toLowerCase()
      else out += ch
    }
  }
  return out + '"'
}

const quoteRegex = (pattern: string): string | undefined => {
  let out = '"'
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!
    if (ch === "\\") {
      const next = pattern[i + 1]
      if (next === undefined) return undefined
      if (next === '"' && !inClass) return undefined // `\"` outside a class cannot be spelled quoted
      out += ch + next
      i++
      continue
    }
    if (ch === '"' && !inClass) out += '\\"'
    else {
      if (ch === "[" && !inClass) inClass = true
      else if (ch === "]" && inClass) inClass = false
      out += ch
    }
  }
  return out + '"'
}

const rawString = (text: string): string => {
  let hashes = ""
  while (text.includes('"' + hashes)) hashes += "#"
  return `r${hashes}"${text}"${hashes}`
}

/** Prints a regex pattern so the lexer gives back exactly `pattern`. */
export const printRegex = (pattern: string): string => quoteRegex(pattern) ?? rawString(pattern)

const printIndex = (index: Ast.Index): string =>
  index._tag === "Each" ? "[*]" : index._tag === "Element" ? `[${index.index}]` : `[${printBytes(index.key)}]`

const printArgument = (arg: Ast.Argument): string =>
  arg._tag === "String" ? printBytes(arg.value) : arg._tag === "Int" ? String(arg.value) : printValue(arg)

/** Prints a field or call with its indexes. */
export const printValue = (value: Ast.Value): string => {
  const head = value._tag === "Field" ? value.name : `${value.name}(${value.args.map(printArgument).join(", ")})`
  return head + value.indexes.map(printIndex).join("")
}

const printElement = (e: Ast.SetElement): string => {
  switch (e._tag) {
    case "String":
      return printBytes(e.value)
    case "Int":
      return String(e.value)
    case "Ip":
      return e.value
    case "IntRange":
      return `${e.from}..${e.to}`
    case "IpRange":
      return `${e.from}..${e.to}`
    case "Cidr":
      return `${e.address}/${e.prefix}`
  }
}

const printRhs = (rhs: Ast.Rhs): string => {
  switch (rhs._tag) {
    case "String":
      return printBytes(rhs.value)
    case "Int":
      return String(rhs.value)
    case "Ip":
      return rhs.value
    case "Regex":
      return printRegex(rhs.pattern)
    case "Wildcard":
      return printBytes(rhs.pattern)
    case "Set":
      return `{${rhs.elements.map(printElement).join(" ")}}`
    case "List":
      return `$${rhs.name}`
  }
}

const printOperand = (e: Ast.Expression, parent: number): string => {
  const text = printExpression(e)
  return e._tag === "Logical" && precedence[e.operator] >= parent ? `(${text})` : text
}

/** Prints an expression in canonical form. */
export const printExpression = (e: Ast.Expression): string => {
  switch (e._tag) {
    case "Logical":
      return e.operands.map((o) => printOperand(o, precedence[e.operator])).join(` ${e.operator} `)
    case "Not":
      return `not ${printOperand(e.operand, 0)}`
    case "Quantifier":
      return `${e.quantifier}(${printOperand(e.operand, 0)})`
    case "Comparison":
      return `${printValue(e.left)} ${e.operator} ${printRhs(e.right)}`
    case "BareValue":
      return printValue(e.value)
  }
}
