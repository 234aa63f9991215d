// The install flow in a real browser: Debian's chromium, headless, driven by
// playwright-core, against a running stack (STACK_DEV_JSON names its
// dev.json). The test is the app's backend too: it serves the fixture's
// redirect_uri (http://127.0.0.1:<CALLBACK_PORT>/callback) and checks every
// install_signature it receives with stripe-node's
// webhooks.signature.verifyHeader.
//
// Walks: install link -> sign-in -> account choice -> consent -> redirect
// (com.example.other on acct_dev1 in live mode, uninstalled first through the
// API so that the walk installs it again); the cancel path; a tampered
// redirect_uri (an error page, and the browser never leaves the stack).
// Also shows which payload a Ruby verifier built from the documentation's
// snippet must sign over (JSON.dump semantics, reimplemented below).
//
//   STACK_DEV_JSON=var/dev.json node --test tests/browser/install_flow.test.mjs

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import Stripe from 'stripe';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const APP = 'com.example.other'; // owner acct_dev2; the fixture installs it on acct_dev1
const ACCOUNT = 'acct_dev1';
const USER = 'usr_dev2'; // a member of acct_dev1 and acct_dev2
const CANCELLED = { error: 'access_denied', error_description: 'The user denied your request' };

const stripe = new Stripe('sk_test_unused_for_signatures');
let dev;
let app;
let callbackUrl;
let browser;
let server;
const received = []; // every request the app's backend got: {path, query}

// Ruby's JSON.dump of a Hash of strings and nils (json gem's generator): keys
// in insertion order, no spaces, nil as null, and in strings '"' and '\'
// escaped, \b \f \n \r \t, the other controls as \u00xx in lowercase hex,
// everything else ('/' and non-ASCII included) as is. The same bytes
// JSON.stringify gives for strings, but a nil state is "state":null where
// JSON.stringify leaves an undefined state out.
function rubyJsonDump(hash) {
  const str = (s) => {
    let out = '"';
    for (const ch of s) {
      const c = ch.codePointAt(0);
      const short = { 0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' }[c];
      if (short) out += short;
      else if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0');
      else out += ch;
    }
    return out + '"';
  };
  const parts = Object.entries(hash).map(([k, v]) => `${str(k)}:${v === null ? 'null' : str(v)}`);
  return `{${parts.join(',')}}`;
}

// What the app's backend signs over: JSON.stringify({state, user_id,
// account_id}); without a state in the redirect, state is undefined and
// JSON.stringify leaves the key out.
function payloadOf(q) {
  return JSON.stringify({ state: q.state ?? undefined, user_id: q.user_id, account_id: q.account_id });
}

function verifies(payload, header, secret) {
  try {
    return stripe.webhooks.signature.verifyHeader(payload, header, secret, 300);
  } catch (e) {
    if (e.type === 'StripeSignatureVerificationError') return false;
    throw e;
  }
}

async function api(method, path, key, extraHeaders = {}) {
  const resp = await fetch(dev.base_url + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...extraHeaders },
  });
  return { status: resp.status, body: await resp.json() };
}

async function activeInstallation(livemode) {
  const owner = dev.accounts.find((a) => a.id === app.owner_account);
  const key = livemode ? owner.live_secret_key : owner.secret_key;
  const list = await api('GET', `/v1/apps/apps/${APP}/installations?status=installed&limit=100`, key);
  assert.equal(list.status, 200, JSON.stringify(list.body));
  return list.body.data.find((o) => o.account === ACCOUNT) ?? null;
}

before(async () => {
  assert.ok(process.env.STACK_DEV_JSON, 'STACK_DEV_JSON must name a running stack\'s dev.json');
  dev = JSON.parse(await readFile(process.env.STACK_DEV_JSON, 'utf8'));
  app = dev.apps.find((a) => a.id === APP);
  callbackUrl = new URL(app.redirect_uri);
  server = http.createServer((req, res) => {
    const url = new URL(req.url, callbackUrl);
    if (url.pathname === '/favicon.ico') return res.writeHead(404).end(); // chromium's own
    received.push({ path: url.pathname, query: Object.fromEntries(url.searchParams), raw: url.search });
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!DOCTYPE html><title>callback</title><p>Thanks</p>');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(callbackUrl.port), callbackUrl.hostname, resolve);
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

// Signs in on the page the browser is on (the sign-in form).
async function signIn(page) {
  const user = dev.users.find((u) => u.id === USER);
  assert.match(new URL(page.url()).pathname, /^\/apps\/install\/login$/);
  await page.fill('input[name="email"]', user.email);
  await page.fill('input[name="password"]', user.password);
  await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/apps/install/link/')), page.click('button[type="submit"]')]);
}

function linkUrl(params) {
  const url = new URL(`/apps/install/link/${encodeURIComponent(APP)}`, dev.base_url);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

test('link -> sign-in -> account -> consent -> redirect, signature verified by stripe-node', async () => {
  // Start from "not installed": the owner account uninstalls it (live mode).
  const existing = await activeInstallation(true);
  if (existing) {
    const owner = dev.accounts.find((a) => a.id === app.owner_account);
    const del = await api('DELETE', `/v1/apps/installations/${existing.id}`, owner.live_secret_key);
    assert.equal(del.status, 200, JSON.stringify(del.body));
  }
  assert.equal(await activeInstallation(true), null);

  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  // Console errors (CSP violations among them), but not chromium's own favicon probes.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) problems.push(m.text());
  });
  const state = 'st8 "quoted" & /slash/ café';
  const first = await page.goto(linkUrl({ redirect_uri: app.redirect_uri, state }));
  assert.equal(first.status(), 200);
  await signIn(page);

  // The consent page: the app, its permissions and purposes, the accounts.
  assert.equal(await page.locator('h1').innerText(), 'Install Other Example App');
  const body = await page.locator('main').innerText();
  assert.match(body, /event_read/);
  assert.match(body, /Follows installs and uninstalls/);
  const options = await page.locator('select[name="account"] option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(options.sort(), ['acct_dev1', 'acct_dev2']);
  // The style sheet applies: the CSP's hash matches it.
  assert.equal(await page.locator('main').evaluate((e) => getComputedStyle(e).maxWidth), '544px');
  const headers = await (await page.reload()).allHeaders();
  assert.equal(headers['x-frame-options'], 'DENY');
  assert.match(headers['content-security-policy'], /default-src 'none'/);

  await page.selectOption('select[name="account"]', ACCOUNT);
  received.length = 0;
  await Promise.all([page.waitForURL((u) => u.port === callbackUrl.port), page.click('button[value="install"]')]);

  assert.equal(received.length, 1);
  const got = received[0];
  assert.equal(got.path, callbackUrl.pathname);
  assert.deepEqual(Object.keys(got.query), ['user_id', 'account_id', 'state', 'install_signature']);
  assert.equal(got.query.user_id, USER);
  assert.equal(got.query.account_id, ACCOUNT);
  assert.equal(got.query.state, state);
  assert.equal(new URL(page.url()).pathname, callbackUrl.pathname);

  const payload = payloadOf(got.query);
  assert.equal(payload, `{"state":${JSON.stringify(state)},"user_id":"${USER}","account_id":"${ACCOUNT}"}`);
  assert.equal(verifies(payload, got.query.install_signature, app.signing_secret), true);
  // Any changed value, or another secret, fails.
  for (const change of [{ account_id: 'acct_dev2' }, { user_id: 'usr_dev1' }, { state: state + 'x' }]) {
    assert.equal(verifies(payloadOf({ ...got.query, ...change }), got.query.install_signature, app.signing_secret), false);
  }
  const otherSecret = dev.apps.find((a) => a.id !== APP).signing_secret;
  assert.equal(verifies(payload, got.query.install_signature, otherSecret), false);

  // Ruby (the documentation's snippet): JSON.dump({state:, user_id:,
  // account_id:}) gives the same bytes when the redirect has a state...
  const ruby = rubyJsonDump({ state: got.query.state, user_id: got.query.user_id, account_id: got.query.account_id });
  assert.equal(ruby, payload);
  assert.equal(verifies(ruby, got.query.install_signature, app.signing_secret), true);

  const installed = await activeInstallation(true);
  assert.ok(installed, 'the walk installed the app');
  assert.equal(installed.user, USER);
  assert.deepEqual(problems, []);
  await context.close();
});

test('without a state: no state in the redirect, and the payload leaves the key out', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(linkUrl({}));
  await signIn(page);
  await page.selectOption('select[name="account"]', ACCOUNT);
  received.length = 0;
  await Promise.all([page.waitForURL((u) => u.port === callbackUrl.port), page.click('button[value="install"]')]);
  assert.equal(received.length, 1);
  const q = received[0].query;
  assert.deepEqual(Object.keys(q), ['user_id', 'account_id', 'install_signature']);
  assert.equal(payloadOf(q), `{"user_id":"${USER}","account_id":"${ACCOUNT}"}`);
  assert.equal(verifies(payloadOf(q), q.install_signature, app.signing_secret), true);
  // The no-state rule for Ruby: the snippet as written signs
  // {"state":null,...} for a missing state, which does not verify; a Ruby
  // backend must leave state out when params[:state] is nil:
  //   data = { user_id: user_id, account_id: account_id }
  //   data = { state: state }.merge(data) unless state.nil?
  //   payload = JSON.dump(data)
  const asWritten = rubyJsonDump({ state: null, user_id: q.user_id, account_id: q.account_id });
  assert.equal(verifies(asWritten, q.install_signature, app.signing_secret), false);
  const ruleFollowed = rubyJsonDump({ user_id: q.user_id, account_id: q.account_id });
  assert.equal(verifies(ruleFollowed, q.install_signature, app.signing_secret), true);
  await context.close();
});

test('cancel redirects with access_denied and the state', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(linkUrl({ state: 'cancel-me' }));
  await signIn(page);
  received.length = 0;
  await Promise.all([page.waitForURL((u) => u.port === callbackUrl.port), page.click('button[value="cancel"]')]);
  assert.equal(received.length, 1);
  assert.deepEqual(received[0].query, { ...CANCELLED, state: 'cancel-me' });
  assert.equal(
    received[0].raw,
    '?error=access_denied&error_description=The%20user%20denied%20your%20request&state=cancel-me',
  );
  await context.close();
});

test('a tampered redirect_uri gets an error page and never a redirect', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  received.length = 0;
  for (const tampered of [new URL('/evil', callbackUrl).href, 'https://evil.example/callback', app.redirect_uri + '?x=1']) {
    // Signed out or in, the link is refused before anything else.
    const resp = await page.goto(linkUrl({ redirect_uri: tampered, state: 's' }));
    assert.equal(resp.status(), 400, tampered);
    assert.equal(await page.locator('h1').innerText(), 'Invalid redirect URI');
    assert.equal(new URL(page.url()).origin, new URL(dev.base_url).origin);
    assert.equal(await page.locator('form').count(), 0, 'the error page offers nothing to submit');
    if (tampered.endsWith('/evil')) {
      await page.goto(linkUrl({}));
      await signIn(page);
    }
  }
  assert.equal(received.length, 0, 'the app backend was never reached');
  await context.close();
});
