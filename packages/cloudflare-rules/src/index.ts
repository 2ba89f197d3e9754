/**
 * `@plumbline/cloudflare-rules`: an engine for the Cloudflare Rules language (wirefilter):
 * parser and type checker, compiled evaluator, canonical printer, and a request-facts builder.
 */

/** The syntax tree of an expression. */
export * as Ast from "./Ast.js"

/** Rule coverage: which rule of a zone acts on a request, in Cloudflare's phase order. */
export * as Coverage from "./Coverage.js"

/** Parse, print and inspect expressions. */
export * as Expression from "./Expression.js"

/** Request facts: field values in the engine's representation. */
export * as Facts from "./Facts.js"

/** Named lists (`$name`) supplied from outside. */
export * as NamedLists from "./NamedLists.js"

/** Build request facts from a simple request description. */
export * as Request from "./Request.js"

/** Compile and evaluate rules. */
export * as Rule from "./Rule.js"

/** Parse and evaluation errors. */
export * as RulesError from "./RulesError.js"

/** Field types. */
export * as Scheme from "./Scheme.js"
