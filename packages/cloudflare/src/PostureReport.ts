/**
 * The posture report of one connection: a checklist per zone (check, verdict, severity,
 * remediation), a score (`Check.score`), and the findings as OCSF 1.x Compliance Finding events
 * (class 2003, category 2 "Findings") for a SIEM.
 */
import { Check, type Json, type Snapshot } from "@plumbline/core"
import { DateTime } from "effect"
import { checks as defaultChecks } from "./Checks.js"

/** One line of a zone's checklist. */
export interface Item {
  readonly checkId: string
  readonly title: string
  readonly severity: Check.Severity
  readonly verdict: Check.Verdict["_tag"]
  /** The fix, for a failing check. */
  readonly remediation?: Check.Remediation
  /** Why the check could not be judged, for skipped and errored verdicts. */
  readonly detail?: string
}

/** The checklist of one zone. */
export interface ZoneReport {
  readonly zoneId: string
  readonly zone: string
  readonly score: number
  readonly items: ReadonlyArray<Item>
}

/** A connection's posture report. */
export interface PostureReport {
  readonly connectionId: string
  readonly evaluatedAt: string
  readonly score: number
  readonly zones: ReadonlyArray<ZoneReport>
  readonly findings: ReadonlyArray<Check.Finding>
}

const item = (finding: Check.Finding): Item => {
  const v = finding.verdict
  return {
    checkId: finding.checkId,
    title: finding.title,
    severity: finding.severity,
    verdict: v._tag,
    ...(v._tag === "fail" ? { remediation: v.remediation } : {}),
    ...(v._tag === "skipped" || v._tag === "error" ? { detail: v.detail } : {})
  }
}

/** Runs `checks` (default: every Cloudflare check) on a snapshot and groups the findings by zone. */
export const make = (snapshot: Snapshot.Snapshot, checks: ReadonlyArray<Check.Check> = defaultChecks): PostureReport => {
  const findings = Check.run(checks, snapshot)
  const byZone = new Map<string, Array<Check.Finding>>()
  for (const finding of findings) {
    if (finding.scope.kind !== "zone") continue
    byZone.set(finding.scope.id, [...(byZone.get(finding.scope.id) ?? []), finding])
  }
  return {
    connectionId: snapshot.connectionId,
    evaluatedAt: DateTime.formatIso(snapshot.finishedAt),
    score: Check.score(findings),
    zones: Array.from(byZone, ([zoneId, fs]) => ({
      zoneId,
      zone: fs[0]?.scope.name ?? zoneId,
      score: Check.score(fs),
      items: fs.map(item)
    })).sort((a, b) => a.zone.localeCompare(b.zone)),
    findings
  }
}

/** OCSF Compliance Finding: class, category and activity. */
export const OCSF = {
  version: "1.3.0",
  classUid: 2003,
  categoryUid: 2,
  activityCreate: 1
} as const

/** OCSF `severity_id` of a Plumbline severity. */
export const severityId: Record<Check.Severity, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 }
const severityName: Record<number, string> = { 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical" }

/** OCSF `compliance.status_id` / `status` of a verdict: Pass 1, Fail 3, Other 99 (skipped), Unknown 0 (error). */
export const complianceStatus = (verdict: Check.Verdict): { readonly status_id: number; readonly status: string } => {
  switch (verdict._tag) {
    case "pass":
      return { status_id: 1, status: "Pass" }
    case "fail":
      return { status_id: 3, status: "Fail" }
    case "skipped":
      return { status_id: 99, status: "Other" }
    case "error":
      return { status_id: 0, status: "Unknown" }
  }
}

/** One finding as an OCSF 1.x Compliance Finding event. */
export const toOcsf = (finding: Check.Finding): Record<string, Json.Json> => {
  const verdict = finding.verdict
  const compliance = complianceStatus(verdict)
  const sev = severityId[finding.severity]
  const detail =
    verdict._tag === "fail"
      ? verdict.remediation.summary
      : verdict._tag === "skipped" || verdict._tag === "error"
        ? verdict.detail
        : undefined
  const remediation: Record<string, Json.Json> | undefined =
    verdict._tag === "fail"
      ? {
          desc: verdict.remediation.summary,
          ...(verdict.remediation.request === undefined
            ? {}
            : { references: [`${verdict.remediation.request.method} ${verdict.remediation.request.path}`] })
        }
      : undefined
  return {
    class_uid: OCSF.classUid,
    class_name: "Compliance Finding",
    category_uid: OCSF.categoryUid,
    category_name: "Findings",
    activity_id: OCSF.activityCreate,
    activity_name: "Create",
    type_uid: OCSF.classUid * 100 + OCSF.activityCreate,
    type_name: "Compliance Finding: Create",
    severity_id: sev,
    severity: severityName[sev] ?? "Unknown",
    status_id: 1,
    status: "New",
    time: DateTime.toEpochMillis(finding.evaluatedAt),
    message: `${finding.title}: ${compliance.status}`,
    finding_info: {
      uid: finding.key,
      title: finding.title,
      desc: detail ?? finding.title,
      types: ["Posture"]
    },
    compliance: {
      status_id: compliance.status_id,
      status: compliance.status,
      ...(detail === undefined ? {} : { status_detail: detail }),
      control: finding.checkId,
      standards: ["Plumbline Cloudflare posture"]
    },
    ...(remediation === undefined ? {} : { remediation }),
    resources: [{ uid: finding.scope.id, name: finding.scope.name ?? finding.scope.id, type: `cloudflare.${finding.scope.kind}` }],
    cloud: { provider: "Cloudflare" },
    metadata: {
      version: OCSF.version,
      product: { name: "Plumbline", vendor_name: "Plumbline" },
      uid: `${finding.connectionId}/${finding.key}`
    },
    unmapped: { connection_id: finding.connectionId, verdict: verdict._tag }
  }
}

/** Every finding of a report as OCSF Compliance Finding events. */
export const ocsf = (report: PostureReport): Array<Record<string, Json.Json>> => report.findings.map(toOcsf)
