"""Each worker caches resolved keys, and a cache must never let a revoked key
or an uninstalled app through: the first request after the change commits is
refused, by every worker, even though all of them have the key cached (the
epoch guard, sql/core/0005_auth_epoch.sql)."""

import uuid

from stackapi import assert_stripe_error

ROUNDS = 40  # well over the 8 workers of a service, so every cache is warm
LIST = "/v1/apps/secrets"
SCOPE = [("scope[type]", "account")]


def statuses(stack, key, account):
    return [stack.api("GET", LIST, SCOPE, key=key, headers={"Stripe-Account": account}).status
            for _ in range(ROUNDS)]


def test_revoked_key_is_refused_at_once(stack):
    app, account = stack.apps[0], stack.apps[0]["installed_on"][0]
    key = stack.psql("SELECT core.create_api_key(:'p1', :'p2', false)", app["owner_account"], app["id"])[0][0]
    assert set(statuses(stack, key, account)) == {200}
    stack.psql("UPDATE core.api_keys SET revoked_at = now() WHERE lookup = :'p1'", key[8:20])
    assert set(statuses(stack, key, account)) == {401}
    resp = stack.api("GET", LIST, SCOPE, key=key, headers={"Stripe-Account": account})
    assert_stripe_error(resp, 401, "Invalid API Key provided")


def test_revoked_key_gets_no_idempotent_replay(stack):
    """A retried set whose response is stored: once the key is revoked, no
    worker replays it (the idempotency claim travels ahead of the statement
    carrying the guard, and its answer must not be given)."""
    app, account = stack.apps[0], stack.apps[0]["installed_on"][0]
    key = stack.psql("SELECT core.create_api_key(:'p1', :'p2', false)", app["owner_account"], app["id"])[0][0]
    idem = f"replay-{uuid.uuid4().hex}"
    params = [("name", f"replay-{uuid.uuid4().hex[:8]}"), ("payload", "p")] + SCOPE

    def set_once():
        return stack.api("POST", LIST, params, key=key,
                         headers={"Stripe-Account": account, "Idempotency-Key": idem})

    first = set_once()
    assert first.status == 200
    replays = [set_once() for _ in range(ROUNDS)]  # every worker caches the key
    assert {r.status for r in replays} == {200}
    assert all(r.headers.get("Idempotent-Replayed") == "true" for r in replays)
    stack.psql("UPDATE core.api_keys SET revoked_at = now() WHERE lookup = :'p1'", key[8:20])
    after = [set_once() for _ in range(ROUNDS)]
    assert {r.status for r in after} == {401}
    assert_stripe_error(after[-1], 401, "Invalid API Key provided")


def test_uninstalled_app_is_refused_at_once_and_reinstall_restores(stack):
    app = stack.apps[0]
    account = app["installed_on"][-1]
    key = app["secret_key"]
    assert set(statuses(stack, key, account)) == {200}
    stack.psql("UPDATE install.installations SET uninstalled_at = now()"
               " WHERE app_id = :'p1' AND account_id = :'p2' AND NOT livemode AND uninstalled_at IS NULL",
               app["id"], account)
    try:
        assert set(statuses(stack, key, account)) == {403}
    finally:
        stack.psql("INSERT INTO install.installations (id, app_id, account_id, livemode)"
                   " VALUES (:'p1', :'p2', :'p3', false)", "inst_" + uuid.uuid4().hex, app["id"], account)
    assert set(statuses(stack, key, account)) == {200}


def test_removed_permission_is_enforced_at_once(stack):
    """Publishing a version without secret_write takes the write away from
    the very next set, cached or not."""
    app, account = stack.apps[0], stack.apps[0]["installed_on"][0]
    body = [("name", "perm-" + uuid.uuid4().hex[:8]), ("payload", "p"), ("scope[type]", "account")]
    headers = {"Stripe-Account": account}
    assert stack.api("POST", LIST, body, key=app["secret_key"], headers=headers).status == 200
    stack.psql("UPDATE install.app_versions SET permissions = array_remove(permissions, 'secret_write')"
               " WHERE app_id = :'p1' AND published", app["id"])
    try:
        for _ in range(ROUNDS // 4):
            resp = stack.api("POST", LIST, body, key=app["secret_key"], headers=headers)
            assert_stripe_error(resp, 403)
    finally:
        stack.psql("UPDATE install.app_versions SET permissions = array_append(permissions, 'secret_write')"
                   " WHERE app_id = :'p1' AND published", app["id"])
    assert stack.api("POST", LIST, body, key=app["secret_key"], headers=headers).status == 200


def test_cached_requests_survive_a_database_restart_without_a_5xx(stack):
    """A request authenticated from the cache sends its guard in its first
    flight; when that flight finds the connection gone (PostgreSQL
    restarted), nothing of it ran, so it is retried on a new connection:
    not one request fails."""
    app, account = stack.apps[0], stack.apps[0]["installed_on"][0]
    assert set(statuses(stack, app["secret_key"], account)) == {200}
    stack.stack_sh("restart-db")
    assert set(statuses(stack, app["secret_key"], account)) == {200}
