# The two commands of the README, plus the pieces they are made of.
.PHONY: dev test vet unit fuzz screenshots

dev:
	go run ./cmd/licensedesk dev

# The full suite: vet, every test (one throwaway PostgreSQL cluster shared by
# all packages, a real Temporal dev server for end-to-end tests), then a short
# run of every fuzz target.
test: vet unit fuzz

vet:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...

unit:
	go run ./cmd/withpostgres -- go test -race -count=1 -timeout 30m ./...

FUZZTIME ?= 5s
fuzz:
	go test -run '^$$' -fuzz '^FuzzParseSEN$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzParseEmail$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzParseRoles$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzParseEnums$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzTokenize$$' -fuzztime $(FUZZTIME) ./bot

# Every customer page at 375 and 1280 px, as PNGs in $(SHOTS) (headless
# Chromium; the same run fails if a page overflows, loses its primary action
# or has a control too small to tap).
SHOTS ?= screenshots
screenshots:
	LICENSEDESK_SCREENSHOTS=$(abspath $(SHOTS)) go run ./cmd/withpostgres -- go test -count=1 -run 'Screenshots' ./web
