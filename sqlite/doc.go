// Package sqlite implements crm.Store on an embedded SQLite database file,
// through modernc.org/sqlite (pure Go, no cgo).
//
// SQLite allows one writer at a time, so the store keeps two pools: a writer
// pool of exactly one connection whose transactions start with BEGIN
// IMMEDIATE, and a pool of reader connections for the Store read methods.
// Because every write transaction takes the database write lock at BEGIN, a
// row read inside InTx (Tx.LockLead, LockSale, LockUser) cannot change under
// the transaction until it ends: that is what "lock" means here. WAL mode lets
// readers run alongside the writer and see only committed data.
//
// Values are stored as the schema in migrations/ describes: times as TEXT in
// the fixed-width UTC form 2006-01-02T15:04:05.000000Z (so they sort as
// strings), booleans as 0/1, empty ids and optional text as NULL, and event
// data as JSON text.
//
// Open does not migrate; call DB.Migrate (the binary does it on start).
package sqlite
