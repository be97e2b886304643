#!/usr/bin/env bash
# The model registry from the CLI on a database file (no daemon): register
# versions with signatures, import an MLflow MLmodel (and malformed ones, with
# errors naming the file and place), show/list, compat exit codes and JSON,
# set-eval, promote (refused on a failed or absent gate and on a breaking
# signature, exit 3; --force), rollback, audit, delete refused under an alias.
. "$(dirname "$0")/lib.sh"
R="$FIX/registry"
DB="$TMP/reg.db"
reg() { "$MW_BIN" registry --db "$DB" "$@"; }

expect_exit 0 "register v1" -- reg register fraud 1 --description "first" --artifact s3://m/fraud/1 \
  --sha256 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef --signature "$R/sig_v1.json" --tags team=risk,owner=ana
expect_exit 0 "register v2" -- reg register fraud 2 --signature "$R/sig_v2_compatible.json"
expect_exit 0 "register v3" -- reg register fraud 3 --signature "$R/sig_v3_breaking.json"
expect_exit 1 "register v1 again" -- reg register fraud 1
expect_contains "$TMP/err" 'version "1" is registered already' "immutable versions"
expect_exit 1 "malformed signature" -- reg register fraud 4 --signature "$R/sig_malformed.json"
expect_contains "$TMP/err" 'sig_malformed.json: inputs[0] "amount": unknown type "decimal"' "malformed signature named"
expect_exit 1 "bad sha256" -- reg register fraud 4 --sha256 abc
expect_contains "$TMP/err" 'not 64 hexadecimal digits' "sha256 checked"
expect_exit 2 "bad tags" -- reg register fraud 4 --tags novalue
expect_exit 1 "nothing half-registered" -- reg show fraud 4
expect_contains "$TMP/err" 'model "fraud" has no version "4" in the registry' "missing version named"

# import-mlflow: a real MLmodel, then malformed ones
expect_exit 0 "import-mlflow" -- reg import-mlflow "$R/mlflow_model" --model churn --version 7
reg show churn 7 --format json > "$TMP/c7.json"
expect_jq "$TMP/c7.json" '.signature.inputs | length == 3 and .[0].name == "amount" and .[0].type == "double" and .[2].required == false' "MLmodel inputs"
expect_jq "$TMP/c7.json" '.signature.outputs == [{"name":"0","type":"long","required":true}]' "MLmodel unnamed output"
expect_jq "$TMP/c7.json" '.tags["mlflow.run_id"] == "0a1b2c3d4e5f60718293a4b5c6d7e8f9" and (.artifact_uri|endswith("mlflow_model"))' "MLmodel run id and artifact"
expect_exit 1 "MLmodel bad YAML" -- reg import-mlflow "$R/mlmodel_bad_yaml" --model churn --version 8
expect_contains "$TMP/err" 'mlmodel_bad_yaml/MLmodel:4:4: YAML' "YAML error with line and column"
expect_exit 1 "MLmodel without signature" -- reg import-mlflow "$R/mlmodel_no_signature" --model churn --version 8
expect_contains "$TMP/err" 'mlmodel_no_signature/MLmodel: no signature: section' "missing signature named"
expect_exit 1 "MLmodel tensor spec" -- reg import-mlflow "$R/mlmodel_tensor" --model churn --version 8
expect_contains "$TMP/err" 'MLmodel signature: inputs[0]: tensor specs are not supported' "tensor specs refused"
expect_exit 1 "MLmodel bad column JSON" -- reg import-mlflow "$R/mlmodel_bad_json" --model churn --version 8
expect_contains "$TMP/err" 'mlmodel_bad_json/MLmodel signature: inputs: the column specs are not JSON' "bad column JSON named"
expect_exit 1 "MLmodel missing dir" -- reg import-mlflow "$TMP/nope" --model churn --version 8
expect_contains "$TMP/err" 'nope/MLmodel: cannot open' "missing MLmodel named"
expect_exit 2 "import-mlflow without --version" -- reg import-mlflow "$R/mlflow_model" --model churn
reg list --format json > "$TMP/list.json"
expect_jq "$TMP/list.json" '[.models[].name] == ["churn","fraud"] and (.models[1].versions|length) == 3' "list: models and versions, nothing half-imported"

# compat: exit codes and JSON
expect_exit 0 "compat compatible" -- "$MW_BIN" compat --db "$DB" fraud 1 2
expect_contains "$TMP/out" 'verdict: compatible' "compatible verdict"
expect_contains "$TMP/out" 'input_type_widened' "int -> double widened"
expect_exit 3 "compat breaking" -- "$MW_BIN" compat --db "$DB" fraud 1 3 --format json
cp "$TMP/out" "$TMP/compat.json"
expect_jq "$TMP/compat.json" '.verdict == "breaking" and ([.changes[] | select(.breaking) | .kind] | sort) == ["classes_changed","input_added_required","input_removed"]' "breaking changes classified"
expect_exit 3 "compat backwards is breaking" -- "$MW_BIN" compat --db "$DB" fraud 2 1
expect_exit 1 "compat missing version" -- "$MW_BIN" compat --db "$DB" fraud 1 9
expect_contains "$TMP/err" 'has no version "9"' "compat names the missing version"
expect_exit 1 "compat missing alias" -- "$MW_BIN" compat --db "$DB" fraud @production 2
expect_contains "$TMP/err" 'model "fraud" has no alias "production"' "compat names the missing alias"
expect_exit 2 "compat usage" -- "$MW_BIN" compat --db "$DB" fraud 1

# promote / rollback / audit
export USER=tester
expect_exit 0 "first promotion" -- reg promote fraud 1 --alias production --reason "launch"
expect_exit 3 "require gate without one" -- reg promote fraud 2 --alias production --require-gate
expect_contains "$TMP/err" 'has no stored gate result' "absent gate refused"
expect_exit 0 "store a failed gate" -- reg set-eval fraud 2 "$R/eval_fail.json"
expect_exit 3 "failed gate" -- reg promote fraud 2 --alias production
expect_contains "$TMP/err" 'stored gate of fraud version 2 failed' "failed gate refused"
expect_exit 0 "store a passed gate" -- reg set-eval fraud 2 "$R/eval_pass.json"
expect_exit 0 "promote with gate" -- reg promote fraud 2 --alias production --require-gate --who ci --reason "gate passed"
expect_contains "$TMP/out" 'fraud production -> 2 (was 1)' "promoted"
expect_exit 3 "breaking signature" -- reg promote fraud 3 --alias production
expect_contains "$TMP/err" "breaks against production's current version 2" "breaking refused"
reg show fraud @production --format json > "$TMP/p.json"
expect_jq "$TMP/p.json" '.version == "2" and .aliases == ["production"] and .eval.gate.passed == true' "refusals moved nothing"
expect_exit 0 "forced" -- reg promote fraud 3 --alias production --force --reason "hotfix"
expect_exit 1 "delete under alias" -- reg delete fraud 3
expect_contains "$TMP/err" 'is the target of alias "production"' "delete refused under alias"
expect_exit 0 "rollback" -- reg rollback fraud --alias production --reason "errors up"
expect_contains "$TMP/out" 'fraud production -> 2' "rolled back to 2"
expect_exit 0 "staging" -- reg set-alias fraud staging 3
expect_exit 1 "set-alias to missing version" -- reg set-alias fraud staging 9
expect_contains "$TMP/err" 'model "fraud" has no version "9"' "set-alias names the missing version"
expect_exit 0 "move staging away" -- reg set-alias fraud staging 1
expect_exit 0 "delete 3" -- reg delete fraud 3
expect_exit 1 "rollback staging to deleted 3" -- reg rollback fraud --alias staging
expect_exit 1 "rollback to a deleted version" -- reg rollback fraud --alias production
expect_contains "$TMP/err" 'would go back to version "3", which is no longer in the registry' "deleted previous version named"
reg audit fraud --alias production --format json > "$TMP/audit.json"
expect_jq "$TMP/audit.json" '[.audit[] | [.action, .from, .to, .who]] == [["rollback","3","2","tester"],["promote","2","3","tester"],["promote","1","2","ci"],["promote",null,"1","tester"]]' "audit: every move, newest first"
expect_jq "$TMP/audit.json" '.audit[0].why == "errors up" and .audit[2].why == "gate passed" and (.audit[0].at_ms > 1700000000000)' "audit: why and when"
expect_exit 0 "audit text" -- reg audit fraud
expect_contains "$TMP/out" 'rollback fraud@production  3 -> 2  by tester: errors up' "audit text line"
expect_exit 2 "unknown action" -- reg frobnicate
expect_exit 2 "promote without alias" -- reg promote fraud 2
finish
