// @ts-check
/* global document, location, sessionStorage, history, Node, fetch, navigator, EventSource, window */
// The drift monitor dashboard: vanilla ES module, no build step. The API key is taken once from the
// URL (`#key=…`, as the demo prints it) or asked for, and kept in sessionStorage for the tab.
// Checked by tsc (`tsconfig.dashboard.json`) against the JSDoc types below; test/DashboardTypes.ts
// checks that those are exactly what the API's views send.

// ---- the API's views, as JSON (the encoded form of the Schemas in src/Api.ts)

/** @typedef {{ kind: "credential_expired" | "failing" | "account_unavailable", since: string, message: string }} Alert */
/** @typedef {{ running: boolean, nextRunAt: string | null, failures: number, lastRunAt: string | null, lastError: string | null }} Schedule */
/** @typedef {{ id: string, startedAt: string, finishedAt: string, outcome: string, resultCount: number, recordCount: number, kind: "full" | "incremental" }} SnapshotSummary */
/**
 * How a connection's changes are detected (issue #15).
 * @typedef {{
 *   mode: "audit_log" | "probes" | "full", betterPermission: string | null, lagSeconds: number | null,
 *   missedByFeed: number, lastFullAt: string | null, lastFeedError: string | null, slowCadenceSeconds: number
 * }} ChangeDetection
 */
/**
 * @typedef {{
 *   id: string, name: string, connectorId: string, status: "active" | "paused" | "credential_expired",
 *   credentialFingerprint: string, zones: ReadonlyArray<string> | null, intervalSeconds: number,
 *   alert: Alert | null, schedule: Schedule, latestSnapshot: SnapshotSummary | null, score: number | null,
 *   createdAt: string, updatedAt: string,
 *   endUser: { id: string, displayName: string | null, email: string | null } | null,
 *   budget?: BudgetState | undefined,
 *   credentials: ReadonlyArray<{ id: string, fingerprint: string, status: "active" | "expired", zones: ReadonlyArray<string> | null }>,
 *   changeDetection: ChangeDetection
 * }} Connection
 */
/** @typedef {{ limit: number, windowSeconds: number, used: number, pausedUntil: string | null }} BudgetState */
/** @typedef {{ resource: string, status: "granted" | "missing" | "unknown" | "not_applicable", permissions: ReadonlyArray<string> }} Grant */
/** @typedef {{ id: string, name: string, status: string | null, plan: string | null, account: string | null }} Zone */
/**
 * @typedef {{
 *   subject: string, status: string, expiresAt: string | null, grants: ReadonlyArray<Grant>,
 *   missingPermissions: ReadonlyArray<string>, zones: ReadonlyArray<Zone>
 * }} Verification
 */
/**
 * @typedef {{
 *   id: string, connectionId: string, snapshotId: string, detectedAt: string,
 *   kind: "added" | "removed" | "changed" | "coverage", resource: string, scope: string, key: string | null, change: unknown
 * }} DriftEvent
 */
/** @typedef {{ summary: string, expression: string | null, request: { method: string, path: string, body: unknown } | null }} Remediation */
/**
 * @typedef {{
 *   checkId: string, title: string, description: string, severity: string, scope: string, scopeName: string | null,
 *   status: "pass" | "fail" | "skipped" | "error", evidence: unknown, remediation: Remediation | null,
 *   detail: string | null, permissions: ReadonlyArray<string>, evaluatedAt: string, snapshotId: string
 * }} ChecklistItem
 */
/** @typedef {{ score: number, snapshotId: string | null, items: ReadonlyArray<ChecklistItem> }} Checklist */
/**
 * @template T
 * @typedef {{ items: ReadonlyArray<T>, next: string | null }} Page
 */
/**
 * A drift event's `change`, as core's Drift encodes it: the fields of a changed record (JSON Pointer
 * paths), or the whole record before or after.
 * @typedef {{ fields?: ReadonlyArray<{ path: string, before?: unknown, after?: unknown }>, before?: unknown, after?: unknown }} DriftChange
 */
/** A snapshot's progress on the live stream (`progress` events). @typedef {{ _tag: string, resource?: string, scopeName?: string | null }} Progress */
/** An error the API answers with. @typedef {{ _tag: string, message: string }} ErrorBody */

/**
 * How each alert kind shows. `account_unavailable`: the provider account itself is suspended or
 * locked; only the customer can settle it with the provider (no token or permission helps).
 * @type {Record<Alert["kind"], { title: string, testid: string }>}
 */
const ALERTS = {
  credential_expired: { title: "Credential expired. ", testid: "credential-expired-alert" },
  failing: { title: "Failing. ", testid: "alert" },
  account_unavailable: { title: "Account suspended or locked. ", testid: "account-unavailable-alert" }
}

const KEY = "plumbline.apiKey"
const app = /** @type {HTMLElement} */ (document.getElementById("app"))
/** @type {EventSource | null} */
let stream = null

const fromHash = /(?:^#|&)key=([^&]+)/.exec(location.hash)
if (fromHash) {
  sessionStorage.setItem(KEY, decodeURIComponent(fromHash[1] ?? ""))
  history.replaceState(null, "", location.pathname + (fromHash.index > 0 ? location.hash.slice(0, fromHash.index) : "#/"))
}
document.getElementById("logout")?.addEventListener("click", () => {
  sessionStorage.removeItem(KEY)
  route()
})

/** @typedef {Node | string | number | boolean | null | undefined} Child */

/**
 * An element with attributes (`on…` are listeners, `testid` is `data-testid`) and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Child | ReadonlyArray<Child>)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith("on")) node.addEventListener(k.slice(2), /** @type {EventListener} */ (v))
    else if (k === "testid") node.dataset["testid"] = String(v)
    else node.setAttribute(k, v === true ? "" : String(v))
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c))
  return node
}

class ApiError extends Error {
  /**
   * @param {number} status
   * @param {ErrorBody | null} body
   */
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`)
    this.status = status
    this.body = body
  }
}

/**
 * Calls the API with the key; the answer's JSON is the view the route returns (the caller names it).
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<unknown>}
 */
async function api(method, path, body) {
  const res = await fetch(`/api${path}`, {
    method,
    headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ""}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {})
  })
  const text = await res.text()
  const json = text ? JSON.parse(text) : null
  if (res.status === 401) {
    sessionStorage.removeItem(KEY)
    route()
  }
  if (!res.ok) throw new ApiError(res.status, json)
  return json
}

/**
 * One path segment of an API URL: the id encoded, so an id from the address bar (`..%2Fwebhooks`)
 * can never point the request at another route. `.` and `..` are refused: URLs resolve them (even
 * encoded) as "this folder" and "the parent".
 * @param {string} id
 */
function seg(id) {
  if (id === "" || id === "." || id === "..") throw new Error("No such connection")
  return encodeURIComponent(id)
}

/** @param {...(Node | string)} nodes */
const show = (...nodes) => app.replaceChildren(...nodes)
/** @param {unknown} e */
const errorBox = (e) => el("p", { class: "error-msg", testid: "error" }, e instanceof Error ? e.message : String(e))

function keyForm() {
  const input = el("input", { type: "password", testid: "api-key", placeholder: "dm_…", autocomplete: "off" })
  return el(
    "section",
    {},
    el("h2", {}, "API key"),
    el("p", {}, "Paste the drift monitor's API key (the demo prints it). It stays in this tab only."),
    el(
      "form",
      {
        onsubmit: (/** @type {SubmitEvent} */ ev) => {
          ev.preventDefault()
          sessionStorage.setItem(KEY, input.value.trim())
          route()
        }
      },
      input,
      " ",
      el("button", { type: "submit", testid: "api-key-save" }, "Continue")
    )
  )
}

async function home() {
  const list = /** @type {ReadonlyArray<Connection>} */ (await api("GET", "/connections"))
  show(
    el(
      "section",
      { testid: "connections" },
      el("h2", {}, "Connections"),
      list.length === 0
        ? el("p", {}, "No connection yet.")
        : el(
            "table",
            {},
            el("tr", {}, el("th", {}, "name"), el("th", {}, "status"), el("th", {}, "score"), el("th", {}, "last snapshot")),
            list.map((c) =>
              el(
                "tr",
                { testid: "connection-row" },
                el("td", {}, el("a", { href: `#/connections/${encodeURIComponent(c.id)}` }, c.name)),
                el("td", {}, c.status, c.alert ? el("span", { class: "badge fail" }, " alert") : null),
                el("td", {}, c.score ?? "–"),
                el("td", {}, c.latestSnapshot?.finishedAt ?? "–")
              )
            )
          ),
      el("p", {}, el("a", { href: "#/new", testid: "new-connection" }, "+ Connect a Cloudflare account"))
    )
  )
}

function wizard() {
  const name = el("input", { type: "text", testid: "wizard-name", value: "Redpine" })
  const token = el("textarea", { rows: 2, testid: "wizard-token", placeholder: "Cloudflare API token" })
  const out = el("div", { testid: "wizard-result" })
  const verify = async (/** @type {SubmitEvent} */ ev) => {
    ev.preventDefault()
    out.replaceChildren(el("p", {}, "Verifying…"))
    try {
      const v = /** @type {Verification} */ (await api("POST", "/connections/verify", { token: token.value.trim() }))
      const zoneBoxes = v.zones.map((z) => ({ z, box: el("input", { type: "checkbox", checked: true, value: z.id, testid: `zone-${z.name}` }) }))
      out.replaceChildren(
        el("h3", {}, "Permissions"),
        el("p", { class: "muted" }, `Token ${v.subject}: ${v.status}${v.expiresAt ? `, expires ${v.expiresAt}` : ""}`),
        el(
          "table",
          { testid: "grants" },
          el("tr", {}, el("th", {}, "resource"), el("th", {}, "status"), el("th", {}, "permissions")),
          v.grants.map((g) =>
            el("tr", {}, el("td", {}, g.resource), el("td", g.status === "not_applicable" ? {} : { class: g.status === "granted" ? "pass" : "fail" }, g.status === "not_applicable" ? "not needed (plan)" : g.status), el("td", {}, g.permissions.join(", ")))
          )
        ),
        v.missingPermissions.length
          ? el("div", { testid: "missing-permissions" }, el("p", {}, "Grant these permissions to the token to read everything:"), el("ul", {}, v.missingPermissions.map((p) => el("li", {}, p))))
          : el("p", { class: "pass", testid: "missing-permissions" }, "Nothing missing."),
        el("h3", {}, "Zones to monitor"),
        el("ul", { testid: "zones" }, zoneBoxes.map(({ z, box }) => el("li", {}, el("label", {}, box, ` ${z.name}`), el("span", { class: "muted" }, ` ${z.plan ?? ""} ${z.status ?? ""}`)))),
        el(
          "button",
          {
            type: "button",
            testid: "wizard-create",
            onclick: async () => {
              try {
                const zones = zoneBoxes.filter(({ box }) => box.checked).map(({ z }) => z.id)
                const c = /** @type {Connection} */ (await api("POST", "/connections", { name: name.value.trim(), token: token.value.trim(), zones }))
                token.value = ""
                location.hash = `#/connections/${encodeURIComponent(c.id)}`
              } catch (e) {
                out.append(errorBox(e))
              }
            }
          },
          "Create connection"
        )
      )
    } catch (e) {
      out.replaceChildren(errorBox(e))
    }
  }
  show(
    el(
      "section",
      { testid: "wizard" },
      el("h2", {}, "Connect a Cloudflare account"),
      el("form", { onsubmit: verify }, el("label", {}, "Name", name), el("label", {}, "API token", token), el("button", { type: "submit", testid: "wizard-verify" }, "Verify token")),
      out
    )
  )
}

/** @param {unknown} v */
const fmt = (v) => (v === undefined ? "∅" : JSON.stringify(v))

/** @param {DriftChange | undefined} change */
function changeRows(change) {
  if (change?.fields) return change.fields.map((f) => el("tr", {}, el("td", {}, el("code", {}, f.path)), el("td", {}, el("code", {}, fmt(f.before))), el("td", {}, el("code", {}, fmt(f.after)))))
  // A whole record added or removed: shown pretty-printed, wrapped to the page.
  const whole = (/** @type {unknown} */ v) => (v === undefined ? el("code", {}, "∅") : el("pre", {}, JSON.stringify(v, null, 2)))
  return [el("tr", {}, el("td", {}, "—"), el("td", {}, whole(change?.before)), el("td", {}, whole(change?.after)))]
}

/** @param {string} id */
async function connection(id) {
  const [c, checklist, drift, snapshots] = await Promise.all([
    /** @type {Promise<Connection>} */ (api("GET", `/connections/${seg(id)}`)),
    /** @type {Promise<Checklist | null>} */ (
      api("GET", `/connections/${seg(id)}/checklist`).catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e)))
    ),
    /** @type {Promise<Page<DriftEvent>>} */ (api("GET", `/drift-events?connectionId=${encodeURIComponent(id)}&limit=200`)),
    /** @type {Promise<Page<SnapshotSummary>>} */ (api("GET", `/connections/${seg(id)}/snapshots?limit=20`))
  ])
  const detection = c.changeDetection
  const progress = el("div", { testid: "progress" }, c.schedule.running ? "Snapshot running…" : "")
  // A refresh (a stream event) keeps a half-typed replacement token: the same input, its value,
  // its caret and its focus carry over to the new page.
  const typing = /** @type {HTMLInputElement | null} */ (document.querySelector('[data-testid="replace-token"]'))
  const kept = typing !== null && typing.value !== "" && c.alert?.kind === "credential_expired" ? typing : null
  const hadFocus = kept !== null && document.activeElement === kept
  const caret = kept === null ? null : { start: kept.selectionStart, end: kept.selectionEnd }
  const tokenInput = kept ?? el("input", { type: "password", testid: "replace-token", placeholder: "new token" })
  const alert = c.alert
    ? el(
        "div",
        { class: "alert", testid: ALERTS[c.alert.kind].testid },
        el("strong", {}, ALERTS[c.alert.kind].title),
        c.alert.message,
        el("span", { class: "muted" }, ` (since ${c.alert.since})`),
        c.alert.kind === "credential_expired"
          ? el(
              "form",
              {
                onsubmit: async (/** @type {SubmitEvent} */ ev) => {
                  ev.preventDefault()
                  try {
                    // Some zones expired while others are read (one token per zone): add the new token beside
                    // the working ones; a whole expired connection has its credentials replaced.
                    const mode = c.status === "credential_expired" ? "replace" : "add"
                    await api("PUT", `/connections/${seg(id)}/credential`, { token: tokenInput.value.trim(), mode })
                    route()
                  } catch (e) {
                    /** @type {HTMLFormElement} */ (ev.target).append(errorBox(e))
                  }
                }
              },
              el("p", {}, "Paste a new token:"),
              tokenInput,
              el("button", { type: "submit", testid: "replace-submit" }, c.status === "credential_expired" ? "Replace credential" : "Add token")
            )
          : null
      )
    : null
  const recheck = el(
    "button",
    {
      type: "button",
      testid: "recheck",
      onclick: async () => {
        recheck.disabled = true
        progress.textContent = "Re-checking…"
        try {
          await api("POST", `/connections/${seg(id)}/recheck?wait=true`)
        } catch (e) {
          progress.append(errorBox(e))
        }
        route()
      }
    },
    "Re-check now"
  )
  const items = checklist?.items ?? []
  /** @type {Map<string, Array<ChecklistItem>>} */
  const byZone = new Map()
  for (const it of items) {
    const k = it.scopeName ?? it.scope
    const list = byZone.get(k) ?? []
    if (!byZone.has(k)) byZone.set(k, list)
    list.push(it)
  }
  show(
    alert ?? "",
    el(
      "section",
      { testid: "connection" },
      el("h2", {}, c.name),
      el("p", {}, "Status: ", el("strong", { testid: "connection-status" }, c.status), ` · score `, el("strong", { testid: "score" }, c.score ?? "–"), ` · every ${c.intervalSeconds}s`),
      el("p", { class: "muted" }, `Credential ${c.credentialFingerprint} · last snapshot ${c.latestSnapshot?.finishedAt ?? "none yet"}${c.schedule.lastError ? ` · last error: ${c.schedule.lastError}` : ""}`),
      c.credentials.length < 2
        ? ""
        : el(
            "ul",
            { class: "muted", testid: "credentials" },
            ...c.credentials.map((cr) =>
              el("li", { testid: "credential", "data-status": cr.status }, `Token ${cr.fingerprint}: ${cr.status}${cr.zones === null ? "" : ` · zones ${cr.zones.join(", ")}`}`)
            )
          ),
      c.budget === undefined
        ? ""
        : el(
            "p",
            { class: "muted", testid: "budget" },
            `Token budget: ${c.budget.used} of ${c.budget.limit} requests used in the last ${c.budget.windowSeconds}s${c.budget.pausedUntil === null ? "" : ` · paused by Cloudflare until ${c.budget.pausedUntil}`}`
          ),
      el(
        "p",
        { class: "muted", testid: "change-detection" },
        "Change detection: ",
        el("strong", { testid: "change-detection-mode" }, detection.mode),
        detection.lagSeconds === null ? "" : ` · feed lag ${detection.lagSeconds}s`,
        ` · missed by feed `,
        el("strong", { testid: "missed-by-feed" }, detection.missedByFeed),
        detection.betterPermission === null ? "" : ` · grant "${detection.betterPermission}" for faster change detection`,
        detection.lastFeedError === null ? "" : ` · last feed error: ${detection.lastFeedError}`
      ),
      recheck,
      progress
    ),
    el(
      "section",
      { testid: "snapshots" },
      el("h2", {}, "Snapshots"),
      snapshots.items.length === 0
        ? el("p", {}, "No snapshot yet.")
        : el(
            "ol",
            {},
            snapshots.items.map((s) =>
              el(
                "li",
                { testid: "snapshot", "data-kind": s.kind },
                el("span", { class: `badge ${s.kind}` }, s.kind),
                ` ${s.finishedAt} · ${s.recordCount} records`
              )
            )
          )
    ),
    el(
      "section",
      { testid: "checklist" },
      el("h2", {}, "Checklist"),
      checklist === null ? el("p", {}, "The first snapshot is running…") : "",
      [...byZone].map(([zone, list]) =>
        el(
          "div",
          { testid: `zone-checklist-${zone}` },
          el("h3", {}, zone),
          el(
            "table",
            {},
            list.map((it) =>
              el(
                "tr",
                { testid: "check-item", "data-check": it.checkId, "data-status": it.status },
                el("td", {}, el("span", { class: `badge ${it.status}`, testid: "check-status" }, it.status)),
                el(
                  "td",
                  {},
                  el("strong", {}, it.title),
                  el("span", { class: "muted" }, ` ${it.severity}`),
                  el("div", { class: "muted" }, it.description),
                  it.detail ? el("div", { testid: "check-detail" }, it.detail) : null,
                  it.permissions.length ? el("div", {}, "Grant: ", it.permissions.join(", ")) : null,
                  it.status !== "pass" && it.remediation
                    ? remediation(it.remediation)
                    : null
                )
              )
            )
          )
        )
      )
    ),
    el(
      "section",
      { testid: "drift" },
      el("h2", {}, "Drift timeline"),
      drift.items.length === 0
        ? el("p", {}, "No drift yet.")
        : el(
            "ol",
            { reversed: true },
            [...drift.items].reverse().map((d) =>
              el(
                "li",
                { testid: "drift-event" },
                el("strong", {}, `${d.kind} ${d.resource}`),
                ` ${d.key ?? ""} `,
                el("span", { class: "muted" }, `${d.scope} · ${d.detectedAt}`),
                el("table", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "before"), el("th", {}, "after")), changeRows(/** @type {DriftChange | undefined} */ (d.change)))
              )
            )
          )
    )
  )
  if (hadFocus) {
    tokenInput.focus()
    if (caret) tokenInput.setSelectionRange(caret.start, caret.end)
  }
  // Live: progress of a running snapshot; refresh when it finishes or the status changes.
  stream = new EventSource(`/api/stream?connectionId=${encodeURIComponent(id)}&access_token=${encodeURIComponent(sessionStorage.getItem(KEY) ?? "")}`)
  let pages = 0
  stream.addEventListener("snapshot.started", () => {
    pages = 0
    progress.replaceChildren(el("span", { testid: "progress-running" }, "Snapshot running…"))
  })
  stream.addEventListener("progress", (m) => {
    const p = /** @type {{ progress: Progress }} */ (JSON.parse(/** @type {MessageEvent<string>} */ (m).data)).progress
    pages += p._tag === "PageFetched" ? 1 : 0
    progress.replaceChildren(el("span", { testid: "progress-running" }, `Snapshot running: ${p._tag} ${p.resource ?? p.scopeName ?? ""} (${pages} pages)`))
  })
  stream.addEventListener("snapshot.finished", () => route())
  stream.addEventListener("connection.status", () => route())
}

/**
 * A failing item's remediation: the summary, the expression with a Copy button, the API request.
 * @param {Remediation} r
 */
function remediation(r) {
  const expression = r.expression
  return el(
    "div",
    { testid: "remediation" },
    el("p", {}, r.summary),
    expression
      ? el(
          "div",
          {},
          el("pre", { testid: "remediation-expression" }, expression),
          el(
            "button",
            {
              type: "button",
              testid: "copy-expression",
              onclick: async (/** @type {MouseEvent} */ ev) => {
                const button = /** @type {HTMLButtonElement} */ (ev.target)
                try {
                  await navigator.clipboard.writeText(expression)
                  button.textContent = "Copied"
                } catch {
                  button.textContent = "Copy failed: select the text"
                }
              }
            },
            "Copy"
          )
        )
      : null,
    r.request
      ? el("details", {}, el("summary", {}, `${r.request.method} ${r.request.path}`), el("pre", {}, JSON.stringify(r.request.body, null, 2)))
      : null
  )
}

async function route() {
  if (stream) {
    stream.close()
    stream = null
  }
  if (!sessionStorage.getItem(KEY)) return show(keyForm())
  const h = location.hash
  try {
    const m = /^#\/connections\/([^/]+)/.exec(h)
    if (m) await connection(decodeURIComponent(m[1] ?? ""))
    else if (h === "#/new") wizard()
    else await home()
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) show(errorBox(e))
  }
}

window.addEventListener("hashchange", route)
route()
