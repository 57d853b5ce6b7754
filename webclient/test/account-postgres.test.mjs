// The account service's browser flow (account.test.mjs) once more, on
// PostgreSQL instead of SQLite: the same screens and the same tests, a
// throwaway PostgreSQL under the demo server. Without Debian's postgresql
// the file skips, or fails under PODPIS_REQUIRE_DEPS=1 (make test).
import { test } from "node:test";
import { existsSync } from "node:fs";

if (existsSync("/usr/lib/postgresql") || process.env.PODPIS_REQUIRE_DEPS === "1") {
  process.env.ACCOUNT_DB = "postgres";
  await import("./account.test.mjs");
} else {
  test("the account service on PostgreSQL", { skip: "postgresql is not installed (scripts/test-deps.sh)" }, () => {});
}
