// The Secret Store through stripe-node: the seed's four calls
// (stripe.apps.secrets.create/find/deleteWhere/list) in both scopes, as an app
// backend (app key plus the stripeAccount request option) and as a dashboard
// UI extension (uxt_ token), auto-pagination, and the errors as the SDK's own
// classes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';

import Stripe from 'stripe';

import { dev, extensionToken, stripeFor } from './stack.mjs';

const REQUEST_ID = /^req_[A-Za-z0-9]{24}$/;
const NEEDS_SECRET_WRITE = "Having the 'secret_write' permission would allow this request to continue.";

const [app1, app2] = dev.apps;
const [acct1, acct2] = dev.accounts.map((a) => a.id);
const [user1, user2] = dev.users.map((u) => u.id);

function rand() {
  return randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
}

function userScope(user = `usr_${rand()}`) {
  return { type: 'user', user };
}

// App 1 acting for account 2, where it is installed.
const backend = stripeFor(app1.secret_key);
const onAcct2 = { stripeAccount: acct2 };

async function empty(stripe, scope, options) {
  const { data } = await stripe.apps.secrets.list({ scope, limit: 100 }, options);
  for (const item of data) {
    await stripe.apps.secrets.deleteWhere({ scope, name: item.name }, options);
  }
  assert.deepEqual((await stripe.apps.secrets.list({ scope }, options)).data, []);
}

// Returns a validator for assert.rejects: class, status, type, code, param.
function stripeError(errorClass, statusCode, code, param, type = 'invalid_request_error') {
  return (err) => {
    assert.ok(err instanceof errorClass, `${err?.type}: ${err?.message}`);
    assert.equal(err.statusCode, statusCode);
    assert.match(err.requestId, REQUEST_ID);
    assert.equal(err.rawType, type);
    assert.equal(err.code, code);
    assert.equal(err.param, param);
    return true;
  };
}

for (const kind of ['account', 'user']) {
  test(`seed calls in the ${kind} scope`, async () => {
    const scope = kind === 'account' ? { type: 'account' } : userScope();
    await empty(backend, scope, onAcct2);
    const name = `secret_name_${rand()}`;
    const payload = `secret value ${rand()}`;

    const created = await backend.apps.secrets.create({ scope, name, payload }, onAcct2);
    assert.match(created.id, /^appsecret_[A-Za-z0-9]{24}$/);
    assert.equal(created.object, 'apps.secret');
    assert.equal(created.name, name);
    assert.equal(created.livemode, false);
    assert.equal(created.expires_at, null);
    assert.deepEqual(created.scope, scope);
    assert.ok(!('payload' in created));
    assert.match(created.lastResponse.requestId, REQUEST_ID);

    const found = await backend.apps.secrets.find({ scope, name, expand: ['payload'] }, onAcct2);
    assert.equal(found.id, created.id);
    assert.equal(found.payload, payload);
    assert.ok(!('payload' in (await backend.apps.secrets.find({ scope, name }, onAcct2))));

    const listed = await backend.apps.secrets.list({ scope }, onAcct2);
    assert.equal(listed.object, 'list');
    assert.equal(listed.url, '/v1/apps/secrets');
    assert.equal(listed.has_more, false);
    assert.deepEqual(
      listed.data.map((s) => s.id),
      [created.id],
    );
    assert.ok(listed.data.every((s) => !('payload' in s)));
    const expanded = await backend.apps.secrets.list({ scope, expand: ['data.payload'] }, onAcct2);
    assert.deepEqual(
      expanded.data.map((s) => s.payload),
      [payload],
    );

    const deleted = await backend.apps.secrets.deleteWhere({ scope, name }, onAcct2);
    assert.equal(deleted.id, created.id);
    assert.equal(deleted.deleted, true);
    await assert.rejects(
      backend.apps.secrets.find({ scope, name }, onAcct2),
      stripeError(Stripe.errors.StripeInvalidRequestError, 404, 'resource_missing', 'name'),
    );
  });
}

test('a set with an existing name and scope replaces the secret', async () => {
  const scope = userScope();
  const expiresAt = Math.floor(Date.now() / 1000) + 600;
  const first = await backend.apps.secrets.create(
    { scope, name: 'token', payload: 'one', expires_at: expiresAt },
    onAcct2,
  );
  assert.equal(first.expires_at, expiresAt);
  const second = await backend.apps.secrets.create({ scope, name: 'token', payload: 'two' }, onAcct2);
  assert.deepEqual([second.id, second.created, second.expires_at], [first.id, first.created, null]);
  const found = await backend.apps.secrets.find({ scope, name: 'token', expand: ['payload'] }, onAcct2);
  assert.equal(found.payload, 'two');
  const listed = await backend.apps.secrets.list({ scope }, onAcct2);
  assert.deepEqual(
    listed.data.map((s) => s.id),
    [first.id],
  );
});

test('live key: livemode secrets', async () => {
  const live = stripeFor(app1.live_secret_key);
  const scope = userScope();
  const created = await live.apps.secrets.create({ scope, name: 'n', payload: 'live' }, onAcct2);
  assert.equal(created.livemode, true);
  await assert.rejects(
    backend.apps.secrets.find({ scope, name: 'n' }, onAcct2),
    stripeError(Stripe.errors.StripeInvalidRequestError, 404, 'resource_missing', 'name'),
  );
});

test('auto-pagination over ten secrets, three a page', async () => {
  const scope = userScope();
  const made = [];
  for (let i = 0; i < 10; i++) {
    made.push((await backend.apps.secrets.create({ scope, name: `n${i}`, payload: `p${i}` }, onAcct2)).id);
  }
  const all = await backend.apps.secrets.list({ scope, limit: 3 }, onAcct2).autoPagingToArray({ limit: 100 });
  assert.deepEqual(
    all.map((s) => s.id),
    made.toReversed(),
  );
  // Backwards from the oldest: stripe-node pages with ending_before and
  // yields the nearest first.
  const back = await backend.apps.secrets
    .list({ scope, limit: 3, ending_before: made[0] }, onAcct2)
    .autoPagingToArray({ limit: 100 });
  assert.deepEqual(
    back.map((s) => s.id),
    made.slice(1),
  );
});

test('a dashboard extension token: the seed as the UI extension runs it', async () => {
  const ext = stripeFor(extensionToken(user2, acct2, app1.id));
  const scope = userScope(user2);
  await empty(ext, scope);
  const created = await ext.apps.secrets.create({ scope, name: 'secret_name', payload: 'secret value' });
  const found = await ext.apps.secrets.find({ scope, name: 'secret_name', expand: ['payload'] });
  assert.equal(found.payload, 'secret value');
  const backendView = await backend.apps.secrets.find({ scope, name: 'secret_name', expand: ['payload'] }, onAcct2);
  assert.equal(backendView.id, created.id);
  assert.deepEqual(
    (await ext.apps.secrets.list({ scope })).data.map((s) => s.id),
    [created.id],
  );
  assert.equal((await ext.apps.secrets.deleteWhere({ scope, name: 'secret_name' })).deleted, true);
  await assert.rejects(
    ext.apps.secrets.list({ scope: userScope(user1) }),
    stripeError(Stripe.errors.StripePermissionError, 403, undefined, 'scope[user]'),
  );
  await assert.rejects(
    ext.apps.secrets.list({ scope: { type: 'account' } }, { stripeAccount: acct1 }),
    stripeError(Stripe.errors.StripePermissionError, 403, 'account_invalid', undefined),
  );
});

test('rejections arrive as the SDK error classes', async () => {
  const scope = userScope();
  await assert.rejects(
    backend.apps.secrets.create({ scope: { type: 'user' }, name: 'n', payload: 'p' }, onAcct2),
    stripeError(Stripe.errors.StripeInvalidRequestError, 400, 'parameter_missing', 'scope[user]'),
  );
  await assert.rejects(
    backend.apps.secrets.create({ scope, name: 'n', payload: 'p', expires_at: 1 }, onAcct2),
    stripeError(Stripe.errors.StripeInvalidRequestError, 400, undefined, 'expires_at'),
  );
  for (let i = 0; i < 10; i++) {
    await backend.apps.secrets.create({ scope, name: `n${i}`, payload: 'p' }, onAcct2);
  }
  await assert.rejects(
    backend.apps.secrets.create({ scope, name: 'n10', payload: 'p' }, onAcct2),
    stripeError(Stripe.errors.StripeInvalidRequestError, 400, undefined, undefined),
  );
  // App 2 lacks secret_write (on account 1, its only installation).
  const other = stripeFor(app2.secret_key);
  const onAcct1 = { stripeAccount: acct1 };
  await assert.rejects(other.apps.secrets.create({ scope, name: 'n', payload: 'p' }, onAcct1), (err) => {
    stripeError(Stripe.errors.StripePermissionError, 403, undefined, undefined)(err);
    assert.ok(err.message.includes(NEEDS_SECRET_WRITE), err.message);
    return true;
  });
  assert.deepEqual((await other.apps.secrets.list({ scope }, onAcct1)).data, []);
  await assert.rejects(
    other.apps.secrets.list({ scope }, onAcct2),
    stripeError(Stripe.errors.StripePermissionError, 403, 'account_invalid', undefined),
  );
  // An account's own key.
  await assert.rejects(
    stripeFor(dev.accounts[0].secret_key).apps.secrets.list({ scope }),
    stripeError(Stripe.errors.StripePermissionError, 403, undefined, undefined),
  );
});

test('idempotent sets: a replay, and a key reused with other params', async () => {
  const scope = userScope();
  const idempotencyKey = `idem-${rand()}`;
  const first = await backend.apps.secrets.create({ scope, name: 'n', payload: 'p' }, { ...onAcct2, idempotencyKey });
  assert.equal(first.lastResponse.idempotencyKey, idempotencyKey);
  const again = await backend.apps.secrets.create({ scope, name: 'n', payload: 'p' }, { ...onAcct2, idempotencyKey });
  assert.equal(again.id, first.id);
  assert.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
  await assert.rejects(
    backend.apps.secrets.create({ scope, name: 'n', payload: 'other' }, { ...onAcct2, idempotencyKey }),
    stripeError(Stripe.errors.StripeIdempotencyError, 400, undefined, undefined, 'idempotency_error'),
  );
});
