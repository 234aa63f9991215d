"""Fixtures for the end-to-end tests: the stack under test (from the dev.json
named by STACK_DEV_JSON) and its request helper."""

import pytest

pytest.register_assert_rewrite("stackapi")

from stackapi import Stack, StackMissing  # noqa: E402 (after the rewrite hook)


@pytest.fixture(scope="session")
def stack():
    try:
        return Stack.from_env()
    except StackMissing as e:
        missing = str(e)
    pytest.fail(missing, pytrace=False)


@pytest.fixture(scope="session")
def api(stack):
    """stack.api: api(method, path, params=[(name, value), ...], key=..., basic=..., headers=..., body=...)
    returns (status, headers, body)."""
    return stack.api


@pytest.fixture(scope="session")
def account_key(stack):
    """The first account's test-mode secret key."""
    return stack.accounts[0]["secret_key"]


@pytest.fixture(scope="session")
def psql(stack):
    """stack.psql: psql(sql, *params) runs sql as the stack's database
    superuser, params bound to the psql variables :'p1', :'p2', ...; returns
    the rows as tuples of strings."""
    return stack.psql
