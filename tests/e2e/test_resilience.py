"""The services outlive their database: after deploy/stack.sh restart-db they
reconnect by themselves, without a restart, and answer correctly again."""

from stackapi import SERVICE_ROUTES, wait_for

RECOVERY_SECONDS = 10
ROUNDS_AFTER = 10


def authenticated(status):
    return status not in (401, 403) and status < 500


def probes(stack):
    """(name, request, accepts status) for requests that each need the
    database: a key lookup, an installation lookup, or both."""
    key = stack.accounts[0]["secret_key"]
    # An app acting for an installing account is accepted by every service
    # (the Secret Store refuses account keys once they have authenticated).
    installed = stack.apps[0]
    as_app = {"key": installed["secret_key"], "headers": {"Stripe-Account": installed["installed_on"][0]}}
    wrong = "sk_test_" + "Q" * 20 + "0000"
    app = stack.apps[1]
    outsider = stack.accounts[1]["id"]
    found = []
    for service, path in SERVICE_ROUTES.items():
        found += [
            (f"{service} wrong key", ("GET", path, {"key": wrong}), lambda s: s == 401),
            (f"{service} valid key", ("GET", path, as_app), authenticated),
            (f"{service} unknown path", ("GET", path + "/nope/more", {"key": key}), lambda s: s == 404),
            (
                f"{service} app not installed",
                ("GET", path, {"key": app["secret_key"], "headers": {"Stripe-Account": outsider}}),
                lambda s: s == 403,
            ),
        ]
    return found


def test_services_survive_a_database_restart(stack):
    checks = probes(stack)

    def round_of_statuses():
        return {name: stack.api(method, path, **kw).status for name, (method, path, kw), _ in checks}

    def wrong(statuses):
        return {name: statuses[name] for name, _, accepts in checks if not accepts(statuses[name])}

    before = round_of_statuses()
    assert not wrong(before), f"stack unhealthy before the restart: {wrong(before)}"

    postmaster = stack.dev_json.parent / "pg" / "postmaster.pid"
    pid_before = postmaster.read_text().split()[0]
    stack.stack_sh("restart-db")
    assert postmaster.read_text().split()[0] != pid_before, "restart-db left the same postmaster running"

    seen = []

    def recovered():
        seen.append(round_of_statuses())
        return not wrong(seen[-1])

    assert wait_for(recovered, RECOVERY_SECONDS), (
        f"not recovered {RECOVERY_SECONDS} s after restart-db; wrong answers in the last round: {wrong(seen[-1])}"
    )
    for n in range(ROUNDS_AFTER):
        statuses = round_of_statuses()
        assert not wrong(statuses), f"round {n + 1} after recovery: {wrong(statuses)}"
