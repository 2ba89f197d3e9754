import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ConnectorContract } from "../src/index.js"
import * as Acme from "./fixtures/AcmeConnector.js"

// Every check must be able to fail: each case builds Acme with one deliberate defect and asserts
// the check guarding that rule reports a violation (and says what is wrong).
const optionsFor = (flaws: Acme.Flaws) => {
  const acme = Acme.make(flaws)
  return { connector: acme.connector, secret: Acme.SECRET, harness: acme.harness, resources: Acme.fixtures }
}

const violation = <R>(effect: Effect.Effect<void, ConnectorContract.ContractViolation, R>, pattern: RegExp) =>
  Effect.gen(function* () {
    const error = yield* Effect.flip(effect)
    assert.strictEqual(error._tag, "ContractViolation")
    assert.match(error.message, pattern)
  })

const { checks } = ConnectorContract

describe("ConnectorContract checks", () => {
  it.effect("listing fails for a connector that ignores page 2", () =>
    violation(checks.listsExhaustively(optionsFor({ ignoresPage2: true }), "projects", Acme.PAGE_SIZE + 1), /holds 4 record\(s\), the snapshot has 3/))

  it.effect("the repeating-page check fails for a connector that pages by hand and never notices a repeat", () =>
    violation(checks.detectsRepeatedPage(optionsFor({ loopsOnRepeat: true }), "projects"), /RequestRejected\(repeated-page\)/))

  it.effect("identity fails for keys that change between runs", () =>
    violation(checks.identityIsUniqueAndStable(optionsFor({ unstableIdentity: true }), "members"), /identity keys changed/))

  it.effect("identity fails for keys two records share", () =>
    violation(checks.identityIsUniqueAndStable(optionsFor({ constantIdentity: true }), "members"), /two records share one identity key/))

  it.effect("the decode check fails for a failure that does not name the field", () =>
    violation(checks.decodeFailureNamesField(optionsFor({ decodeWithoutField: true }), "members"), /path \/ does not name the field "email"/))

  it.effect("a mistyped field makes a bad record when no field is required", () =>
    Effect.gen(function* () {
      const { requiredField: _required, ...members } = Acme.fixtures.members
      const options = { ...optionsFor({}), resources: { ...Acme.fixtures, members: { ...members, mistypedField: "role" } } }
      yield* checks.decodeFailureNamesField(options, "members")
      yield* violation(
        checks.decodeFailureNamesField({ ...options, resources: { ...Acme.fixtures, members } }, "members"),
        /names neither a required nor a mistyped field/
      )
    }))

  it.effect("determinism fails for a record stamped with the time it was read", () =>
    violation(checks.snapshotsAreDeterministic(optionsFor({ timestampInRecord: true })), /drift .* is not empty: members\/m1 \/fetched_at/))

  it.effect("the 401 check fails for a connector that swallows a refused credential", () =>
    violation(checks.credentialInvalidStops(optionsFor({ swallows401: true }), "members"), /expected outcome credential-invalid, got complete/))

  it.effect("the 403 check fails for a resource that names no permission", () =>
    violation(checks.forbiddenNamesPermission(optionsFor({ noPermissions: true }), "members"), /forbidden without naming a permission/))

  it.effect("the availability check fails for a connector that asks anyway and gets a 403", () =>
    violation(checks.unavailableIsSkipped(optionsFor({ ignoresAvailability: true }), "members"), /expected skipped .* got .*forbidden/))

  it.effect("the Retry-After check fails for a connector that retries on its own schedule", () =>
    violation(checks.honoursRetryAfter(optionsFor({ ignoresRetryAfter: true }), "projects"), /tried again 100 ms after a 429 asking for 7 s/))

  it.effect("the 5xx check fails for a connector that never retries", () =>
    violation(checks.retriesServerErrors(optionsFor({ noRetry: true }), "members"), /expected members to be read in every scope it is available in, got .*failed/))

  it.effect("the 5xx check fails for a connector whose HTTP client retries behind the pipeline's back", () =>
    violation(checks.retriesServerErrors(optionsFor({ bypassesPipeline: true }), "projects"), /counted \d+ request\(s\) but the provider received \d+/))

  it.effect("the decode check fails for a connector that reports bad bodies as upstream trouble", () =>
    violation(checks.decodeFailureNamesField(optionsFor({ genericDecodeError: true }), "members"), /expected a DecodeFailure, got .*Upstream unavailable/))

  it.effect("the read-only check fails for a connector that POSTs without declaring it on the resource", () =>
    violation(checks.readOnly(optionsFor({ posts: true })), /undeclared writes: POST \/v1\/telemetry/))

  it.effect("the credential check fails for a connector that logs the token, even at debug level", () =>
    violation(checks.credentialNeverLeaks(optionsFor({ logsToken: true })), /the secret appears in the logs after a clean run/))

  it.effect("the credential check fails for a connector that puts the token into an error", () =>
    violation(checks.credentialNeverLeaks(optionsFor({ tokenInError: true })), /the secret appears in the snapshot after a bad record in every resource/))

  it.effect("the coverage check fails when a resource has no fixture", () =>
    violation(checks.coversEveryResource({ ...optionsFor({}), resources: { projects: Acme.fixtures.projects } }), /no fixture for members/))

  it.effect("every check passes for the connector without defects", () =>
    Effect.gen(function* () {
      const options = optionsFor({})
      yield* checks.coversEveryResource(options)
      yield* checks.snapshotsAreDeterministic(options)
      yield* checks.readOnly(options)
      yield* checks.credentialNeverLeaks(options)
      for (const name of ["projects", "members"] as const) {
        for (const count of ConnectorContract.countsOf(Acme.fixtures[name])) yield* checks.listsExhaustively(options, name, count)
        yield* checks.detectsRepeatedPage(options, name)
        yield* checks.identityIsUniqueAndStable(options, name)
        yield* checks.credentialInvalidStops(options, name)
        yield* checks.forbiddenNamesPermission(options, name)
        yield* checks.honoursRetryAfter(options, name)
        yield* checks.retriesServerErrors(options, name)
        yield* checks.decodeFailureNamesField(options, name)
      }
      yield* checks.unavailableIsSkipped(options, "members")
    }))
})
