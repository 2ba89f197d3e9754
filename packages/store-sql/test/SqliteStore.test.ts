import { sqliteHarness } from "./fixtures/Databases.js"
import { contract } from "./StoreContract.js"

contract("SQLite", sqliteHarness)
