/**
 * The scheduler's hot statements over `drift_monitor_schedule`: picking the rows to claim and
 * finding when to wake up. They run after every run finishes, so each must be answered from an
 * index (`drift_monitor_schedule_recheck`, `_due`, `_lease`, migration 5) in time that does not
 * grow with the number of connections; `test/ScheduleQueries.test.ts` holds them to that.
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"

/** What the statements need: the client, this process's id and the clock reading. */
export interface Context {
  readonly sql: SqlClient
  readonly me: string
  readonly now: number
  /** PostgreSQL (several processes): picked rows are locked with `for update skip locked`. */
  readonly shared: boolean
}

const unheld = ({ now, sql }: Context) => sql`(lease_owner is null or lease_expires_at <= ${now})`
const skipLocked = ({ shared, sql }: Context) => sql.literal(shared ? "for update skip locked" : "")

/** Up to `n` pending re-checks nobody holds, earliest due first. */
export const pickRechecks = (c: Context, n: number): Statement.Statement<unknown> =>
  c.sql`select connection_id from drift_monitor_schedule
    where recheck_requested > recheck_done and ${unheld(c)}
    order by next_run_at limit ${n} ${skipLocked(c)}`

/** Up to `n` due connections nobody holds, earliest due first. */
export const pickDue = (c: Context, n: number): Statement.Statement<unknown> =>
  c.sql`select connection_id from drift_monitor_schedule
    where next_run_at <= ${c.now} and ${unheld(c)}
    order by next_run_at limit ${n} ${skipLocked(c)}`

/**
 * One row: `recheck` (now, when a re-check waits unheld), `due` (the earliest due time of an unheld
 * row) and `expiry` (the earliest expiry of another process's live lease), each null when none.
 */
export const wakeTimes = (c: Context): Statement.Statement<Record<string, unknown>> =>
  c.sql<Record<string, unknown>>`select
      (select ${c.now} from drift_monitor_schedule
        where recheck_requested > recheck_done and ${unheld(c)} limit 1) as recheck,
      (select next_run_at from drift_monitor_schedule
        where next_run_at is not null and ${unheld(c)} order by next_run_at limit 1) as due,
      (select lease_expires_at from drift_monitor_schedule
        where lease_owner is not null and lease_owner <> ${c.me} and lease_expires_at > ${c.now}
        order by lease_expires_at limit 1) as expiry`
