# @plumbline/__name__

Plumbline's read-only __Title__ connector: reads __Title__'s configuration into canonical records.

| resource | scope | permission | paging |
|---|---|---|---|
| `items` (example) | connection | `items:read` | page numbers |

```ts
import { Credential, HttpPipeline, RequestBudget, SnapshotRunner } from "@plumbline/core"
import { __Name__Connector } from "@plumbline/__name__"
import { Config, Effect, Layer } from "effect"

const program = Effect.gen(function* () {
  const token = yield* Config.redacted("__CONST___TOKEN")
  const services = __Name__Connector.layer({ credential: Credential.make("__name__-token", token) }).pipe(
    Layer.provide(Layer.merge(HttpPipeline.layerFetch, RequestBudget.layer))
  )
  return yield* SnapshotRunner.run(__Name__Connector.connector, { connectionId: "example" }).pipe(Effect.provide(services))
})
```

## Development

- `test/Contract.test.ts` runs the connector contract suite from `@plumbline/testkit` against the fake
  API in `test/__Name__Fake.ts`; add a fixture there for every new resource.
- `docs/writing-a-connector.md` at the repository root is the guide.
- Every change carries a changeset: `npx -y pnpm@12.4.2 changeset`.
