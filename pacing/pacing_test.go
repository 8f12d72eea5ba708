package pacing

import (
	"context"
	"testing"
	"time"
)

func TestMemoryStore_SpacesCallsAndAllowsTheBurst(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	m := NewMemoryStore()
	m.now = func() time.Time { return now }
	s := Limit{Rate: 10, Burst: 3}.slot("k")
	var waits []time.Duration
	for range 5 {
		w, ok, err := m.Reserve(context.Background(), s, time.Second)
		if !ok || err != nil {
			t.Fatal(ok, err)
		}
		waits = append(waits, w)
	}
	want := []time.Duration{0, 0, 0, 100 * time.Millisecond, 200 * time.Millisecond}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v; want %v", waits, want)
		}
	}
	if w, ok, _ := m.Reserve(context.Background(), s, 250*time.Millisecond); ok || w != 300*time.Millisecond {
		t.Errorf("past maxWait: wait %v ok %v; want 300ms and nothing reserved", w, ok)
	}
	now = now.Add(time.Second) // quiet: the burst is back
	if w, _, _ := m.Reserve(context.Background(), s, 0); w != 0 {
		t.Errorf("after a quiet second: wait %v", w)
	}
}

func TestPacer_UnlimitedNeverWaits(t *testing.T) {
	var nilPacer *Pacer
	for _, p := range []*Pacer{nilPacer, {Store: NewMemoryStore(), Key: "k"}, {Key: "k", Limit: PerSecond(1)}} {
		for range 3 {
			if err := p.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
}
