// Package crm is the domain of the CRM leads service: leads and sales, the two
// state machines that move them, the transfer rules, users and roles, and the
// contracts (Store, Scorer) that the outside packages implement.
//
// It imports only the standard library. The rules live here once, in Service,
// and every change runs inside Store.InTx: the row is re-read under a lock, the
// rule is checked against what is in the database at that moment, and the change
// and its event are written in the same transaction. The schemas of the sqlite
// and postgres packages back the same rules with constraints, as a last line.
package crm
