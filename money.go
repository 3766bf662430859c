package crm

import (
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Amount is a sum of money in ten-thousandths of a currency unit. Integers
// keep the arithmetic exact in Go and in both databases (SQLite has no decimal
// type: an INTEGER column sums and sorts exactly, a REAL or TEXT one would
// not), and four decimal places hold every ISO 4217 currency's minor unit.
type Amount int64

// AmountScale is the number of ticks in one currency unit.
const AmountScale = 10_000

// MaxAmount is the largest amount a sale may have: just under a trillion
// currency units, so that sums over many sales still fit in 64 bits.
const MaxAmount Amount = 1_000_000_000_000*AmountScale - 1

// ParseAmount reads a decimal string such as "1250.00": digits, optionally a
// point and at most as many fraction digits as the currency has minor units.
// Signs, exponents, spaces and thousands separators are refused.
func ParseAmount(s, currency string) (Amount, error) {
	bad := func(msg string) (Amount, error) { return 0, Invalid(FieldError{Field: "amount", Message: msg}) }
	const format = "must be a decimal string ≥ 0 such as \"1250.00\""
	whole, frac, point := strings.Cut(s, ".")
	if whole == "" || (point && frac == "") || !allDigits(whole) || !allDigits(frac) {
		return bad(format)
	}
	if digits := MinorUnits(currency); len(frac) > digits {
		return bad("has more decimal places than " + currency + " has (" + strconv.Itoa(digits) + ")")
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 12 {
		return bad("must be less than 1000000000000")
	}
	w, _ := strconv.ParseInt("0"+whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "0000")[:4], 10, 64)
	return Amount(w*AmountScale + f), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Format writes the amount as a decimal string with the currency's minor
// units ("1250.00" for UAH, "1250" for JPY, "1.250" for KWD). A value with
// more precision than the currency (a weighted forecast) is rounded half up.
func (a Amount) Format(currency string) string {
	digits := MinorUnits(currency)
	step := int64(1)
	for range 4 - digits {
		step *= 10
	}
	v := (int64(a) + step/2) / step * step
	s := strconv.FormatInt(v/AmountScale, 10)
	if digits == 0 {
		return s
	}
	return s + "." + strconv.FormatInt(AmountScale+v%AmountScale, 10)[1:1+digits]
}

// Weighted returns the sum times p/AmountScale (p a probability in ticks),
// exactly: the product is taken in big integers, then rounded half up.
func (a Amount) Weighted(p int64) Amount {
	n := new(big.Int).Mul(big.NewInt(int64(a)), big.NewInt(p))
	n.Add(n, big.NewInt(AmountScale/2))
	n.Quo(n, big.NewInt(AmountScale))
	return Amount(n.Int64())
}

// ProbabilityTicks turns a score in [0, 1] into ten-thousandths, the only
// point where a float meets money.
func ProbabilityTicks(score float64) int64 {
	p := int64(score*AmountScale + 0.5)
	return min(max(p, 0), AmountScale)
}

// ValidCurrency reports whether code is an active ISO 4217 currency code.
func ValidCurrency(code string) bool {
	_, ok := currencies[code]
	return ok
}

// MinorUnits returns the number of decimal places of a currency (2 when the
// code is unknown).
func MinorUnits(code string) int {
	if d, ok := currencies[code]; ok {
		return d
	}
	return 2
}

// Currencies lists the ISO 4217 codes, sorted.
func Currencies() []string {
	out := make([]string, 0, len(currencies))
	for c := range currencies {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// DefaultCurrency is the currency of a sale whose amount comes without one,
// until an admin chooses another in the settings.
const DefaultCurrency = "UAH"

// currencies maps the active ISO 4217 codes (list one, 2024) to their minor
// units. Funds, precious metals and the testing codes (XAU, XTS, XXX, …) have
// no minor unit and are not money a deal is closed in, so they are left out.
var currencies = func() map[string]int {
	m := map[string]int{}
	two := "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD " +
		"CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD " +
		"HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT " +
		"MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR " +
		"SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU " +
		"UZS VES WST XCD YER ZAR ZMW ZWL"
	for _, c := range strings.Fields(two) {
		m[c] = 2
	}
	for _, c := range strings.Fields("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF") {
		m[c] = 0
	}
	for _, c := range strings.Fields("BHD IQD JOD KWD LYD OMR TND") {
		m[c] = 3
	}
	for _, c := range strings.Fields("CLF UYW") {
		m[c] = 4
	}
	return m
}()
