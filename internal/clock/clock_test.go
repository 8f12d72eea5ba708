package clock_test

import (
	"testing"
	"time"

	"licensedesk/internal/clock"
)

func TestFixed_ReadsTheSameInstant(t *testing.T) {
	at := time.Date(2031, 2, 28, 23, 59, 0, 0, time.UTC)
	c := clock.Fixed(at)
	if !c.Now().Equal(at) || c.Since(at) != 0 || c.Until(at.Add(time.Hour)) != time.Hour {
		t.Fatalf("fixed clock: now %v", c.Now())
	}
}

func TestMoved_StartsThereAndTicks(t *testing.T) {
	at := time.Date(2036, 7, 1, 12, 0, 0, 0, time.UTC)
	c := clock.Moved(at)
	first := c.Now()
	if d := first.Sub(at); d < 0 || d > time.Second {
		t.Fatalf("moved clock reads %v, want about %v", first, at)
	}
	time.Sleep(20 * time.Millisecond)
	if !c.Now().After(first) {
		t.Fatal("moved clock does not tick")
	}
}

func TestNil_IsTheRealClock(t *testing.T) {
	var c clock.Clock
	if d := time.Since(c.Now()); d < 0 || d > time.Second {
		t.Fatalf("nil clock reads %v", c.Now())
	}
}

func TestIsWall_OnlyTheWallClock(t *testing.T) {
	if !clock.IsWall(nil) || !clock.IsWall(clock.Real) {
		t.Error("nil and Real are the wall clock")
	}
	if clock.IsWall(clock.Fixed(time.Unix(0, 0))) || clock.IsWall(clock.Moved(time.Unix(0, 0))) {
		t.Error("a fixed or moved clock is not the wall clock")
	}
}
