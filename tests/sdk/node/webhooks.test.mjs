// Webhooks through stripe-node: endpoints made with stripe.webhookEndpoints,
// and a receiver in this process that checks every delivery's
// Stripe-Signature with stripe.webhooks.constructEvent (default 300 s
// tolerance) on the raw body it got. A receiver that fails twice gets the
// event three times and no more.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { test } from 'node:test';

import Stripe from 'stripe';

import { dev, psql, stripeFor } from './stack.mjs';

const AUTHORIZED = 'account.application.authorized';
const acct = dev.accounts[0];
const stripe = stripeFor(acct.secret_key);

// answers: statuses to give per event id, in order (the last repeats).
// Returns {url, hits: Map(eventId -> [{event|error, at}]), close()}.
async function receiver(secretOf, answers = [200]) {
  const hits = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let entry;
      try {
        const event = stripe.webhooks.constructEvent(body, req.headers['stripe-signature'], secretOf());
        entry = { event, at: Date.now() };
      } catch (error) {
        entry = { error, at: Date.now() };
      }
      entry.raw = body;
      entry.header = req.headers['stripe-signature'];
      const id = entry.event ? entry.event.id : JSON.parse(body).id;
      const list = hits.get(id) ?? [];
      list.push(entry);
      hits.set(id, list);
      res.statusCode = answers[Math.min(list.length - 1, answers.length - 1)];
      res.end('ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    hits,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

function emit(type = AUTHORIZED) {
  const id = `evt_${randomBytes(12).toString('hex')}`;
  psql(
    "INSERT INTO core.events (id, type, account_id, app_id, livemode, data) VALUES (:'p1', :'p2'," +
      " :'p3', 'com.example.app', false," +
      ' \'{"object": {"id": "ca_node", "object": "application", "name": "Node app"}}\')',
    id,
    type,
    acct.id,
  );
  return id;
}

async function waitFor(check, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

test('deliveries verify with constructEvent', async () => {
  let secret = null;
  const rec = await receiver(() => secret);
  const ep = await stripe.webhookEndpoints.create({ url: rec.url, enabled_events: [AUTHORIZED] });
  secret = ep.secret;
  try {
    assert.match(ep.secret, /^whsec_[A-Za-z0-9]{32}$/);
    const id = emit();
    assert.ok(await waitFor(() => rec.hits.has(id)));
    const [hit] = rec.hits.get(id);
    assert.equal(hit.error, undefined, hit.error && hit.error.message);
    assert.equal(hit.event.type, AUTHORIZED);
    assert.equal(hit.event.account, acct.id);
    assert.deepEqual(hit.event.data.object, { id: 'ca_node', object: 'application', name: 'Node app' });
    // The delivery as sent fails with a wrong secret, and with one byte more.
    assert.throws(
      () => stripe.webhooks.constructEvent(hit.raw, hit.header, 'whsec_wrong'),
      Stripe.errors.StripeSignatureVerificationError,
    );
    assert.throws(
      () => stripe.webhooks.constructEvent(Buffer.concat([hit.raw, Buffer.from(' ')]), hit.header, secret),
      Stripe.errors.StripeSignatureVerificationError,
    );
    const fetched = await stripe.events.retrieve(id);
    assert.equal(fetched.id, id);
    const page = await stripe.events.list({ type: 'account.application.*', limit: 5 });
    assert.ok(page.data.every((e) => e.type.startsWith('account.application.')));
    assert.ok(page.data.some((e) => e.id === id));
  } finally {
    await stripe.webhookEndpoints.del(ep.id);
    await rec.close();
  }
});

test('fails twice, then gets it exactly three times', async () => {
  let secret = null;
  const rec = await receiver(() => secret, [500, 503, 200]);
  const ep = await stripe.webhookEndpoints.create({ url: rec.url, enabled_events: ['*'] });
  secret = ep.secret;
  try {
    const id = emit();
    assert.ok(await waitFor(() => (rec.hits.get(id) ?? []).length >= 3, 60000));
    await new Promise((r) => setTimeout(r, 4000));
    const hits = rec.hits.get(id);
    assert.equal(hits.length, 3);
    for (const h of hits) assert.equal(h.error, undefined, h.error && h.error.message);
    const rows = psql(
      "SELECT string_agg(a.status_code::text, ',' ORDER BY a.attempt) FROM core.delivery_attempts a" +
        " JOIN core.event_deliveries d ON d.id = a.delivery_id WHERE d.event_id = :'p1' AND d.endpoint_id = :'p2'",
      id,
      ep.id,
    );
    assert.equal(rows, '500,503,200');
  } finally {
    await stripe.webhookEndpoints.del(ep.id);
    await rec.close();
  }
});

test('endpoint CRUD and errors', async () => {
  const ep = await stripe.webhookEndpoints.create({
    url: 'https://example.com/node',
    enabled_events: ['*'],
    metadata: { a: '1' },
  });
  try {
    const got = await stripe.webhookEndpoints.retrieve(ep.id);
    assert.equal(got.secret, undefined);
    const updated = await stripe.webhookEndpoints.update(ep.id, { disabled: true, description: 'off' });
    assert.equal(updated.status, 'disabled');
    assert.equal(updated.description, 'off');
    const ids = [];
    for await (const e of stripe.webhookEndpoints.list({ limit: 2 })) ids.push(e.id);
    assert.ok(ids.includes(ep.id));
    await assert.rejects(
      stripe.webhookEndpoints.create({ url: 'http://example.com/x', enabled_events: ['*'] }, { apiKey: acct.live_secret_key }),
      (e) => e instanceof Stripe.errors.StripeInvalidRequestError && e.param === 'url' && e.code === 'url_invalid',
    );
  } finally {
    const del = await stripe.webhookEndpoints.del(ep.id);
    assert.equal(del.deleted, true);
  }
});
