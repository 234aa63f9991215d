// Identity through stripe-node, unmodified: the seed's flows (create with
// options and metadata, retrieve with expansion, list with filters and
// auto-pagination, update, cancel, redact) and verification reports (list,
// retrieve with expansion), as an account backend and as an app acting for
// an installing account, with errors arriving as the SDK's own classes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';

import Stripe from 'stripe';

import { dev, psql, stripeFor } from './stack.mjs';

const REQUEST_ID = /^req_[A-Za-z0-9]{24}$/;
const SECRET = /^(vs_[A-Za-z0-9]{24})_secret_test_[A-Za-z0-9]{32}$/;

const stripe = stripeFor(dev.accounts[0].secret_key);

function rand() {
  return randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
}

function stripeError(errorClass, statusCode, code, param) {
  return (err) => {
    assert.ok(err instanceof errorClass, `${err?.type}: ${err?.message}`);
    assert.equal(err.statusCode, statusCode);
    assert.match(err.requestId, REQUEST_ID);
    assert.equal(err.rawType, 'invalid_request_error');
    assert.equal(err.code, code);
    assert.equal(err.param, param);
    return true;
  };
}

// A verified session with a report, as the checks worker leaves one (the
// personal part of a real report is sealed; plain fields stand in here).
function verify(session, ref) {
  const rid = `vr_${rand()}${rand()}`.slice(0, 27);
  const doc = {
    status: 'verified', error: null, type: 'passport', issuing_country: 'US',
    first_name: 'Jenny', last_name: 'Rosen', dob: { day: 2, month: 3, year: 1990 },
  };
  psql(
    "INSERT INTO identity.reports (id, session_id, account_id, livemode, type, client_reference_id, document)" +
      " SELECT :'p1', id, account_id, livemode, type, client_reference_id, :'p2'::jsonb" +
      " FROM identity.sessions WHERE id = :'p3';" +
      " UPDATE identity.sessions SET status = 'verified', last_report_id = :'p1'," +
      " client_secret_hash = NULL, client_secret_sealed = NULL WHERE id = :'p3';",
    rid, JSON.stringify(doc), session.id,
  );
  return rid;
}

test('create, retrieve with expansion, update', async () => {
  const ref = `ref_${rand()}`;
  const created = await stripe.identity.verificationSessions.create({
    type: 'document',
    client_reference_id: ref,
    metadata: { user_id: '42' },
    options: { document: { allowed_types: ['driving_license', 'passport'], require_matching_selfie: true } },
    provided_details: { email: 'jenny@example.com' },
    return_url: 'https://example.com/back',
  });
  assert.equal(created.object, 'identity.verification_session');
  assert.equal(created.status, 'requires_input');
  assert.match(created.client_secret, SECRET);
  assert.equal(SECRET.exec(created.client_secret)[1], created.id);
  assert.ok(created.url.endsWith(`/identity/verify?client_secret=${created.client_secret}`));
  assert.deepEqual(created.options.document.allowed_types, ['driving_license', 'passport']);
  assert.equal(created.provided_details, undefined);
  assert.match(created.lastResponse.requestId, REQUEST_ID);

  const got = await stripe.identity.verificationSessions.retrieve(created.id, {
    expand: ['provided_details', 'verified_outputs'],
  });
  assert.deepEqual(got.provided_details, { email: 'jenny@example.com' });
  assert.equal(got.verified_outputs, null);
  assert.equal(got.client_secret, created.client_secret);

  const updated = await stripe.identity.verificationSessions.update(created.id, {
    type: 'id_number',
    metadata: { user_id: '', step: '2' },
  });
  assert.equal(updated.type, 'id_number');
  assert.deepEqual(updated.metadata, { step: '2' });
});

test('list with filters and auto-pagination', async () => {
  const ref = `ref_${rand()}`;
  const ids = [];
  for (let i = 0; i < 5; i++) {
    ids.unshift((await stripe.identity.verificationSessions.create({ type: 'document', client_reference_id: ref })).id);
  }
  const page = await stripe.identity.verificationSessions.list({ client_reference_id: ref, limit: 2 });
  assert.equal(page.url, '/v1/identity/verification_sessions');
  assert.deepEqual(page.data.map((s) => s.id), ids.slice(0, 2));
  assert.equal(page.has_more, true);
  const all = [];
  for await (const s of stripe.identity.verificationSessions.list({ client_reference_id: ref, limit: 2 })) {
    all.push(s.id);
  }
  assert.deepEqual(all, ids);
  await stripe.identity.verificationSessions.cancel(ids[1]);
  const canceled = await stripe.identity.verificationSessions.list({ client_reference_id: ref, status: 'canceled' });
  assert.deepEqual(canceled.data.map((s) => s.id), [ids[1]]);
  const recent = await stripe.identity.verificationSessions.list({
    client_reference_id: ref, created: { gte: Math.floor(Date.now() / 1000) - 600 },
  });
  assert.equal(recent.data.length, 5);
});

test('cancel, and what a canceled session refuses', async () => {
  const s = await stripe.identity.verificationSessions.create({ type: 'id_number' });
  const canceled = await stripe.identity.verificationSessions.cancel(s.id);
  assert.equal(canceled.status, 'canceled');
  assert.equal(canceled.client_secret, null);
  await assert.rejects(stripe.identity.verificationSessions.cancel(s.id),
    stripeError(Stripe.errors.StripeInvalidRequestError, 400, undefined, undefined));
  await assert.rejects(stripe.identity.verificationSessions.update(s.id, { metadata: { a: 'b' } }),
    stripeError(Stripe.errors.StripeInvalidRequestError, 400, undefined, undefined));
});

test('errors name their param', async () => {
  await assert.rejects(stripe.identity.verificationSessions.create({}),
    stripeError(Stripe.errors.StripeInvalidRequestError, 400, 'parameter_missing', 'type'));
  await assert.rejects(
    stripe.identity.verificationSessions.create({ type: 'document', options: { document: { allowed_types: ['visa'] } } }),
    stripeError(Stripe.errors.StripeInvalidRequestError, 400, undefined, 'options[document][allowed_types][0]'));
  await assert.rejects(stripe.identity.verificationSessions.retrieve(`vs_${rand()}`),
    stripeError(Stripe.errors.StripeInvalidRequestError, 404, 'resource_missing', undefined));
});

test('reports: list and retrieve with expansion; the session expands its last report', async () => {
  const ref = `ref_${rand()}`;
  const s = await stripe.identity.verificationSessions.create({ type: 'document', client_reference_id: ref });
  const rid = verify(s, ref);
  const list = await stripe.identity.verificationReports.list({ client_reference_id: ref });
  assert.equal(list.url, '/v1/identity/verification_reports');
  assert.deepEqual(list.data.map((r) => r.id), [rid]);
  const byType = await stripe.identity.verificationReports.list({ verification_session: s.id, type: 'document' });
  assert.deepEqual(byType.data.map((r) => r.id), [rid]);
  const report = await stripe.identity.verificationReports.retrieve(rid, { expand: ['document.dob'] });
  assert.equal(report.object, 'identity.verification_report');
  assert.equal(report.verification_session, s.id);
  assert.equal(report.document.first_name, 'Jenny');
  assert.deepEqual(report.document.dob, { day: 2, month: 3, year: 1990 });
  const plain = await stripe.identity.verificationReports.retrieve(rid);
  assert.equal(plain.document.dob, undefined);
  const session = await stripe.identity.verificationSessions.retrieve(s.id, { expand: ['last_verification_report'] });
  assert.equal(session.status, 'verified');
  assert.equal(session.last_verification_report.id, rid);
});

test('redact: processing at once, then redacted; an app acting for an account', async () => {
  const app = stripeFor(dev.apps[0].secret_key);
  const opts = { stripeAccount: dev.accounts[1].id };
  const s = await app.identity.verificationSessions.create(
    { type: 'document', metadata: { name: 'Jenny Rosen' }, provided_details: { phone: '+14155550100' } }, opts);
  const r = await app.identity.verificationSessions.redact(s.id, { expand: ['provided_details'] }, opts);
  assert.equal(r.status, 'canceled');
  assert.ok(['processing', 'redacted'].includes(r.redaction.status));
  assert.deepEqual(r.metadata, {});
  assert.deepEqual(r.provided_details, { phone: '[redacted]' });
  let now = r;
  for (let i = 0; i < 100 && now.redaction.status !== 'redacted'; i++) {
    await new Promise((ok) => setTimeout(ok, 150));
    now = await app.identity.verificationSessions.retrieve(s.id, {}, opts);
  }
  assert.equal(now.redaction.status, 'redacted');
  const again = await app.identity.verificationSessions.redact(s.id, {}, opts);
  assert.deepEqual(again.redaction, { status: 'redacted' });
});
