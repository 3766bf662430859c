// Package storetest is the one conformance suite that every crm.Store must
// pass: the sqlite and postgres packages run it from their tests with a fresh
// database per subtest.
//
// The suite drives the store through crm.Service, the one place where the
// rules live, because a store is correct only if the rules hold on it: a rule
// checked on a row that is not really locked, a time that loses its precision
// or a filter that matches too much all show up as a broken rule here, not as
// a broken SQL statement. A few subtests use the raw Tx to check that the
// schema backs the rules as a last line.
//
// The AI and the password hash are replaced by cheap doubles: Scorer returns
// whatever score the test programs, and the hasher prefixes the password. The
// real AI client is tested elsewhere against a fake of its HTTP API.
//
// The race subtests must pass on PostgreSQL; they run on SQLite too, where
// writers are serialized by the database.
package storetest
