/**
 * The human-readable form of a drift report that `plumbline diff` prints: a headline with the
 * counts, then one block per changed record — `+` added, `-` removed, `~` changed — whose lines are
 * the record's fields as JSON Pointer paths (`before → after` for a change), then the coverage
 * changes (a resource that became forbidden, skipped, failed or absent). Pure, tested directly.
 */
import type { Drift } from "@plumbline/core"
import { Json } from "@plumbline/core"
import { DateTime } from "effect"

/** A value as one line of canonical JSON (`(absent)` for a member that is not there). */
const show = (value: Json.Json | undefined): string => (value === undefined ? "(absent)" : Json.stringify(value))

const escape = (segment: string) => segment.replace(/~/g, "~0").replace(/\//g, "~1")

/** A record's top-level members as `/path: value` lines, sorted (what an added or removed record held). */
const members = (value: Json.Json): Array<string> =>
  Json.isObject(value)
    ? Object.keys(value)
        .sort()
        .map((key) => `    /${escape(key)}: ${show(value[key])}`)
    : [`    ${show(value)}`]

const where = (change: { readonly resource: string; readonly scope: { readonly label: string } }) =>
  `${change.resource} in ${change.scope.label}`

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/** The headline: `no drift` or the counts by kind. */
export const headline = (report: Drift.DriftReport): string => {
  if (report.isEmpty) return "no drift"
  const count = (tag: Drift.RecordChange["_tag"]) => report.changes.filter((c) => c._tag === tag).length
  return [
    `drift: ${count("added")} added, ${count("removed")} removed, ${count("changed")} changed`,
    `${plural(report.coverage.length, "coverage change")}`
  ].join(", ")
}

/** The whole summary, one string ending with a newline. */
export const render = (report: Drift.DriftReport): string => {
  const lines = [
    `${headline(report)} (connection ${report.connectionId}, ${DateTime.formatIso(report.from)} → ${DateTime.formatIso(report.to)})`
  ]
  for (const change of report.changes) {
    switch (change._tag) {
      case "added":
        lines.push(`+ ${where(change)}: ${change.key}`, ...members(change.after))
        break
      case "removed":
        lines.push(`- ${where(change)}: ${change.key}`, ...members(change.before))
        break
      case "changed":
        lines.push(
          `~ ${where(change)}: ${change.key}`,
          ...change.fields.map((field) => `    ${field.path}: ${show(field.before)} → ${show(field.after)}`)
        )
    }
  }
  for (const coverage of report.coverage) {
    lines.push(`! ${where(coverage)}: coverage ${coverage.before} → ${coverage.after}`)
  }
  return `${lines.join("\n")}\n`
}
