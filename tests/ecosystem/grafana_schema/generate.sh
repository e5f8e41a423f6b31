#!/usr/bin/env bash
# Regenerates the JSON Schemas in this folder (vendored: the tests need neither Node nor the
# network) from Grafana's own published schema types, the npm package @grafana/schema, which
# Grafana generates from its CUE kinds (the dashboard kind and each panel plugin's panelcfg),
# converted to JSON Schema (draft-07) by ts-json-schema-generator. Both are pinned below; keep
# GRAFANA_SCHEMA equal to the grafana/grafana image tag in compose.yaml.
#
# Output: dashboard.schema.json (the classic dashboard JSON model, `Dashboard`) and, per panel
# type the dashboard uses, panels/TYPE.options.schema.json (`Options`) and, where the plugin
# has one, panels/TYPE.fieldconfig.schema.json (`FieldConfig`: fieldConfig.defaults.custom).
# Interfaces come out closed (additionalProperties: false), as CUE definitions are.
# Needs node and npm (the npm registry). Usage: tests/ecosystem/grafana_schema/generate.sh
set -euo pipefail
GRAFANA_SCHEMA=12.4.11
GENERATOR=2.10.0
PANELS=(timeseries barchart table stat bargauge)

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent \
  "@grafana/schema@$GRAFANA_SCHEMA" "ts-json-schema-generator@$GENERATOR"
raw=node_modules/@grafana/schema/dist/types/raw

generate() {  # generate TYPES.d.ts TYPE OUTPUT
  npx --no-install ts-json-schema-generator --no-type-check --path "$1" --type "$2" -o "$3"
}

mkdir -p "$here/panels"
rm -f "$here"/panels/*.schema.json
generate "$raw/dashboard/x/types.gen.d.ts" Dashboard "$here/dashboard.schema.json"
for panel in "${PANELS[@]}"; do
  types="$raw/composable/$panel/panelcfg/x/types.gen.d.ts"
  generate "$types" Options "$here/panels/$panel.options.schema.json"
  if grep -q "export interface FieldConfig" "$types"; then
    generate "$types" FieldConfig "$here/panels/$panel.fieldconfig.schema.json"
  fi
done
printf '@grafana/schema %s\nts-json-schema-generator %s\n' "$GRAFANA_SCHEMA" "$GENERATOR" \
  > "$here/SOURCE"
echo "generated from @grafana/schema $GRAFANA_SCHEMA into $here"
