package sqlite

import "github.com/crmleads/crm/internal/sqlitesql"

// The stored forms of values live in internal/sqlitesql, which the
// benchmark's direct-SQL baseline shares with this store.
var (
	fmtTime      = sqlitesql.FmtTime
	parseTime    = sqlitesql.ParseTime
	nullStr      = sqlitesql.NullStr
	boolInt      = sqlitesql.BoolInt
	parseJSON    = sqlitesql.ParseJSON
	nullFloat    = sqlitesql.NullFloat
	factorsText  = sqlitesql.FactorsText
	parseFactors = sqlitesql.ParseFactors
)

// scanner is a *sql.Row or *sql.Rows.
type scanner = sqlitesql.Scanner
