import { afterEach, assert, describe, it, vi } from "@effect/vitest"
import { Cause, Effect, Either, Exit, FastCheck as fc, Option } from "effect"
import { Expression, RulesError } from "../src/index.js"
import type { Ast } from "../src/index.js"
import type * as Regex from "../src/internal/regex.js"

const parse = (source: string): Ast.Expression => {
  const result = Expression.parseEither(source)
  if (Either.isLeft(result)) assert.fail(`${source}: ${result.left.message}`)
  return result.right
}

const failure = (source: string): RulesError.RulesParseError => {
  const result = Expression.parseEither(source)
  if (Either.isRight(result)) return assert.fail(`${source} should not parse`)
  return result.left
}

const canonical = (source: string): string => Expression.print(parse(source))

describe("Expression", () => {
  describe("precedence", () => {
    it("binds and tighter than xor, and xor tighter than or (wirefilter's own test)", () => {
      const ast = parse("ssl or ssl && ssl and ssl or ssl ^^ ssl and ssl || ssl")
      assert.strictEqual(ast._tag, "Logical")
      if (ast._tag !== "Logical") return
      assert.strictEqual(ast.operator, "or")
      assert.deepStrictEqual(
        ast.operands.map((o) => (o._tag === "Logical" ? `${o.operator}:${o.operands.length}` : o._tag)),
        ["BareValue", "and:3", "xor:2", "BareValue"]
      )
    })

    it("applies not to the next simple expression only", () => {
      assert.strictEqual(canonical('not http.host eq "a" and ssl'), 'not http.host eq "a" and ssl')
      const ast = parse('not http.host eq "a" and ssl')
      assert.strictEqual(ast._tag === "Logical" && ast.operands[0]?._tag, "Not")
    })

    it("keeps parentheses only where precedence needs them", () => {
      assert.strictEqual(canonical("((ssl and ssl)) and (ssl)"), "ssl and ssl and ssl")
      assert.strictEqual(canonical("(ssl or ssl) and ssl"), "(ssl or ssl) and ssl")
      assert.strictEqual(canonical("ssl or (ssl and ssl)"), "ssl or ssl and ssl")
      assert.strictEqual(canonical("!(ssl || ssl)"), "not (ssl or ssl)")
    })

    it("matches keywords as prefixes, as wirefilter does", () => {
      assert.strictEqual(canonical("notssl"), "not ssl")
      assert.strictEqual(canonical("ssl andssl"), "ssl and ssl")
      assert.strictEqual(canonical('http.request.method in {"GET"}or ssl'), 'http.request.method in {"GET"} or ssl')
    })
  })

  describe("canonical printing", () => {
    it("spells every operator in English", () => {
      assert.strictEqual(
        canonical('http.host == "a" && cf.threat_score >= 1 || cf.threat_score < 2 ^^ http.host ~ "x" && cf.edge.server_port & 4'),
        'http.host eq "a" and cf.threat_score ge 1 or cf.threat_score lt 2 xor http.host matches "x" and cf.edge.server_port bitwise_and 4'
      )
    })

    it("normalizes integers to decimal and IPs to canonical text", () => {
      assert.strictEqual(canonical("cf.threat_score in {0x1f 010 -7 1..0x3}"), "cf.threat_score in {31 8 -7 1..3}")
      assert.strictEqual(canonical("ip.src in {2001:DB8:0:0::1 ::FFFF:1.2.3.4 10.0.0.0/8}"), "ip.src in {2001:db8::1 ::ffff:1.2.3.4 10.0.0.0/8}")
    })

    it("prints strings quoted with the fewest escapes", () => {
      assert.strictEqual(canonical('http.host eq r#"a"b\\c"#'), 'http.host eq "a\\"b\\\\c"')
      assert.strictEqual(canonical('http.host eq "\\x41\\102é"'), 'http.host eq "ABé"')
      assert.strictEqual(canonical('http.host eq "\\xff"'), 'http.host eq "\\xff"')
      assert.strictEqual(canonical("http.host eq 41:42"), 'http.host eq "AB"')
    })

    it("prints a regex so that it lexes back to the same pattern", () => {
      assert.strictEqual(canonical('http.host matches "^api\\."'), 'http.host matches "^api\\."')
      assert.strictEqual(canonical('http.host matches r#"a\\"b"#'), 'http.host matches r#"a\\"b"#')
      assert.strictEqual(canonical('http.host matches "[\\"]x\\""'), 'http.host matches "[\\"]x\\""')
    })

    it("formats text to canonical form through format", () => {
      assert.deepStrictEqual(Expression.format("!ssl"), Either.right("not ssl"))
      assert.isTrue(Either.isLeft(Expression.format("ssl eq")))
    })
  })

  describe("lexical rules", () => {
    it("trims surrounding whitespace including tabs but rejects an inner tab", () => {
      assert.strictEqual(canonical("\t ssl \n"), "ssl")
      assert.strictEqual(failure("ssl\tand ssl").reason, "TrailingInput")
    })

    it("accepts newlines between tokens", () => {
      assert.strictEqual(canonical('http.host eq "a"\nand\r\nssl'), 'http.host eq "a" and ssl')
    })

    it("rejects an unknown escape in a quoted string but keeps regex escapes verbatim", () => {
      assert.strictEqual(failure('http.host eq "\\n"').reason, "InvalidEscape")
      assert.strictEqual(failure('http.host eq "\\400"').reason, "InvalidEscape")
      const ast = parse('http.host matches "\\d\\."')
      assert.deepStrictEqual(ast._tag === "Comparison" && ast.right, { _tag: "Regex", pattern: "\\d\\." })
    })

    it("treats a leading 0 as octal and rejects non-octal digits", () => {
      assert.strictEqual(canonical("cf.threat_score eq 010"), "cf.threat_score eq 8")
      assert.strictEqual(failure("cf.threat_score eq 08").reason, "InvalidInteger")
    })

    it("supports raw strings with up to 255 hashes", () => {
      assert.strictEqual(canonical(`http.host eq r${"#".repeat(255)}"x"${"#".repeat(255)}`), 'http.host eq "x"')
      assert.strictEqual(failure(`http.host eq r${"#".repeat(256)}"x"${"#".repeat(256)}`).reason, "UnexpectedToken")
    })

    it("rejects whitespace between a value and its index", () => {
      assert.strictEqual(failure('http.request.headers ["a"][0] eq "x"').reason, "ExpectedOperator")
      assert.strictEqual(canonical('http.request.headers[ "a" ][ 0 ] eq "x"'), 'http.request.headers["a"][0] eq "x"')
    })
  })

  describe("errors", () => {
    it("reports the position of the offending input", () => {
      const error = failure('http.host eq "a" and\n  http.nope eq "b"')
      assert.strictEqual(error.reason, "UnknownField")
      assert.deepStrictEqual(error.position, { offset: 23, line: 2, column: 3 })
      assert.include(error.message, "line 2, column 3")
    })

    it("rejects expressions over 4,096 characters and accepts exactly 4,096", () => {
      const exact = `http.host eq "${"a".repeat(4096 - 15)}"`
      assert.strictEqual(exact.length, 4096)
      assert.isTrue(Either.isRight(Expression.parseEither(exact)))
      assert.strictEqual(failure(exact + " ").reason, "ExpressionTooLong")
    })

    it("caps nesting at 128 levels", () => {
      assert.isTrue(Either.isRight(Expression.parseEither("(".repeat(128) + "ssl" + ")".repeat(128))))
      assert.strictEqual(failure("(".repeat(129) + "ssl" + ")".repeat(129)).reason, "NestingTooDeep")
      assert.strictEqual(failure("!".repeat(200) + "ssl").reason, "NestingTooDeep")
    })

    it("classifies common mistakes", () => {
      const cases: ReadonlyArray<readonly [string, RulesError.ParseErrorReason]> = [
        ["", "EmptyExpression"],
        ["ssl and", "UnexpectedEnd"],
        ["(ssl", "UnexpectedEnd"],
        ["ssl)", "UnexpectedToken"],
        ["ssl ssl", "TrailingInput"],
        ["foo(http.host)", "UnknownFunction"],
        ["http.host", "ExpectedOperator"],
        ['"a" eq http.host', "UnexpectedToken"],
        ["ip.src in {10.0.0.0/33}", "InvalidCidr"],
        ["ip.src in {10.0.0.1..::1}", "InvalidRange"],
        ["ip.src eq 10.0.0.1..10.0.0.2", "InvalidRange"],
        ["ip.src eq 1.2.3", "InvalidIp"],
        ["cf.threat_score eq 99999999999999999999", "InvalidInteger"],
        ['http.host contains 1', "UnexpectedToken"],
        ['cf.threat_score eq "1"', "TypeMismatch"],
        ["cf.threat_score contains 1", "TypeMismatch"],
        ['http.host matches r"(?<=a)b"', "InvalidRegex"],
        ['http.host wildcard "a\\\\b"', "InvalidWildcard"],
        ["http.request.headers[*][*] eq 1", "InvalidMapEach"],
        ['any(concat("a", http.request.headers.names[*])[*] eq "x")', "InvalidMapEach"],
        ['lower("ABC") eq "abc"', "InvalidArgument"],
        ['len(http.host, http.host) eq 1', "InvalidArgument"],
        ['url_decode(http.host, "x") eq "a"', "InvalidArgument"],
        ["any(http.request.headers.names[*] eq \"a\" or ssl)", "UnexpectedToken"],
        ['any(http.request.headers.names[*] eq "a") and http.request.headers.names[*] eq "b"', "TypeMismatch"],
        ["ip.src in $Office", "InvalidListName"],
        ["ssl # comment", "TrailingInput"]
      ]
      for (const [source, reason] of cases) assert.strictEqual(failure(source).reason, reason, source)
    })

    it.effect("fails the Effect API with the same typed error", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Expression.parse("ssl eq true"))
        assert.strictEqual(error._tag, "RulesParseError")
        assert.strictEqual(error.reason, "TypeMismatch")
        assert.isTrue(RulesError.isRulesParseError(error))
      }))

    describe("a bug in the engine", () => {
      // The parser's regex check is made to throw, as a bug in the engine would; a fresh copy of
      // the package is imported so the other tests keep the real module.
      const withBrokenRegexCheck = async () => {
        vi.resetModules()
        vi.doMock("../src/internal/regex.js", async (importOriginal) => ({
          ...(await importOriginal<typeof Regex>()),
          compileRegex: () => {
            throw new TypeError("engine bug")
          }
        }))
        return import("../src/index.js")
      }
      afterEach(() => {
        vi.doUnmock("../src/internal/regex.js")
        vi.resetModules()
      })

      it("is a defect of the Effect API, not a parse error", async () => {
        const broken = await withBrokenRegexCheck()
        for (const effect of [Effect.asVoid(broken.Expression.parse('http.host matches "a"')), Effect.asVoid(broken.Rule.compile('http.host matches "a"'))]) {
          const exit = Effect.runSyncExit(effect)
          assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), String(exit))
          if (Exit.isFailure(exit)) {
            assert.isTrue(Option.isNone(Cause.failureOption(exit.cause)))
            assert.match(Cause.pretty(exit.cause), /engine bug/)
          }
        }
      })

      it("is thrown by the plain API rather than returned as a Left", async () => {
        const broken = await withBrokenRegexCheck()
        assert.throws(() => broken.Expression.parseEither('http.host matches "a"'), /engine bug/)
        assert.throws(() => broken.Rule.compileEither('http.host matches "a"'), /engine bug/)
      })

      it("leaves syntax errors typed", async () => {
        const broken = await withBrokenRegexCheck()
        const error = Effect.runSync(Effect.flip(broken.Expression.parse("ssl and")))
        assert.strictEqual(error.reason, "UnexpectedEnd")
      })
    })
  })

  describe("inspection", () => {
    it("lists the fields, values, lists and functions an expression uses", () => {
      const ast = parse(
        'lower(http.request.uri.path) eq "/login" and http.request.method eq "POST" and not ip.src in $office and any(http.request.headers["x"][*] eq "1") and ip.src.asnum in $cf.botnetcc'
      )
      assert.deepStrictEqual(Expression.fields(ast), [
        "http.request.headers",
        "http.request.method",
        "http.request.uri.path",
        "ip.src",
        "ip.src.asnum"
      ])
      assert.deepStrictEqual(Expression.values(ast), [
        'http.request.headers["x"][*]',
        "http.request.method",
        "ip.src",
        "ip.src.asnum",
        "lower(http.request.uri.path)"
      ])
      assert.deepStrictEqual(Expression.lists(ast), ["cf.botnetcc", "office"])
      assert.deepStrictEqual(Expression.functions(ast), ["lower"])
    })
  })

  describe("properties", () => {
    const leaf = fc.constantFrom(
      "ssl",
      'http.host eq "example.com"',
      'http.request.uri.path contains "/admin"',
      'lower(http.request.uri.path) matches "^/api\\.v[0-9]+"',
      'http.request.uri.path matches r#"a"b"#',
      'http.request.full_uri wildcard "https://*.example.com/*"',
      'http.request.uri.path strict wildcard r"/a/\\*"',
      "ip.src in {10.0.0.0/8 192.0.2.1 2001:db8::/32 10.1.0.1..10.1.0.9}",
      "ip.src ne ::1",
      "cf.threat_score ge 0x10",
      "cf.edge.server_port in {80 443 8000..8009}",
      'http.request.method in {"GET" r"POST" 50:55:54}',
      "ip.src in $office",
      'any(http.request.headers["accept"][*] contains "json")',
      'all(lower(http.request.headers.names[*])[*] ne "x-foo")',
      'any(starts_with(http.request.headers.names[*], "X-"))',
      'any((http.request.uri.args.names[*] eq "a" or http.request.uri.args.values[*] eq "b"))',
      'http.request.uri.args["id"][0] eq "\\x00\\377é\\"\\\\"',
      'len(http.request.uri.args["debug"]) ge 0',
      'url_decode(http.request.uri.query, "r") contains "<script"',
      "cf.edge.server_port & 3"
    )
    const expression: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
      expr: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        leaf,
        fc.tuple(tie("expr"), fc.constantFrom(" and ", " && ", " or ", " || ", " xor ", " ^^ "), tie("expr")).map(([a, op, b]) => a + op + b),
        tie("expr").map((e) => `not ${e}`),
        tie("expr").map((e) => `!(${e})`),
        tie("expr").map((e) => `(${e})`)
      )
    })).expr

    it("never throws on arbitrary input", () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 200 }), (s) => {
          const result = Expression.parseEither(s)
          assert.isTrue(Either.isLeft(result) || Either.isRight(result))
        }),
        { numRuns: 2000 }
      )
      fc.assert(
        fc.property(fc.array(fc.constantFrom("ssl", " ", "(", ")", "not", "and", '"', "\\", "[*]", "{", "}", "$", "eq", "1", "r#", "any(", "http.host", "~", "\t", "é", ".."), { maxLength: 30 }), (parts) => {
          const result = Expression.parseEither(parts.join(""))
          assert.isTrue(Either.isLeft(result) || Either.isRight(result))
        }),
        { numRuns: 2000 }
      )
    })

    it("reparses the printed form to the same tree", () => {
      fc.assert(
        fc.property(expression, (source) => {
          const ast = parse(source)
          assert.deepStrictEqual(parse(Expression.print(ast)), ast)
        }),
        { numRuns: 500 }
      )
    })

    it("prints idempotently", () => {
      fc.assert(
        fc.property(expression, (source) => {
          const once = Expression.print(parse(source))
          assert.strictEqual(Expression.print(parse(once)), once)
        }),
        { numRuns: 500 }
      )
    })

    it("round-trips any string literal and any regex that parses", () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 20 }), (s) => {
          for (const source of [`http.host eq r#"${s}"#`, `http.host matches r#"${s}"#`, `http.host matches "${s}"`]) {
            const result = Expression.parseEither(source)
            if (Either.isRight(result)) assert.deepStrictEqual(parse(Expression.print(result.right)), result.right, source)
          }
        }),
        { numRuns: 1000 }
      )
    })
  })
})
