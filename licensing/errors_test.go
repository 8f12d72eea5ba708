package licensing

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorCodeAndMessage_SeeThroughWrappingAndHideForeignErrors(t *testing.T) {
	domain := Errorf(NotFound, "no licence %s", "SEN-1000009")
	tests := []struct {
		name string
		err  error
		code Code
		msg  string
	}{
		{"domain error", domain, NotFound, "no licence SEN-1000009"},
		{"wrapped domain error", fmt.Errorf("loading: %w", domain), NotFound, "no licence SEN-1000009"},
		{"foreign error", errors.New("pq: connection refused"), Internal, "Something went wrong on our side; it has been logged."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %s, want %s", got, tt.code)
			}
			if got := ErrorMessage(tt.err); got != tt.msg {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.msg)
			}
		})
	}
}
