# GcpStreams — every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CONFIGURATION ?= Release
SOLUTION := GcpStreams.sln

.PHONY: help restore build test avro avro-check clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

restore: ## restore NuGet packages (pinned in Directory.Packages.props)
	dotnet restore $(SOLUTION)

build: restore ## build everything (warnings are errors)
	dotnet build $(SOLUTION) -c $(CONFIGURATION) --no-restore

test: build ## build, run every test, print the coverage summary (fails under the coverage floors)
	bash scripts/test.sh $(CONFIGURATION)

avro: ## regenerate the C# contract classes from avro/*.avsc
	bash scripts/avro.sh

avro-check: avro ## fail if the generated contract classes are not what `make avro` produces
	git diff --exit-code -- topology/GcpStreams.Contracts/Generated
	@test -z "$$(git status --porcelain -- topology/GcpStreams.Contracts/Generated)" || { git status --porcelain -- topology/GcpStreams.Contracts/Generated; echo "generated contracts are stale: run make avro and commit"; exit 1; }

clean: ## remove build outputs and test results
	dotnet clean $(SOLUTION) -c $(CONFIGURATION) >/dev/null
	rm -rf artifacts TestResults coverage
