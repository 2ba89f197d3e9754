import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { Coverage, Expression, RulesError } from "../src/index.js"

type RulesetRule = Coverage.RulesetRule

const CMR = "efb7b8c949ac4650a09736fc376e9aee"
const OWASP = "4814384a9e5d4991b9815dcfc25d2f1f"

const rule = (id: string, expression: string, action: string, extra: Partial<RulesetRule> = {}): RulesetRule => ({
  id,
  expression,
  action,
  enabled: true,
  ...extra
})

const custom = (...rules: ReadonlyArray<RulesetRule>): Coverage.Entrypoint => ({ phase: "http_request_firewall_custom", id: "ep-custom", rules })
const ratelimit = (...rules: ReadonlyArray<RulesetRule>): Coverage.Entrypoint => ({ phase: "http_ratelimit", id: "ep-rl", rules })
const managed = (...rules: ReadonlyArray<RulesetRule>): Coverage.Entrypoint => ({ phase: "http_request_firewall_managed", id: "ep-managed", rules })
const deploy = (id: string, extra: Partial<RulesetRule> = {}) => rule(`deploy-${id.slice(0, 4)}`, "true", "execute", { action_parameters: { id }, ...extra })

const LOGIN_RL = rule("rl-login", '(http.request.uri.path eq "/login" and http.request.method eq "POST")', "block", {
  description: "Rate limit POST /login",
  ratelimit: { characteristics: ["cf.colo.id", "ip.src"], period: 60, requests_per_period: 10, mitigation_timeout: 600 }
})

/** Redpine's zone redpine.io: two custom rules and the Cloudflare Managed Ruleset. */
const redpine = (withRateLimit: boolean): Coverage.ZoneRules => ({
  rulesets: [
    custom(
      rule("cr-admin", 'starts_with(http.request.uri.path, "/admin")', "block", { description: "Block /admin" }),
      rule("cr-bad-actors", "ip.src in $bad_actors", "block", { description: "Block bad actors" })
    ),
    ...(withRateLimit ? [ratelimit(LOGIN_RL)] : []),
    managed(deploy(CMR))
  ],
  lists: { bad_actors: ["203.0.113.0/24", "198.51.100.77"] }
})

const LOGIN = { method: "POST", host: "redpine.io", path: "/login" } as const

const stageNames = (trace: Coverage.Trace) => trace.stages.map((s) => `${s.level}:${s.stage}:${s.status}`)
const events = (trace: Coverage.Trace, stage: Coverage.Stage, level: Coverage.Level = "zone") =>
  trace.stages.find((s) => s.stage === stage && s.level === level)?.events ?? []
const tags = (list: ReadonlyArray<{ readonly _tag: string; readonly rule?: { readonly id: string } }>) =>
  list.map((e) => `${e._tag}:${e.rule?.id ?? ""}`)

describe("Coverage", () => {
  describe("phase order", () => {
    it("evaluates custom rules, then rate limiting, then managed rules, whatever the input order", () => {
      const trace = Coverage.evaluate(
        {
          rulesets: [
            managed(deploy(CMR)),
            ratelimit(LOGIN_RL),
            custom(rule("cr-log", "true", "log"))
          ]
        },
        LOGIN
      )
      assert.deepStrictEqual(stageNames(trace), [
        "zone:http_request_firewall_custom:evaluated",
        "zone:http_ratelimit:evaluated",
        "zone:http_request_firewall_managed:evaluated"
      ])
      assert.deepStrictEqual(tags(trace.acting), ["RateLimit:rl-login", "Managed:deploy-efb7"])
      assert.strictEqual(trace.decision._tag, "RateLimit")
    })

    it("runs the account's entry point before the zone's for the same phase", () => {
      const trace = Coverage.evaluate(
        {
          rulesets: [custom(rule("zone-block", "true", "block"))],
          accountRulesets: [{ phase: "http_request_firewall_custom", id: "acct", rules: [rule("acct-challenge", "true", "managed_challenge")] }]
        },
        LOGIN
      )
      assert.deepStrictEqual(stageNames(trace), ["account:http_request_firewall_custom:evaluated", "zone:http_request_firewall_custom:not reached"])
      assert.strictEqual(trace.decision._tag === "Terminate" && trace.decision.action, "managed_challenge")
      assert.strictEqual(trace.decision._tag === "Terminate" && trace.decision.rule.level, "account")
    })

    it("stops at the first terminating action: later phases are not reached", () => {
      const trace = Coverage.evaluate(redpine(true), { ...LOGIN, path: "/admin/users" })
      assert.strictEqual(trace.decision._tag, "Terminate")
      assert.strictEqual(trace.decision.summary, "block by rule cr-admin in http_request_firewall_custom")
      assert.deepStrictEqual(stageNames(trace).slice(1), ["zone:http_ratelimit:not reached", "zone:http_request_firewall_managed:not reached"])
      assert.deepStrictEqual(tags(events(trace, "http_request_firewall_custom")), ["Matched:cr-admin"])
    })

    it("treats a single redirect as terminating, before the WAF phases", () => {
      const trace = Coverage.evaluate(
        {
          rulesets: [
            custom(rule("cr-block", "true", "block")),
            { phase: "http_request_dynamic_redirect", rules: [rule("redir", 'http.request.uri.path eq "/old"', "redirect")] }
          ]
        },
        { path: "/old" }
      )
      assert.strictEqual(trace.decision._tag === "Terminate" && trace.decision.action, "redirect")
      assert.deepStrictEqual(stageNames(trace), [
        "zone:http_request_dynamic_redirect:evaluated",
        "zone:http_request_firewall_custom:not reached"
      ])
    })
  })

  describe("URL rewrites", () => {
    it("later phases see a static URL rewrite; raw fields keep the path as sent", () => {
      const trace = Coverage.evaluate(
        {
          rulesets: [
            ratelimit(LOGIN_RL),
            custom(rule("raw-admin", 'raw.http.request.uri.path eq "/public-login"', "log")),
            {
              phase: "http_request_transform",
              rules: [rule("rw", 'http.request.uri.path eq "/public-login"', "rewrite", { action_parameters: { uri: { path: { value: "/login" } } } })]
            }
          ]
        },
        { ...LOGIN, path: "/public-login" }
      )
      const [rewrite] = events(trace, "http_request_transform")
      assert.strictEqual(rewrite?._tag === "Matched" && rewrite.note, "rewrites the path to /login for later phases")
      assert.deepStrictEqual(trace.rewrites.map((r) => `${r.path}:${r.by.id}`), ["/login:rw"])
      assert.deepStrictEqual(tags(events(trace, "http_request_firewall_custom")), ["Matched:raw-admin"])
      assert.strictEqual(trace.decision._tag === "RateLimit" && trace.decision.rule.id, "rl-login")
    })

    it("a dynamic rewrite is noted and not applied", () => {
      const trace = Coverage.evaluate(
        {
          rulesets: [{
            phase: "http_request_transform",
            rules: [rule("rw", "true", "rewrite", { action_parameters: { uri: { path: { expression: 'regex_replace(http.request.uri.path, "^/a", "/b")' } } } })]
          }]
        },
        { path: "/a" }
      )
      const [rewrite] = events(trace, "http_request_transform")
      assert.strictEqual(rewrite?._tag === "Matched" && rewrite.note, "dynamic rewrite: not applied, later phases see the URL as sent")
      assert.deepStrictEqual(trace.rewrites, [])
    })

    it("leaves response phases and phases of unknown order unevaluated", () => {
      const trace = Coverage.evaluate({ rulesets: [{ phase: "http_response_firewall_managed", rules: [deploy(CMR)] }] }, LOGIN)
      assert.deepStrictEqual(stageNames(trace), ["zone:http_response_firewall_managed:unsupported"])
      assert.strictEqual(trace.decision._tag, "NoAction")
    })
  })

  describe("rule actions", () => {
    it("ignores disabled rules and records them", () => {
      const trace = Coverage.evaluate(
        { rulesets: [custom(rule("off", "true", "block", { enabled: false }), rule("on", "true", "js_challenge"))] },
        LOGIN
      )
      assert.deepStrictEqual(tags(events(trace, "http_request_firewall_custom")), ["Disabled:off", "Matched:on"])
      assert.strictEqual(trace.decision._tag === "Terminate" && trace.decision.rule.id, "on")
    })

    it("treats log as non-terminating", () => {
      const trace = Coverage.evaluate({ rulesets: [custom(rule("log-all", "true", "log"), rule("block-all", "true", "block"))] }, LOGIN)
      const [logged, blocked] = events(trace, "http_request_firewall_custom")
      assert.isTrue(logged?._tag === "Matched" && !logged.terminal && logged.action === "log")
      assert.isTrue(blocked?._tag === "Matched" && blocked.terminal)
      assert.deepStrictEqual(tags(trace.acting), ["Terminate:block-all"])
    })

    it("reports which fields and values made a rule match", () => {
      const trace = Coverage.evaluate(redpine(false), { ...LOGIN, ip: "203.0.113.9" })
      const hit = events(trace, "http_request_firewall_custom").find((e) => e._tag === "Matched")
      assert.isTrue(hit?._tag === "Matched")
      if (hit?._tag !== "Matched") return
      assert.strictEqual(hit.rule.id, "cr-bad-actors")
      assert.deepStrictEqual(hit.fields, ["ip.src"])
      assert.deepStrictEqual(hit.values, { "ip.src": "203.0.113.9" })
      const outsider = Coverage.evaluate(redpine(false), { ...LOGIN, ip: "192.0.2.1" })
      assert.deepStrictEqual(tags(events(outsider, "http_request_firewall_custom")), ["NotMatched:cr-admin", "NotMatched:cr-bad-actors"])
      assert.strictEqual(outsider.decision._tag, "Managed")
    })
  })

  describe("skip rules", () => {
    it("skip with ruleset current skips the rest of the ruleset only", () => {
      const trace = Coverage.evaluate(
        {
          rulesets: [
            custom(
              rule("allow-office", 'ip.src in {192.0.2.0/24}', "skip", { action_parameters: { ruleset: "current" } }),
              rule("block-all", "true", "block")
            ),
            managed(deploy(CMR))
          ]
        },
        { ip: "192.0.2.5" }
      )
      const [skip, blocked] = events(trace, "http_request_firewall_custom")
      assert.isTrue(skip?._tag === "Matched" && skip.skip?.ruleset === "current")
      assert.isTrue(blocked?._tag === "Skipped" && blocked.by.id === "allow-office" && blocked.reason === "ruleset")
      assert.strictEqual(trace.decision._tag, "Managed")
    })

    it("skip with phases skips later phases and says which rule did it", () => {
      const trace = Coverage.evaluate(
        {
          rulesets: [
            custom(rule("partner", 'http.request.headers["x-partner"][0] eq "yes"', "skip", {
              action_parameters: { phases: ["http_ratelimit", "http_request_firewall_managed"] }
            })),
            ratelimit(LOGIN_RL),
            managed(deploy(CMR))
          ]
        },
        { ...LOGIN, headers: { "X-Partner": "yes" } }
      )
      assert.deepStrictEqual(stageNames(trace).slice(1), ["zone:http_ratelimit:skipped", "zone:http_request_firewall_managed:skipped"])
      assert.strictEqual(trace.stages[1]?.by?.id, "partner")
      assert.strictEqual(trace.decision._tag, "NoAction")
    })

    it("a zone skip of phases leaves the account's entry points running; an account skip skips both levels", () => {
      const account = { phase: "http_ratelimit", id: "acct-rl", rules: [{ ...LOGIN_RL, id: "acct-rl-login" }] }
      const skipRl = (id: string) => rule(id, "true", "skip", { action_parameters: { phases: ["http_ratelimit"] } })
      const zoneSkip = Coverage.evaluate({ rulesets: [custom(skipRl("zone-skip")), ratelimit(LOGIN_RL)], accountRulesets: [account] }, LOGIN)
      assert.deepStrictEqual(stageNames(zoneSkip).slice(1), ["account:http_ratelimit:evaluated", "zone:http_ratelimit:skipped"])
      assert.strictEqual(zoneSkip.decision._tag === "RateLimit" && zoneSkip.decision.rule.id, "acct-rl-login")
      const accountSkip = Coverage.evaluate(
        {
          rulesets: [ratelimit(LOGIN_RL)],
          accountRulesets: [{ phase: "http_request_firewall_custom", id: "acct-c", rules: [skipRl("acct-skip")] }, account]
        },
        LOGIN
      )
      assert.deepStrictEqual(stageNames(accountSkip).slice(1), ["account:http_ratelimit:skipped", "zone:http_ratelimit:skipped"])
    })

    it("skip with products records the legacy products and skips no phase", () => {
      const trace = Coverage.evaluate(
        { rulesets: [custom(rule("no-bic", "true", "skip", { action_parameters: { products: ["bic", "uaBlock"] } })), managed(deploy(CMR))] },
        LOGIN
      )
      assert.deepStrictEqual(trace.skippedProducts.map((p) => `${p.product}:${p.by.id}`), ["bic:no-bic", "uaBlock:no-bic"])
      assert.strictEqual(trace.decision._tag, "Managed")
    })

    it("skip with phase current also skips rules of custom rulesets executed later", () => {
      const trace = Coverage.evaluate(
        {
          rulesets: [custom(
            rule("stop-phase", "true", "skip", { action_parameters: { phase: "current" } }),
            rule("run-shared", "true", "execute", { action_parameters: { id: "shared" } })
          )],
          customRulesets: { shared: [rule("shared-block", "true", "block")] }
        },
        LOGIN
      )
      assert.deepStrictEqual(tags(events(trace, "http_request_firewall_custom")), ["Matched:stop-phase", "Skipped:run-shared"])
      assert.strictEqual(trace.decision._tag, "NoAction")
    })
  })

  describe("execute", () => {
    it("runs a custom ruleset in place; its block decides, traced through the execute rule", () => {
      const trace = Coverage.evaluate(
        {
          rulesets: [custom(rule("run-shared", 'http.host eq "redpine.io"', "execute", { action_parameters: { id: "shared" } }))],
          customRulesets: { shared: { name: "Shared", rules: [rule("no-wp", 'starts_with(http.request.uri.path, "/wp-")', "block")] } }
        },
        { host: "redpine.io", path: "/wp-login.php" }
      )
      assert.deepStrictEqual(tags(events(trace, "http_request_firewall_custom")), ["Matched:run-shared", "Matched:no-wp"])
      assert.strictEqual(trace.decision._tag, "Terminate")
      assert.strictEqual(trace.decision._tag === "Terminate" && trace.decision.rule.ruleset, "shared")
      assert.strictEqual(trace.decision._tag === "Terminate" && trace.decision.rule.via, "run-shared")
    })

    it("a skip of the current ruleset inside a custom ruleset returns to the entry point", () => {
      const trace = Coverage.evaluate(
        {
          rulesets: [custom(rule("run-shared", "true", "execute", { action_parameters: { id: "shared" } }), rule("after", "true", "managed_challenge"))],
          customRulesets: { shared: [rule("leave", "true", "skip", { action_parameters: { ruleset: "current" } }), rule("inner-block", "true", "block")] }
        },
        LOGIN
      )
      assert.deepStrictEqual(tags(events(trace, "http_request_firewall_custom")), ["Matched:run-shared", "Matched:leave", "Skipped:inner-block", "Matched:after"])
      assert.strictEqual(trace.decision._tag === "Terminate" && trace.decision.rule.id, "after")
    })

    it("refuses a custom ruleset that executes a ruleset, instead of recursing", () => {
      const trace = Coverage.evaluate(
        {
          rulesets: [custom(rule("run-loop", "true", "execute", { action_parameters: { id: "loop" } }))],
          customRulesets: { loop: [rule("again", "true", "execute", { action_parameters: { id: "loop" } }), rule("inner", "true", "block")] }
        },
        LOGIN
      )
      assert.deepStrictEqual(trace.errors.map((e) => `${e.reason}:${e.rule}`), ["InvalidRule:again"])
      assert.strictEqual(trace.decision._tag === "Terminate" && trace.decision.rule.id, "inner")
    })

    it("reports an execute of a ruleset that was not supplied as an error", () => {
      const trace = Coverage.evaluate({ rulesets: [custom(rule("run-x", "true", "execute", { action_parameters: { id: "nope" } }))] }, LOGIN)
      assert.deepStrictEqual(trace.errors.map((e) => `${e.reason}:${e.rule}`), ["UnknownRuleset:run-x"])
    })
  })

  describe("managed rulesets", () => {
    it("says which managed ruleset evaluates the request, with its overrides", () => {
      const overrides = { action: "log", categories: [{ category: "wordpress", action: "block" }] }
      const trace = Coverage.evaluate({ rulesets: [managed(deploy(CMR, { action_parameters: { id: CMR, overrides } }))] }, LOGIN)
      assert.strictEqual(trace.decision._tag, "Managed")
      assert.strictEqual(
        trace.decision.summary,
        `managed ruleset Cloudflare Managed Ruleset (${CMR}) evaluates this request (with overrides: all rules: action log; category wordpress: action block)`
      )
      assert.isTrue(trace.decision._tag === "Managed" && trace.decision.mitigates)
    })

    it("resolves overrides: rule beats category beats ruleset-wide, and the last listed category wins", () => {
      const overrides: Coverage.ManagedOverrides = {
        action: "log",
        enabled: false,
        categories: [
          { category: "sqli", action: "block", enabled: true },
          { category: "wordpress", action: "managed_challenge" }
        ],
        rules: [{ id: "r-42", action: "js_challenge" }]
      }
      assert.deepStrictEqual(Coverage.resolveOverride(overrides, { id: "r-1" }), { action: "log", enabled: false, actionFrom: "ruleset", enabledFrom: "ruleset" })
      assert.deepStrictEqual(Coverage.resolveOverride(overrides, { id: "r-2", categories: ["sqli"] }), { action: "block", enabled: true, actionFrom: "category", enabledFrom: "category" })
      assert.deepStrictEqual(Coverage.resolveOverride(overrides, { id: "r-3", categories: ["sqli", "wordpress"] }), {
        action: "managed_challenge",
        enabled: true,
        actionFrom: "category",
        enabledFrom: "category"
      })
      assert.deepStrictEqual(Coverage.resolveOverride(overrides, { id: "r-42", categories: ["sqli"] }), { action: "js_challenge", enabled: true, actionFrom: "rule", enabledFrom: "category" })
      assert.deepStrictEqual(Coverage.resolveOverride(undefined, { id: "r-1" }), { actionFrom: "default", enabledFrom: "default" })
    })

    it("a ruleset-wide disable or log-only override leaves the managed ruleset unable to mitigate", () => {
      const run = (overrides: Coverage.ManagedOverrides) =>
        Coverage.evaluate({ rulesets: [managed(deploy(CMR, { action_parameters: { id: CMR, overrides } }))] }, LOGIN).acting[0]?.mitigates
      assert.isFalse(run({ enabled: false }))
      assert.isFalse(run({ action: "log" }))
      assert.isTrue(run({ enabled: false, categories: [{ category: "sqli", enabled: true }] }))
      assert.isFalse(run({ action: "log", rules: [{ id: "r-1", action: "block", enabled: false }] }))
      assert.isTrue(run({ action: "log", rules: [{ id: "r-1", action: "block" }] }))
    })

    it("exceptions placed before the deployment skip a managed ruleset or some of its rules", () => {
      const exception = (parameters: Coverage.ActionParameters) => rule("exception", 'http.request.uri.path eq "/login"', "skip", { action_parameters: parameters })
      const skipRules = Coverage.evaluate({ rulesets: [managed(exception({ rules: { [CMR]: ["r-1", "r-2"] } }), deploy(CMR), deploy(OWASP))] }, LOGIN)
      assert.deepStrictEqual(
        skipRules.acting.map((a) => a._tag === "Managed" && a.managed.skippedRules.map((r) => `${r.rule} by ${r.by.id}`)),
        [["r-1 by exception", "r-2 by exception"], []]
      )
      assert.strictEqual(
        skipRules.decision.summary,
        `managed ruleset Cloudflare Managed Ruleset (${CMR}) evaluates this request (no overrides; except rules r-1, r-2)`
      )
      const skipRuleset = Coverage.evaluate({ rulesets: [managed(exception({ rulesets: [CMR] }), deploy(CMR), deploy(OWASP))] }, LOGIN)
      assert.deepStrictEqual(tags(events(skipRuleset, "http_request_firewall_managed")), ["Matched:exception", "Skipped:deploy-efb7", "Matched:deploy-4814"])
      assert.strictEqual(skipRuleset.decision._tag === "Managed" && skipRuleset.decision.managed.name, "Cloudflare OWASP Core Ruleset")
      const skipAll = Coverage.evaluate({ rulesets: [managed(exception({ ruleset: "current" }), deploy(CMR))] }, LOGIN)
      assert.strictEqual(skipAll.decision._tag, "NoAction")
      const tooLate = Coverage.evaluate({ rulesets: [managed(deploy(CMR), exception({ rulesets: [CMR] }))] }, LOGIN)
      assert.strictEqual(tooLate.decision._tag, "Managed")
    })
  })

  describe("rate limiting", () => {
    it("describes the threshold, period and characteristics", () => {
      const rl = Coverage.describeRateLimit("managed_challenge", {
        characteristics: ["cf.colo.id", "ip.src", 'http.request.headers["x-api-key"]'],
        period: 10,
        requests_per_period: 100
      })
      assert.strictEqual(rl.summary, "managed challenge after 100 requests / 10 s per IP and header x-api-key")
    })

    it("a rate limiting rule with the log action counts but does not cover", () => {
      const result = Coverage.probe({ rulesets: [ratelimit({ ...LOGIN_RL, action: "log" })], request: LOGIN, phases: ["http_ratelimit"] })
      assert.strictEqual(result.covered, "none")
      assert.strictEqual(result.variants[0]?.trace.decision._tag, "RateLimit")
    })
  })

  describe("the Redpine onboarding story", () => {
    it("before: POST /login is not covered by rate limiting, and the check shows the expression to add", () => {
      const result = Coverage.probe({ ...redpine(false), request: LOGIN, phases: ["http_ratelimit"] })
      assert.strictEqual(result.covered, "none")
      assert.strictEqual(result.summary, "not covered")
      assert.strictEqual(result.suggestion?.simple, '(http.request.uri.path eq "/login" and http.request.method eq "POST")')
      assert.isTrue(Either.isRight(Expression.parseEither(result.suggestion?.simple ?? "")))
      // The managed ruleset still evaluates the request; it is just not rate limiting.
      assert.strictEqual(result.variants[0]?.trace.decision._tag, "Managed")
    })

    it("after: the rate limiting rule covers /login as sent, but not its odd-case and encoded spellings", () => {
      const result = Coverage.probe({ ...redpine(true), request: LOGIN, phases: ["http_ratelimit"] })
      assert.strictEqual(result.summary, "covered by rule rl-login (block after 10 requests / 60 s per IP)")
      assert.strictEqual(result.covered, "some")
      const byLabel = new Map(result.variants.map((v) => [v.label, v]))
      assert.strictEqual(byLabel.get("path as given")?.coveredBy?.rule.id, "rl-login")
      for (const label of ["path upper case", "path trailing slash", "path first letter percent-encoded, lower-case hex", "method lower case"]) {
        assert.strictEqual(byLabel.get(label)?.summary, "not covered", label)
      }
      assert.strictEqual(byLabel.get("path first letter percent-encoded, lower-case hex")?.request.path, "/%6cogin")
      assert.strictEqual(byLabel.get("path upper case")?.request.path, "/LOGIN")
      const decision = byLabel.get("path as given")?.trace.decision
      assert.strictEqual(decision?.summary, "rate limited by rule rl-login: block after 10 requests / 60 s per IP (mitigation timeout 600 s)")
    })

    it("a zone that normalises URLs also covers the percent-encoded spelling, but not the upper-case one", () => {
      const result = Coverage.probe({ ...redpine(true), normalization: { type: "cloudflare", scope: "incoming" }, request: LOGIN, phases: ["http_ratelimit"] })
      const byLabel = new Map(result.variants.map((v) => [v.label, v.summary]))
      assert.strictEqual(byLabel.get("path first letter percent-encoded, lower-case hex"), "covered by rule rl-login (block after 10 requests / 60 s per IP)")
      assert.strictEqual(byLabel.get("path doubled leading slash"), "covered by rule rl-login (block after 10 requests / 60 s per IP)")
      assert.strictEqual(byLabel.get("path upper case"), "not covered")
    })

    it("RFC 3986 normalisation decodes letters but keeps doubled slashes", () => {
      const result = Coverage.probe({ ...redpine(true), normalization: { type: "rfc3986", scope: "incoming" }, request: LOGIN, phases: ["http_ratelimit"] })
      const byLabel = new Map(result.variants.map((v) => [v.label, v]))
      assert.isDefined(byLabel.get("path first letter percent-encoded")?.coveredBy)
      assert.isDefined(byLabel.get("path dot segment")?.coveredBy)
      assert.strictEqual(byLabel.get("path doubled leading slash")?.request.path, "//login")
      assert.isUndefined(byLabel.get("path doubled leading slash")?.coveredBy)
      const matched = byLabel.get("path first letter percent-encoded")?.trace.stages[1]?.events[0]
      assert.isTrue(matched?._tag === "Matched" && matched.values["http.request.uri.path"] === "/login")
    })

    it("the robust suggestion covers the case, encoding and trailing-slash variants", () => {
      const robust = Coverage.suggestedExpression({ path: "/login", method: "POST" }, { robust: true })
      assert.strictEqual(robust, '(lower(url_decode(http.request.uri.path)) in {"/login" "/login/"} and upper(http.request.method) eq "POST")')
      assert.isTrue(Either.isRight(Expression.parseEither(robust)))
      assert.strictEqual(Coverage.suggestedExpression({ path: "/login" }), '(http.request.uri.path eq "/login")')
      const result = Coverage.probe({
        rulesets: [ratelimit({ ...LOGIN_RL, expression: robust })],
        normalization: { type: "cloudflare", scope: "incoming" },
        request: LOGIN
      })
      assert.deepStrictEqual(
        result.variants.filter((v) => v.coveredBy === undefined).map((v) => v.label),
        ["path trailing dot", "path semicolon parameter"]
      )
    })

    it("the custom rules block the bad actor and /admin in every phase filter", () => {
      const result = Coverage.probe({ ...redpine(true), request: { ...LOGIN, path: "/admin", ip: "198.51.100.77" } })
      assert.strictEqual(result.covered, "all")
      assert.strictEqual(result.summary, "covered by rule cr-admin (block in http_request_firewall_custom)")
    })
  })

  describe("named lists and configuration errors", () => {
    it("reports a rule whose list was not supplied instead of guessing", () => {
      const trace = Coverage.evaluate({ ...redpine(false), lists: {} }, { ...LOGIN, ip: "203.0.113.9" })
      assert.deepStrictEqual(trace.errors.map((e) => `${e.reason}:${e.rule}`), ["MissingList:cr-bad-actors"])
      assert.deepStrictEqual(tags(events(trace, "http_request_firewall_custom")), ["NotMatched:cr-admin", "Failed:cr-bad-actors"])
    })

    it.effect("reports an invalid expression as a typed per-rule error, and keeps evaluating", () =>
      Effect.gen(function* () {
        const trace = yield* Coverage.evaluateEffect(
          { rulesets: [custom(rule("broken", 'http.request.uri.path EQ "/x"', "block"), rule("no-expression", undefined as unknown as string, "block"), rule("ok", "true", "managed_challenge"))] },
          { path: "/x" }
        )
        const [broken, missing] = trace.errors
        assert.isTrue(RulesError.isRuleConfigError(broken))
        assert.strictEqual(broken?.reason, "InvalidExpression")
        assert.strictEqual(broken?.parseError?.reason, "ExpectedOperator")
        assert.strictEqual(missing?.reason, "MissingExpression")
        assert.strictEqual(trace.decision._tag === "Terminate" && trace.decision.rule.id, "ok")
      })
    )

    it("survives malformed rules from untyped input", () => {
      const trace = Coverage.evaluate(
        { rulesets: [{ phase: "http_request_firewall_custom", rules: [null, { id: "x" }, 42] as unknown as ReadonlyArray<RulesetRule> }] },
        LOGIN
      )
      assert.deepStrictEqual(trace.errors.map((e) => e.reason), ["InvalidRule", "InvalidRule", "InvalidRule"])
    })
  })

  describe("legacy products", () => {
    const access = (id: string, mode: string, target: string, value: string): Coverage.IpAccessRule => ({ id, mode, configuration: { target, value } })

    it("an IP Access allow rule runs first and bypasses custom rules, rate limiting and managed rules", () => {
      const trace = Coverage.evaluate({ ...redpine(true), accessRules: [access("ia-office", "whitelist", "ip_range", "198.51.100.0/24")] }, { ...LOGIN, path: "/admin", ip: "198.51.100.77" })
      assert.strictEqual(trace.decision._tag, "Allow")
      assert.deepStrictEqual(stageNames(trace), [
        "zone:ip_access_rules:evaluated",
        "zone:http_request_firewall_custom:bypassed",
        "zone:http_ratelimit:bypassed",
        "zone:http_request_firewall_managed:bypassed"
      ])
    })

    it("allowing a country does not bypass managed rules, and allow beats a more specific block", () => {
      const trace = Coverage.evaluate(
        { ...redpine(true), accessRules: [access("ia-block-ip", "block", "ip", "192.0.2.1"), access("ia-us", "whitelist", "country", "us")] },
        { ...LOGIN, ip: "192.0.2.1", country: "US" }
      )
      assert.deepStrictEqual(tags(trace.acting), ["Allow:ia-us", "Managed:deploy-efb7"])
      assert.strictEqual(stageNames(trace).at(-1), "zone:http_request_firewall_managed:evaluated")
    })

    it("an IP Access block stops the request before custom rules", () => {
      const trace = Coverage.evaluate({ ...redpine(true), accessRules: [access("ia-asn", "block", "asn", "AS64500")] }, { ...LOGIN, asn: 64500 })
      assert.strictEqual(trace.decision.summary, "block by IP Access rule ia-asn (asn AS64500)")
      assert.strictEqual(stageNames(trace)[1], "zone:http_request_firewall_custom:not reached")
    })

    it("legacy firewall rules run by priority; allow ends them but not the WAF phases; bypass records products", () => {
      const fw = (id: string, action: string, priority: number | null, expression: string, products?: ReadonlyArray<string>): Coverage.LegacyFirewallRule => ({
        id,
        action,
        priority,
        paused: false,
        filter: { expression },
        ...(products !== undefined ? { products } : {})
      })
      const trace = Coverage.evaluate(
        {
          ...redpine(true),
          firewallRules: [fw("fw-block", "block", null, "true"), fw("fw-allow", "allow", 20, "true"), fw("fw-bypass", "bypass", 10, "true", ["zoneLockdown"])]
        },
        { ...LOGIN, path: "/admin" }
      )
      assert.deepStrictEqual(tags(events(trace, "firewall_rules")), ["Matched:fw-bypass", "Matched:fw-allow", "Skipped:fw-block"])
      assert.deepStrictEqual(trace.skippedProducts.map((p) => p.product), ["zoneLockdown"])
      assert.strictEqual(trace.decision._tag === "Terminate" && trace.decision.rule.id, "cr-admin")
    })
  })
})
