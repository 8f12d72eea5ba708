# The two commands of the README, plus the pieces they are made of.
.PHONY: dev test vet unit fuzz deploy chaos screenshots

dev:
	go run ./cmd/licensedesk dev

# The full suite: vet, every test (one throwaway PostgreSQL cluster shared by
# all packages, a real Temporal dev server for end-to-end tests), then a short
# run of every fuzz target, the checks of what deploy/ ships, and the chaos
# harness at its small size.
test: vet unit fuzz deploy chaos

vet:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...

unit:
	go run ./cmd/withpostgres -- go test -race -count=1 -timeout 30m ./...

# A count, not a duration: a time-bounded run can end in "context deadline
# exceeded" when a fuzz worker is slow to stop on a loaded machine.
FUZZTIME ?= 50000x
fuzz:
	go test -run '^$$' -fuzz '^FuzzParseSEN$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzParseEmail$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzParseRoles$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzParseEnums$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzDecodeLicense$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzDecodePatch$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzParseFindQuery$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzTokenize$$' -fuzztime $(FUZZTIME) ./bot

# deploy/ without a cluster or Docker: the kustomization rendered and every
# object checked against the Kubernetes API types, the compose file against
# the compose specification, the alert rules and dashboard against
# docs/metrics.md; then promtool (a tool of the same module, pinned in its
# go.mod) checks the rules and runs their tests. A module of its own
# (deploy/validate/go.mod), so kustomize, the API types and Prometheus stay
# out of the application's go.mod.
deploy:
	cd deploy/validate && go vet ./... && go test -count=1 ./...
	cd deploy/validate && go tool promtool check rules ../observability/alerts.yml
	cd deploy/validate && go tool promtool test rules ../observability/*.test.yml

# The cluster deploy/ describes, as processes on this machine, under real
# traffic while workers, servers, PostgreSQL and Temporal's services are
# killed or restarted and SMTP, Slack and the payment provider fail for a
# while; the books are checked at the end and the last line says what broke
# (CHAOS_SIZE=full for the issue's full figures, about 25 minutes). Its
# Temporal is the real server (temporal-server.mod; docs/chaos.md), built
# here first, only for this step, and checked on its own before the run.
CHAOS_SIZE ?= small
CHAOS_SEED ?= 1
chaos:
	LICENSEDESK_TEMPORAL_CLUSTER=1 go test -p 1 -count=1 -timeout 30m -run '^TestTemporalCluster' ./devstack ./cmd/licensedesk
	go run ./cmd/licensedesk chaos --size $(CHAOS_SIZE) --seed $(CHAOS_SEED)

# Every customer page at 375 and 1280 px, as PNGs in $(SHOTS) (headless
# Chromium; the same run fails if a page overflows, loses its primary action
# or has a control too small to tap).
SHOTS ?= screenshots
screenshots:
	LICENSEDESK_SCREENSHOTS=$(abspath $(SHOTS)) go run ./cmd/withpostgres -- go test -count=1 -run 'Screenshots' ./web
