/**
 * A compile-time check, not a test run: the dashboard's JSDoc types of the API's views
 * (`public/app.js`) are exactly the JSON the API sends — each view Schema's encoded form — so a
 * view that changes without the dashboard (or the other way round) fails `typecheck`.
 */
import type * as Dashboard from "../public/app.js"
import type * as Api from "../src/Api.js"

/** `true` when A and B are assignable both ways. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Holds<T extends true> = T

/** Each pair must be the same type; a mismatch is a compile error on its line. */
export type ViewsMatch = [
  Holds<Same<Dashboard.Alert, typeof Api.ConnectionView.Encoded.alert & {}>>,
  Holds<Same<Dashboard.Schedule, typeof Api.ScheduleView.Encoded>>,
  Holds<Same<Dashboard.SnapshotSummary, typeof Api.SnapshotSummaryView.Encoded>>,
  Holds<Same<Dashboard.Connection, typeof Api.ConnectionView.Encoded>>,
  Holds<Same<Dashboard.Grant, typeof Api.GrantView.Encoded>>,
  Holds<Same<Dashboard.Zone, typeof Api.ZoneView.Encoded>>,
  Holds<Same<Dashboard.Verification, typeof Api.VerificationView.Encoded>>,
  Holds<Same<Dashboard.DriftEvent, typeof Api.DriftEventView.Encoded>>,
  Holds<Same<Dashboard.Remediation, typeof Api.RemediationView.Encoded>>,
  Holds<Same<Dashboard.ChecklistItem, typeof Api.ChecklistItemView.Encoded>>,
  Holds<Same<Dashboard.Checklist, typeof Api.ChecklistView.Encoded>>,
  Holds<Same<Dashboard.BudgetState, typeof Api.BudgetStateView.Encoded>>,
  Holds<Same<Dashboard.ChangeDetection, typeof Api.ChangeDetectionView.Encoded>>
]
