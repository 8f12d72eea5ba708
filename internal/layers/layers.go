// Package layers holds the test that keeps licensedesk's imports pointing
// inwards: the front ends (bot, web, links) and cmd depend on the rest,
// never the reverse. It has no code of its own.
package layers
