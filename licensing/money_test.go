package licensing

import (
	"math"
	"testing"
)

func TestFormatMoney_RendersMinorUnitsWithCurrencyCode(t *testing.T) {
	tests := []struct {
		cents    int64
		currency string
		want     string
	}{
		{1000, "USD", "USD 10.00"},
		{10000, "USD", "USD 100.00"},
		{0, "USD", "USD 0.00"},
		{5, "EUR", "EUR 0.05"},
		{123456, "usd", "USD 1234.56"},
		{-1050, "USD", "USD -10.50"},
		{-1, "USD", "USD -0.01"},
		{1000, " gbp ", "GBP 10.00"},
		{1000, "", "10.00"},
		{math.MaxInt64, "USD", "USD 92233720368547758.07"},
		{math.MinInt64, "USD", "USD -92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := FormatMoney(tt.cents, tt.currency); got != tt.want {
			t.Errorf("FormatMoney(%d, %q) = %q, want %q", tt.cents, tt.currency, got, tt.want)
		}
	}
}
