# The two commands of the README, plus the pieces they are made of.
.PHONY: dev test vet unit fuzz

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
	go test -run '^$$' -fuzz '^FuzzDecodeLicense$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzDecodePatch$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzParseFindQuery$$' -fuzztime $(FUZZTIME) ./licensing
	go test -run '^$$' -fuzz '^FuzzTokenize$$' -fuzztime $(FUZZTIME) ./bot
