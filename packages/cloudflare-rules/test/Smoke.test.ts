import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { placeholder } from "../src/index.js"

describe("Smoke", () => {
  it.effect("runs", () => Effect.sync(() => assert.isTrue(placeholder)))
})
