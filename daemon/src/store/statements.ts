/**
 * Prepared statements cached per database: the ingest path runs the same few statements for
 * every batch, and preparing them each time was a tenth of its CPU (bench/tracking.ts).
 */
import type { Statement } from "better-sqlite3";
import type { Db } from "./db";

const cache = new WeakMap<Db, Map<string, Statement>>();

/** `db.prepare(sql)`, prepared once per database. */
export function statement(db: Db, sql: string): Statement {
  let statements = cache.get(db);
  if (!statements) {
    statements = new Map();
    cache.set(db, statements);
  }
  let prepared = statements.get(sql);
  if (!prepared) {
    prepared = db.prepare(sql);
    statements.set(sql, prepared);
  }
  return prepared;
}
