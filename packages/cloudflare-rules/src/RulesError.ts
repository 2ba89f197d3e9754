/**
 * The errors of the Rules engine. Parsing and type-checking report a {@link RulesParseError}
 * carrying a `reason`, a human-readable `detail` and the position of the offending input;
 * evaluation through the Effect API reports a {@link RulesEvaluationError} when a named list
 * the rule needs was not supplied. No input makes the engine throw; an exception from the engine
 * itself is a bug, and the Effect API reports it as a defect rather than as one of these errors.
 */
import { Predicate, Schema } from "effect"

/** Why an expression was rejected. */
export const ParseErrorReason = Schema.Literal(
  /** The expression is longer than Cloudflare's 4,096-character limit. */
  "ExpressionTooLong",
  /** The expression is empty (or only whitespace). */
  "EmptyExpression",
  /** Input ended where more was expected (dangling operator, unclosed parenthesis or string). */
  "UnexpectedEnd",
  /** A character or token that cannot appear here (tabs, single quotes, commas in sets, ...). */
  "UnexpectedToken",
  /** Input left over after a complete expression. */
  "TrailingInput",
  /** A field name that is not in the scheme. */
  "UnknownField",
  /** A function name that is not supported. */
  "UnknownFunction",
  /** A value not followed by a comparison operator where one is required. */
  "ExpectedOperator",
  /** An operator, operand or argument of the wrong type. */
  "TypeMismatch",
  /** A string escape other than \" \\ \xHH \OOO. */
  "InvalidEscape",
  /** A malformed or out-of-range integer literal. */
  "InvalidInteger",
  /** A malformed IP address. */
  "InvalidIp",
  /** A CIDR with host bits set or a bad prefix length, or a CIDR outside a set. */
  "InvalidCidr",
  /** A range whose start is after its end, or whose ends differ in kind. */
  "InvalidRange",
  /** `in` without a set literal or a named list. */
  "ExpectedSetOrList",
  /** A named list whose name breaks the naming rules. */
  "InvalidListName",
  /** A regular expression the RE2 engine rejects. */
  "InvalidRegex",
  /** A wildcard pattern with a bad escape or two consecutive stars. */
  "InvalidWildcard",
  /** A wrong number or kind of function arguments (e.g. a literal where a field is required). */
  "InvalidArgument",
  /** `[*]` used where it is not allowed (outside a first argument, or twice). */
  "InvalidMapEach",
  /** More than 128 nested parentheses, negations and calls. */
  "NestingTooDeep"
)

/** @see ParseErrorReason */
export type ParseErrorReason = typeof ParseErrorReason.Type

/** A position in the expression text. `offset` is 0-based; `line` and `column` are 1-based. */
export const Position = Schema.Struct({
  offset: Schema.Number,
  line: Schema.Number,
  column: Schema.Number
})

/** @see Position */
export type Position = typeof Position.Type

/** An expression that does not parse or does not type-check. */
export class RulesParseError extends Schema.TaggedError<RulesParseError>("@plumbline/cloudflare-rules/RulesParseError")(
  "RulesParseError",
  {
    reason: ParseErrorReason,
    detail: Schema.String,
    position: Position
  }
) {
  override get message(): string {
    return `${this.reason} at line ${this.position.line}, column ${this.position.column}: ${this.detail}`
  }
}

/** Why an evaluation could not be carried out. */
export const EvaluationErrorReason = Schema.Literal(
  /** The rule refers to a named list (`$name`) whose contents were not supplied. */
  "MissingList"
)

/** @see EvaluationErrorReason */
export type EvaluationErrorReason = typeof EvaluationErrorReason.Type

/** An evaluation that needs inputs the caller did not give. */
export class RulesEvaluationError extends Schema.TaggedError<RulesEvaluationError>(
  "@plumbline/cloudflare-rules/RulesEvaluationError"
)("RulesEvaluationError", {
  reason: EvaluationErrorReason,
  lists: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `${this.reason}: the rule needs named list(s) ${this.lists.map((l) => `$${l}`).join(", ")}`
  }
}

/** True for a {@link RulesParseError}. */
export const isRulesParseError = (u: unknown): u is RulesParseError =>
  Predicate.isTagged(u, "RulesParseError")

/** True for a {@link RulesEvaluationError}. */
export const isRulesEvaluationError = (u: unknown): u is RulesEvaluationError =>
  Predicate.isTagged(u, "RulesEvaluationError")

/** Why a rule of a customer's configuration could not be evaluated by `Coverage`. */
export const RuleConfigErrorReason = Schema.Literal(
  /** The rule's expression does not parse or does not type-check. */
  "InvalidExpression",
  /** The rule has no expression (or a deleted legacy filter). */
  "MissingExpression",
  /** The rule refers to a named list (`$name`) whose contents were not supplied. */
  "MissingList",
  /** An `execute` rule names a ruleset that was not supplied. */
  "UnknownRuleset",
  /** The rule object lacks an `id` or an `action`, or an IP Access rule has an unusable value. */
  "InvalidRule"
)

/** @see RuleConfigErrorReason */
export type RuleConfigErrorReason = typeof RuleConfigErrorReason.Type

/**
 * A rule of the configuration under test that could not be evaluated. `Coverage` reports these
 * in its trace, one per rule, and never fails or throws because of the customer's data.
 */
export class RuleConfigError extends Schema.TaggedError<RuleConfigError>("@plumbline/cloudflare-rules/RuleConfigError")(
  "RuleConfigError",
  {
    reason: RuleConfigErrorReason,
    /** The phase (or `ip_access_rules` / `firewall_rules`) the rule belongs to. */
    stage: Schema.String,
    /** The ruleset holding the rule (entry point id, custom ruleset id, or the stage name). */
    ruleset: Schema.String,
    /** The rule id. */
    rule: Schema.String,
    detail: Schema.String,
    /** The parse error, for `InvalidExpression`. */
    parseError: Schema.optional(RulesParseError)
  }
) {
  override get message(): string {
    return `${this.reason} in rule ${this.rule} (${this.stage}, ruleset ${this.ruleset}): ${this.detail}`
  }
}

/** True for a {@link RuleConfigError}. */
export const isRuleConfigError = (u: unknown): u is RuleConfigError => Predicate.isTagged(u, "RuleConfigError")
