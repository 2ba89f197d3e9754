/**
 * Posture checks: a generic contract for "is this connection configured safely?" questions asked
 * of a snapshot. A check names the resources and permissions it needs and the scope kind it judges
 * (one verdict per zone, say); the runtime gives it the snapshot and the scope and turns coverage
 * problems into `skipped` verdicts itself, so a check only ever sees readable data:
 *
 * - a needed resource forbidden → skipped (permission), naming the permissions to grant;
 * - a needed resource skipped → skipped (plan or feature), with the provider's reason;
 * - a needed resource failed, or not read at all → error;
 * - otherwise the check's own verdict: pass, fail with evidence and a remediation, or skipped.
 */
import { Array as Arr, Order, Schema } from "effect"
import * as Json from "./Json.js"
import { Scope } from "./Scope.js"
import * as Snapshot from "./Snapshot.js"

/** How much a failing check matters. */
export const Severity = Schema.Literal("critical", "high", "medium", "low", "info")
export type Severity = typeof Severity.Type

/** An exact API request that would fix a failing check (what the customer's dashboard would send). */
export class RemediationRequest extends Schema.Class<RemediationRequest>("@plumbline/core/RemediationRequest")({
  method: Schema.Literal("GET", "POST", "PUT", "PATCH", "DELETE"),
  path: Schema.String,
  body: Schema.optional(Json.Json)
}) {}

/** How to fix a failing check: a plain sentence, and where it applies the exact expression and request. */
export class Remediation extends Schema.Class<Remediation>("@plumbline/core/Remediation")({
  summary: Schema.String,
  expression: Schema.optional(Schema.String),
  request: Schema.optional(RemediationRequest)
}) {}

/** The check holds. */
export class Pass extends Schema.TaggedClass<Pass>("@plumbline/core/Check/Pass")("pass", {
  evidence: Json.Json
}) {}

/** The check does not hold; `evidence` says what was found, `remediation` how to fix it. */
export class Fail extends Schema.TaggedClass<Fail>("@plumbline/core/Check/Fail")("fail", {
  evidence: Json.Json,
  remediation: Remediation
}) {}

/** The check could not be judged, for a reason that is nobody's fault. */
export class Skipped extends Schema.TaggedClass<Skipped>("@plumbline/core/Check/Skipped")("skipped", {
  reason: Schema.Literal("plan", "permission", "feature", "not-applicable"),
  detail: Schema.String,
  /** For `permission`: what to grant. */
  permissions: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
}) {}

/** The check could not be judged because its data is missing or failed to load. */
export class Errored extends Schema.TaggedClass<Errored>("@plumbline/core/Check/Errored")("error", {
  detail: Schema.String
}) {}

/** A check's verdict on one scope. */
export const Verdict = Schema.Union(Pass, Fail, Skipped, Errored)
export type Verdict = typeof Verdict.Type

/** What a check sees: the snapshot and the one scope it judges. */
export interface CheckInput {
  readonly snapshot: Snapshot.Snapshot
  readonly scope: Scope
  /** The `ok` records of a resource in this scope or its nearest ancestor (coverage already checked). */
  readonly records: (resource: string) => ReadonlyArray<Snapshot.SnapshotRecord>
}

/** One posture check. */
export interface Check {
  readonly id: string
  readonly title: string
  readonly description: string
  readonly severity: Severity
  /** The scope kind it judges; one verdict per scope of that kind in the snapshot. */
  readonly scope: string
  /** Resources it reads, each found in the judged scope or the nearest ancestor scope that has it. */
  readonly resources: ReadonlyArray<string>
  readonly permissions: ReadonlyArray<string>
  readonly evaluate: (input: CheckInput) => Verdict
}

/** A verdict with what it is about, as stored and reported. */
export class Finding extends Schema.Class<Finding>("@plumbline/core/Finding")({
  checkId: Schema.String,
  title: Schema.String,
  severity: Severity,
  connectionId: Schema.String,
  scope: Scope,
  verdict: Verdict,
  evaluatedAt: Schema.DateTimeUtc
}) {
  /** `checkId@kind:id`: the identity of a finding across snapshots. */
  get key(): string {
    return `${this.checkId}@${this.scope.key}`
  }
}

const findingOrder: Order.Order<Finding> = Order.combine(
  Order.mapInput(Order.string, (f: Finding) => f.checkId),
  Order.mapInput(Order.string, (f: Finding) => f.scope.key)
)

/** Runs `checks` on every scope of a snapshot they judge. Findings are sorted by check and scope. */
export const run = (checks: ReadonlyArray<Check>, snapshot: Snapshot.Snapshot): Array<Finding> => {
  const scopes = new Map<string, Scope>()
  for (const result of snapshot.results) scopes.set(result.scope.key, result.scope)
  const findings: Array<Finding> = []
  for (const check of checks) {
    for (const scope of scopes.values()) {
      if (scope.kind !== check.scope) continue
      findings.push(
        new Finding({
          checkId: check.id,
          title: check.title,
          severity: check.severity,
          connectionId: snapshot.connectionId,
          scope,
          verdict: judge(check, snapshot, scope),
          evaluatedAt: snapshot.finishedAt
        })
      )
    }
  }
  return Arr.sort(findings, findingOrder)
}

/** One check on one scope, with coverage problems turned into skipped or error verdicts. */
export const judge = (check: Check, snapshot: Snapshot.Snapshot, scope: Scope): Verdict => {
  const scopes = new Map(snapshot.results.map((r) => [r.scope.key, r.scope]))
  /** The result of `resource` in the judged scope, or else in the nearest ancestor that has one. */
  const find = (resource: string): Snapshot.ResourceResult | undefined => {
    for (let at: Scope | undefined = scope; at !== undefined; at = at.parent === undefined ? undefined : scopes.get(at.parent)) {
      const key = at.key
      const result = snapshot.results.find((r) => r.resource === resource && r.scope.key === key)
      if (result !== undefined) return result
    }
    return undefined
  }
  const missingPermissions = new Set<string>()
  for (const resource of check.resources) {
    const result = find(resource)
    if (result === undefined) return new Errored({ detail: `${resource} was not read in this snapshot` })
    switch (result.status._tag) {
      case "forbidden":
        for (const p of result.status.permissions) missingPermissions.add(p)
        break
      case "skipped":
        return new Skipped({ reason: result.status.reason, detail: result.status.detail })
      case "failed":
        return new Errored({ detail: `${resource} could not be read: ${result.status.error.message}` })
    }
  }
  if (missingPermissions.size > 0) {
    const permissions = Array.from(missingPermissions).sort()
    return new Skipped({
      reason: "permission",
      detail: `The credential cannot read what this check needs; grant ${permissions.join(", ")}`,
      permissions
    })
  }
  return check.evaluate({
    snapshot,
    scope,
    records: (resource) => {
      const result = find(resource)
      // A `partial` result is judged on the records that decoded; its problems are on the result.
      return result === undefined ? [] : Snapshot.recordsOfStatus(result.status)
    }
  })
}

/** A score from 0 to 100: the share of judged findings that pass, weighted by severity. */
export const score = (findings: ReadonlyArray<Finding>): number => {
  const weight: Record<Severity, number> = { critical: 10, high: 5, medium: 3, low: 1, info: 0 }
  let total = 0
  let passed = 0
  for (const finding of findings) {
    if (finding.verdict._tag !== "pass" && finding.verdict._tag !== "fail") continue
    total += weight[finding.severity]
    if (finding.verdict._tag === "pass") passed += weight[finding.severity]
  }
  return total === 0 ? 100 : Math.round((passed / total) * 100)
}

/** The findings whose verdict changed between two runs (by tag), keyed by `Finding.key`. */
export const changed = (
  before: ReadonlyArray<Finding>,
  after: ReadonlyArray<Finding>
): Array<{ readonly before: Finding | undefined; readonly after: Finding }> => {
  const previous = new Map(before.map((f) => [f.key, f]))
  return after.flatMap((finding) => {
    const was = previous.get(finding.key)
    return was?.verdict._tag === finding.verdict._tag ? [] : [{ before: was, after: finding }]
  })
}
