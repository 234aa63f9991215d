// stripe-node against the stack named by STACK_DEV_JSON: the foundation's
// errors arrive as the SDK's own error classes with their fields intact.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';

import Stripe from 'stripe';

import { dev, stripeFor } from './stack.mjs';

const REQUEST_ID = /^req_[A-Za-z0-9]{24}$/;

// One list call per service, through the resource methods the SDK generates.
const LISTS = {
  'svc-secrets': (stripe, options) => stripe.apps.secrets.list({ scope: { type: 'account' } }, options),
  'svc-identity': (stripe, options) => stripe.identity.verificationSessions.list({}, options),
  'svc-install': (stripe, options) => stripe.events.list({}, options),
};

function wrongKey() {
  return 'sk_test_' + randomBytes(21).toString('base64url').replace(/[-_]/g, 'x');
}

// Returns a validator for assert.rejects that checks the common fields.
function stripeError(errorClass, statusCode, check) {
  return (err) => {
    assert.ok(err instanceof errorClass, `${err?.type}: ${err?.message}`);
    assert.equal(err.statusCode, statusCode);
    assert.match(err.requestId, REQUEST_ID);
    assert.equal(err.rawType, 'invalid_request_error');
    check(err);
    return true;
  };
}

for (const [service, list] of Object.entries(LISTS)) {
  test(`${service}: a wrong key is StripeAuthenticationError`, async () => {
    const key = wrongKey();
    await assert.rejects(
      list(stripeFor(key)),
      stripeError(Stripe.errors.StripeAuthenticationError, 401, (err) => {
        assert.match(err.message, /Invalid API Key provided/);
        assert.ok(!err.message.includes(key.slice(8, -4)), err.message);
      }),
    );
  });

  test(`${service}: an app key on an account without the app is StripePermissionError`, async () => {
    const app = dev.apps[1];
    const outsider = dev.accounts[1].id;
    assert.ok(!app.installed_on.includes(outsider), 'fixture changed: app 2 must not be on account 2');
    await assert.rejects(
      list(stripeFor(app.secret_key), { stripeAccount: outsider }),
      stripeError(Stripe.errors.StripePermissionError, 403, (err) => {
        assert.equal(err.code, 'account_invalid');
      }),
    );
  });
}

for (const method of ['GET', 'POST', 'DELETE']) {
  test(`rawRequest ${method} /v1/x is StripeInvalidRequestError 404`, async () => {
    const stripe = stripeFor(dev.accounts[0].secret_key);
    await assert.rejects(
      stripe.rawRequest(method, '/v1/x', method === 'POST' ? { a: 'b' } : null),
      stripeError(Stripe.errors.StripeInvalidRequestError, 404, (err) => {
        assert.ok(err.message.startsWith(`Unrecognized request URL (${method}: /v1/x)`), err.message);
        assert.equal(err.headers['stripe-version'], Stripe.API_VERSION);
      }),
    );
  });
}
