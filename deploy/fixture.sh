#!/usr/bin/env bash
# Creates the dev fixture (README.md, "The local stack") in the database the
# libpq environment points at, as its owner (the cluster superuser: eval
# "$(deploy/pgctl.sh env DATADIR)" first), and writes $STACK_DIR/dev.json.
#
#   STACK_DIR=... BASE_URL=... CALLBACK_PORT=... deploy/fixture.sh
#
# Two accounts (acct_dev1, acct_dev2); two users (usr_dev1 in account 1,
# usr_dev2 in both); two apps with a published version 1.0.0:
# com.example.app (owner account 1, permissions secret_write and event_read,
# installed on both accounts) and com.example.other (owner account 2,
# event_read only, installed on account 1), installed in test and live mode.
# Every account and app has an sk_test_ and an sk_live_ key. The apps'
# signing secrets are staged in plaintext (install.apps.signing_secret);
# deploy/stack.sh then runs `svc-install --seal-signing-secrets`, which seals
# them under the stack's key file and clears the plaintext.
#
# Idempotent, and re-running restores the fixture so that dev.json stays
# true: an uninstalled fixture app is installed again and version 1.0.0 is
# the published one. Keys, passwords and signing secrets come from an
# existing dev.json (so they survive restarts and a wiped database);
# whatever is missing there is generated from /dev/urandom. Values reach SQL
# only as psql variables (:'name', set from the environment), and dev.json is written by Python's json
# module, atomically, mode 0600.
set -euo pipefail

prog=fixture.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=python3

STACK_DIR=${STACK_DIR:-$(cd "$here/.." && pwd)/var}
BASE_URL=${BASE_URL:-http://127.0.0.1:${HTTP_PORT:-8080}}
CALLBACK_PORT=${CALLBACK_PORT:-8090}
DEV_JSON=$STACK_DIR/dev.json

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

[[ $CALLBACK_PORT =~ ^[1-9][0-9]{0,4}$ ]] || die "CALLBACK_PORT must be a TCP port, not '$CALLBACK_PORT'"

# rand62 N: N characters drawn uniformly from [0-9A-Za-z] out of /dev/urandom.
# Bytes 248..255 are rejected so that byte % 62 favours no character.
rand62() {
    local n=$1 out="" b
    local alphabet=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz
    while ((${#out} < n)); do
        for b in $(od -An -tu1 -N "$((n + 8))" /dev/urandom); do
            ((b < 248)) || continue
            out+=${alphabet:b%62:1}
            ((${#out} < n)) || break
        done
    done
    printf '%s\n' "$out"
}

# The fixed part of the fixture.
declare -A v=(
    [acct1]=acct_dev1 [acct2]=acct_dev2
    [user1]=usr_dev1 [user2]=usr_dev2
    [email1]=dev1@example.com [email2]=dev2@example.com
    [app1]=com.example.app [app2]=com.example.other
    [redirect_uri]=http://127.0.0.1:$CALLBACK_PORT/callback
)

# The secret part: from dev.json when it holds a well-formed value.
secrets=(acct1_test acct1_live acct2_test acct2_live app1_test app1_live app2_test app2_live
    app1_signing app2_signing password1 password2)
if [[ -f $DEV_JSON ]]; then
    while IFS=$'\t' read -r name value; do
        v[$name]=$value
    done < <("$PYTHON" - "$DEV_JSON" <<'EOF'
import json, re, sys
try:
    with open(sys.argv[1]) as f:
        dev = json.load(f)
    by_id = {o.get("id"): o for part in ("accounts", "users", "apps") for o in dev.get(part, [])
             if isinstance(o, dict)}
except (OSError, ValueError, AttributeError, TypeError) as e:
    print(f"fixture.sh: ignoring unreadable {sys.argv[1]}: {e}", file=sys.stderr)
    sys.exit(0)
wanted = {
    "acct1_test": ("acct_dev1", "secret_key", r"sk_test_[A-Za-z0-9]{36}"),
    "acct1_live": ("acct_dev1", "live_secret_key", r"sk_live_[A-Za-z0-9]{36}"),
    "acct2_test": ("acct_dev2", "secret_key", r"sk_test_[A-Za-z0-9]{36}"),
    "acct2_live": ("acct_dev2", "live_secret_key", r"sk_live_[A-Za-z0-9]{36}"),
    "app1_test": ("com.example.app", "secret_key", r"sk_test_[A-Za-z0-9]{36}"),
    "app1_live": ("com.example.app", "live_secret_key", r"sk_live_[A-Za-z0-9]{36}"),
    "app2_test": ("com.example.other", "secret_key", r"sk_test_[A-Za-z0-9]{36}"),
    "app2_live": ("com.example.other", "live_secret_key", r"sk_live_[A-Za-z0-9]{36}"),
    "app1_signing": ("com.example.app", "signing_secret", r"absec_[A-Za-z0-9]{32}"),
    "app2_signing": ("com.example.other", "signing_secret", r"absec_[A-Za-z0-9]{32}"),
    "password1": ("usr_dev1", "password", r"[\x21-\x7e]{8,72}"),
    "password2": ("usr_dev2", "password", r"[\x21-\x7e]{8,72}"),
}
for name, (oid, field, pattern) in wanted.items():
    value = by_id.get(oid, {}).get(field)
    if isinstance(value, str) and re.fullmatch(pattern, value):
        print(f"{name}\t{value}")
EOF
    )
fi

# Whatever is still missing is new.
for name in "${secrets[@]}"; do
    [[ -n ${v[$name]:-} ]] && continue
    case $name in
    *_test) v[$name]=sk_test_$(rand62 36) ;;
    *_live) v[$name]=sk_live_$(rand62 36) ;;
    *_signing) v[$name]=absec_$(rand62 32) ;;
    password*) v[$name]=$(rand62 20) ;;
    esac
done

# Values travel in the environment (readable only by this user), never on
# a command line (readable by every user through /proc).
for name in "${!v[@]}"; do
    export "FX_$name=${v[$name]}"
done
export FX_base_url=$BASE_URL

# psql variables from the environment, then the fixture itself.
psql_script() {
    local name
    for name in "${!v[@]}"; do
        printf '\\getenv %s FX_%s\n' "$name" "$name"
    done
    cat
}

export PGOPTIONS="${PGOPTIONS:+$PGOPTIONS }-c client_min_messages=warning"
# -o /dev/null: the SELECTs that call functions would print their results.
psql_script <<'SQL' | psql -X -q -o /dev/null -v ON_ERROR_STOP=1 -f - ||
BEGIN;

SELECT core.create_account(a.id, a.name)
FROM (VALUES (:'acct1', 'Dev account 1'), (:'acct2', 'Dev account 2')) AS a(id, name)
WHERE NOT EXISTS (SELECT 1 FROM core.accounts c WHERE c.id = a.id);

-- core.create_user() picks a random id; the fixture's users have fixed ones.
SELECT NOT EXISTS (SELECT 1 FROM core.users WHERE id = :'user1') AS new_user1,
       NOT EXISTS (SELECT 1 FROM core.users WHERE id = :'user2') AS new_user2 \gset
\if :new_user1
SELECT core.create_user(:'email1', :'password1') AS created_id \gset
UPDATE core.users SET id = :'user1' WHERE id = :'created_id';
\endif
\if :new_user2
SELECT core.create_user(:'email2', :'password2') AS created_id \gset
UPDATE core.users SET id = :'user2' WHERE id = :'created_id';
\endif
-- A password from a regenerated dev.json replaces the stored one.
UPDATE core.users u SET password_hash = core.crypt(p.password, core.gen_salt('bf', 10))
FROM (VALUES (:'user1', :'password1'), (:'user2', :'password2')) AS p(id, password)
WHERE u.id = p.id AND u.password_hash IS DISTINCT FROM core.crypt(p.password, u.password_hash);

SELECT core.add_membership(:'user1', :'acct1', 'admin');
SELECT core.add_membership(:'user2', :'acct1', 'admin');
SELECT core.add_membership(:'user2', :'acct2', 'admin');

SELECT core.import_api_key(k.key, k.account, k.app)
FROM (VALUES (:'acct1_test', :'acct1', NULL), (:'acct1_live', :'acct1', NULL),
             (:'acct2_test', :'acct2', NULL), (:'acct2_live', :'acct2', NULL),
             (:'app1_test', :'acct1', :'app1'), (:'app1_live', :'acct1', :'app1'),
             (:'app2_test', :'acct2', :'app2'), (:'app2_live', :'acct2', :'app2'))
     AS k(key, account, app);

CREATE TEMP TABLE fixture_app ON COMMIT DROP AS
SELECT * FROM (VALUES
    (:'app1', :'acct1', 'Example App', :'app1_signing',
     ARRAY['secret_write', 'event_read'],
     ARRAY['Keeps the credentials of the connected service', 'Follows installs and uninstalls']),
    (:'app2', :'acct2', 'Other Example App', :'app2_signing',
     ARRAY['event_read'],
     ARRAY['Follows installs and uninstalls'])
) AS f(id, owner_account, name, signing_secret, permissions, purposes);

INSERT INTO install.apps (id, owner_account, name, signing_secret)
SELECT id, owner_account, name, signing_secret FROM fixture_app
ON CONFLICT (id) DO UPDATE
SET owner_account = EXCLUDED.owner_account, name = EXCLUDED.name,
    signing_secret = EXCLUDED.signing_secret;

-- Version 1.0.0 is the published one; its manifest has the shape of a
-- stripe-app.json.
UPDATE install.app_versions v SET published = false
FROM fixture_app f
WHERE v.app_id = f.id AND v.version <> '1.0.0' AND v.published;
INSERT INTO install.app_versions (app_id, version, manifest, permissions, allowed_redirect_uris, published)
SELECT f.id, '1.0.0',
       jsonb_build_object(
           'id', f.id,
           'version', '1.0.0',
           'name', f.name,
           'icon', './icon_32.png',
           'permissions', (SELECT jsonb_agg(jsonb_build_object('permission', p.permission,
                                                               'purpose', p.purpose) ORDER BY p.n)
                           FROM unnest(f.permissions, f.purposes) WITH ORDINALITY
                                AS p(permission, purpose, n)),
           'app_backend', '{}'::jsonb,
           'ui_extension', '{}'::jsonb,
           'allowed_redirect_uris', jsonb_build_array(:'redirect_uri')),
       f.permissions, ARRAY[:'redirect_uri'], true
FROM fixture_app f
ON CONFLICT (app_id, version) DO UPDATE
SET manifest = EXCLUDED.manifest, permissions = EXCLUDED.permissions,
    allowed_redirect_uris = EXCLUDED.allowed_redirect_uris, published = true;

INSERT INTO install.installations (id, app_id, account_id, livemode, installed_by)
SELECT 'inst_' || core.random_base62(16), i.app_id, i.account_id, m.livemode, i.installed_by
FROM (VALUES (:'app1', :'acct1', :'user1'), (:'app1', :'acct2', :'user2'),
             (:'app2', :'acct1', :'user1')) AS i(app_id, account_id, installed_by)
CROSS JOIN (VALUES (false), (true)) AS m(livemode)
ON CONFLICT (app_id, account_id, livemode) WHERE uninstalled_at IS NULL DO NOTHING;

COMMIT;
SQL
    die "could not create the fixture (database: ${PGDATABASE:-?} on ${PGHOST:-?}:${PGPORT:-?})"

# dev.json, only once the database holds everything it lists.
mkdir -p "$STACK_DIR"
"$PYTHON" - "$DEV_JSON" <<'EOF'
import json, os, sys, tempfile
x = {k[3:]: v for k, v in os.environ.items() if k.startswith("FX_")}
dev = {
    "base_url": x["base_url"],
    "accounts": [
        {"id": x["acct1"], "name": "Dev account 1",
         "secret_key": x["acct1_test"], "live_secret_key": x["acct1_live"]},
        {"id": x["acct2"], "name": "Dev account 2",
         "secret_key": x["acct2_test"], "live_secret_key": x["acct2_live"]},
    ],
    "users": [
        {"id": x["user1"], "email": x["email1"], "password": x["password1"],
         "accounts": [x["acct1"]]},
        {"id": x["user2"], "email": x["email2"], "password": x["password2"],
         "accounts": [x["acct1"], x["acct2"]]},
    ],
    "apps": [
        {"id": x["app1"], "owner_account": x["acct1"],
         "secret_key": x["app1_test"], "live_secret_key": x["app1_live"],
         "signing_secret": x["app1_signing"], "redirect_uri": x["redirect_uri"],
         "permissions": ["secret_write", "event_read"],
         "installed_on": [x["acct1"], x["acct2"]]},
        {"id": x["app2"], "owner_account": x["acct2"],
         "secret_key": x["app2_test"], "live_secret_key": x["app2_live"],
         "signing_secret": x["app2_signing"], "redirect_uri": x["redirect_uri"],
         "permissions": ["event_read"],
         "installed_on": [x["acct1"]]},
    ],
}
path = sys.argv[1]
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".dev.json.")  # mode 0600
try:
    with os.fdopen(fd, "w") as f:
        json.dump(dev, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
except BaseException:
    os.unlink(tmp)
    raise
EOF
