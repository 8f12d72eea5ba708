// Package clock is the one place licensedesk reads the time of day.
//
// Code that decides or renders by the time (pages, mails, Slack replies,
// link expiry, sessions and throttling, the billing sweep's today) is given
// a Clock: dev and production pass Real, tests a Fixed or Moved one, so a
// test that passes today passes on any day. Workflows read workflow.Now
// instead. internal/layers fails when code outside this package calls
// time.Now or time.Since for anything but measuring a duration.
package clock

import (
	"reflect"
	"time"
)

// Clock tells the time. The zero value (nil) is the real clock, so a
// struct built without one behaves as in production.
type Clock func() time.Time

// Real is the wall clock, for dev and production.
var Real Clock = time.Now

// Now is the clock's time.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

// Since is the time elapsed since t by this clock.
func (c Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Until is the time left until t by this clock.
func (c Clock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// Fixed always reads t: for tests that render or decide at one instant.
func Fixed(t time.Time) Clock { return func() time.Time { return t } }

// Moved reads at now and then keeps ticking with the wall clock: for a
// whole running system started as if on another day (sessions, link
// lifetimes and throttles still see time pass).
func Moved(at time.Time) Clock {
	offset := time.Until(at)
	return func() time.Time { return time.Now().Add(offset) }
}

// IsWall reports whether c reads the wall clock (nil or Real), so that a
// caller can skip work only a pinned clock needs.
func IsWall(c Clock) bool {
	return c == nil || reflect.ValueOf(c).Pointer() == reflect.ValueOf(Real).Pointer()
}
