/**
 * The data folder holds the SQLite database (sealed credentials, webhook secrets) and the key
 * files, so only the app's user may read it: the folder is 0700 and every file in it 0600. Modes
 * are set with `chmod` after creating, so the process umask cannot loosen them, and re-applied to a
 * folder or file that already exists with looser bits (created by hand, by an older version, or
 * restored from a backup).
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs"

/** The mode of the data folder. */
export const folderMode = 0o700

/** The mode of every file the app keeps in the data folder. */
export const fileMode = 0o600

/** Creates `dir` (and its parents) if missing, then makes it 0700 whatever it was. */
export const secureFolder = (dir: string): void => {
  mkdirSync(dir, { recursive: true, mode: folderMode })
  chmodSync(dir, folderMode)
}

/** Makes `file` 0600 if it exists. */
export const secureFile = (file: string): void => {
  if (existsSync(file)) chmodSync(file, fileMode)
}

/**
 * Makes the SQLite database `file` 0600 before it is opened, creating it empty if missing, and its
 * `-wal` and `-shm` files if they exist. SQLite creates the WAL and SHM files with the database
 * file's permissions, so later ones are 0600 too.
 */
export const secureDatabase = (file: string): void => {
  if (!existsSync(file)) writeFileSync(file, "", { mode: fileMode, flag: "a" })
  for (const f of [file, `${file}-wal`, `${file}-shm`]) secureFile(f)
}
