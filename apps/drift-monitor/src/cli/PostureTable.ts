/**
 * The posture report as the table `plumbline check` prints: a headline with the score and the
 * counts, then per zone one row per check (id, status, severity, title), and under a failing row
 * how to fix it — the sentence, the exact rule expression and the API request — or, under a skipped
 * or errored row, why it could not be judged. Pure, tested directly.
 */
import type { PostureReport } from "@plumbline/cloudflare"
import { Json } from "@plumbline/core"

/** Verdicts as the table spells them. */
const status = (verdict: PostureReport.Item["verdict"]): string => verdict

/** Pads every column to its widest cell; the last column is left ragged. */
export const columns = (rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
  const widths: Array<number> = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  "))
}

/** Counts of a list of items by verdict. */
export const counts = (items: ReadonlyArray<PostureReport.Item>): Record<PostureReport.Item["verdict"], number> => {
  const out = { pass: 0, fail: 0, skipped: 0, error: 0 }
  for (const item of items) out[item.verdict]++
  return out
}

const describeCounts = (items: ReadonlyArray<PostureReport.Item>): string => {
  const c = counts(items)
  return `${c.pass} pass, ${c.fail} fail, ${c.skipped} skipped${c.error > 0 ? `, ${c.error} error` : ""}`
}

/** The whole table, one string ending with a newline. */
export const render = (report: PostureReport.PostureReport): string => {
  const all = report.zones.flatMap((z) => z.items)
  const lines = [`posture of connection ${report.connectionId} at ${report.evaluatedAt}: score ${report.score}/100 (${describeCounts(all)})`]
  if (report.zones.length === 0) lines.push("", "no zones in this snapshot")
  for (const zone of report.zones) {
    lines.push("", `zone ${zone.zone} (${zone.zoneId}): score ${zone.score}/100 (${describeCounts(zone.items)})`)
    const table = columns([
      ["CHECK", "STATUS", "SEVERITY", "TITLE"],
      ...zone.items.map((item) => [item.checkId, status(item.verdict), item.severity, item.title])
    ])
    lines.push(`  ${table[0] ?? ""}`)
    zone.items.forEach((item, i) => {
      lines.push(`  ${table[i + 1] ?? ""}`)
      const fix = item.remediation
      if (fix !== undefined) {
        lines.push(`      fix: ${fix.summary}`)
        if (fix.expression !== undefined) lines.push(`      expression: ${fix.expression}`)
        if (fix.request !== undefined) {
          const body = fix.request.body === undefined ? "" : ` ${Json.stringify(fix.request.body)}`
          lines.push(`      request: ${fix.request.method} ${fix.request.path}${body}`)
        }
      } else if (item.detail !== undefined) {
        lines.push(`      why: ${item.detail}`)
      }
    })
  }
  return `${lines.join("\n")}\n`
}
