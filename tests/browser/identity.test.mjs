// The hosted identity verification page (svc-identity page.c) in a real
// browser: Debian's chromium, headless, driven by playwright-core, against a
// running stack (STACK_DEV_JSON names its dev.json). Sessions are created with
// the API; the browser then walks the page with nothing but the session's URL:
// a document session (consent, type, front and back photos generated here,
// the document's data with the machine-readable zone of the ICAO 9303 ID card
// specimen moved to a real state and a future expiry, submit), an id_number
// session, and a document whose expiry has passed. The outcome is read back
// through the API once the checks worker ran.
//
//   STACK_DEV_JSON=var/dev.json node --test tests/browser/identity.test.mjs

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

let browser;
let base;
let key;

before(async () => {
  assert.ok(process.env.STACK_DEV_JSON, 'STACK_DEV_JSON must name a running stack\'s dev.json');
  const dev = JSON.parse(await readFile(process.env.STACK_DEV_JSON, 'utf8'));
  base = dev.base_url.replace(/\/$/, '');
  key = dev.accounts[0].secret_key;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
});

after(async () => {
  await browser?.close();
});

// ---- images ----------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid RGB PNG of width x height with a gradient (zlib-compressed IDAT). */
function png(width, height, seed) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = (x + seed) & 0xff;
      row[2 + x * 3] = (y * 2) & 0xff;
      row[3 + x * 3] = (x ^ y) & 0xff;
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- the ICAO 9303 TD1 specimen (ERIKSSON, ANNA MARIA; D23145890) ------------

function checkDigit(s) {
  const value = (c) => (c === '<' ? 0 : /[0-9]/.test(c) ? Number(c) : c.charCodeAt(0) - 55);
  return String([...s].reduce((sum, c, i) => sum + value(c) * [7, 3, 1][i % 3], 0) % 10);
}

/** The specimen's zone issued by state, expiring on expiry (YYYY-MM-DD). */
function td1(expiry, state = 'NLD') {
  const exp = expiry.slice(2, 4) + expiry.slice(5, 7) + expiry.slice(8, 10);
  const number = 'D23145890';
  const line1 = `I<${state}${number}${checkDigit(number)}`.padEnd(30, '<');
  const dob = '740812';
  const head = `${dob}${checkDigit(dob)}F${exp}${checkDigit(exp)}${state}`.padEnd(29, '<');
  const composite = line1.slice(5, 30) + head.slice(0, 7) + head.slice(8, 15) + head.slice(18, 29);
  const line2 = head + checkDigit(composite);
  const line3 = 'ERIKSSON<<ANNA<MARIA'.padEnd(30, '<');
  assert.equal(line1.length + line2.length + line3.length, 90);
  return [line1, line2, line3].join('\n');
}

// ---- the API ------------------------------------------------------------------

async function api(method, path, params = []) {
  const body = new URLSearchParams(params).toString();
  const res = await fetch(base + path + (method === 'GET' && body ? `?${body}` : ''), {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: method === 'GET' ? undefined : body,
  });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

async function settled(id) {
  for (let i = 0; i < 100; i++) {
    const s = await api('GET', `/v1/identity/verification_sessions/${id}`, [['expand[]', 'verified_outputs']]);
    if (s.status !== 'processing') return s;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${id} is still processing`);
}

// ---- the page -----------------------------------------------------------------

async function openPage(url) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  const res = await page.goto(url);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['x-frame-options'], 'DENY');
  return { page, problems };
}

async function heading(page) {
  return (await page.locator('h1').textContent()).trim();
}

async function consent(page) {
  assert.equal(await heading(page), 'Before you start');
  await page.getByRole('button', { name: 'I agree, continue' }).click();
}

async function uploadPhoto(page, name, seed) {
  await page.setInputFiles('input[type=file]', { name, mimeType: 'image/png', buffer: png(320, 240, seed) });
  await page.getByRole('button', { name: 'Upload' }).click();
}

/** Walks an ID card through every step and submits it. */
async function documentSession(expiry) {
  const s = await api('POST', '/v1/identity/verification_sessions', [['type', 'document']]);
  const { page, problems } = await openPage(s.url);
  await consent(page);
  assert.equal(await heading(page), 'Choose your document');
  await page.getByLabel('National ID card').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.equal(await heading(page), 'Photo of the front of your document');
  await uploadPhoto(page, 'front.png', 1);
  assert.equal(await heading(page), 'Photo of the back of your document');
  await uploadPhoto(page, 'back.png', 2);
  assert.equal(await heading(page), 'Your details, as on the document');
  await page.fill('#first_name', 'Anna');
  await page.fill('#last_name', 'Eriksson');
  await page.fill('#dob', '1974-08-12');
  await page.fill('#document_number', 'D23145890');
  await page.fill('#expiration_date', expiry);
  await page.fill('#issuing_country', 'NL');
  await page.fill('#mrz', td1(expiry));
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.equal(await heading(page), 'Check and submit');
  await page.getByRole('button', { name: 'Submit' }).click();
  assert.equal(await heading(page), 'We are checking your information');
  assert.deepEqual(problems, []);
  await page.close();
  return settled(s.id);
}

const future = `${new Date().getUTCFullYear() + 6}-09-30`;

test('a document session completed on the hosted page is verified', async () => {
  const s = await documentSession(future);
  assert.equal(s.status, 'verified', JSON.stringify(s.last_error));
  assert.equal(s.last_error, null);
  assert.equal(s.client_secret, null);
  assert.equal(s.verified_outputs.first_name, 'Anna');
  assert.equal(s.verified_outputs.last_name, 'Eriksson');
  const report = await api('GET', `/v1/identity/verification_reports/${s.last_verification_report}`);
  assert.equal(report.document.status, 'verified');
  assert.equal(report.document.type, 'id_card');
  assert.equal(report.document.issuing_country, 'NL');
  assert.equal(report.document.files.length, 2);
});

test('an expired document ends in requires_input with document_expired', async () => {
  const s = await documentSession('2015-09-30');
  assert.equal(s.status, 'requires_input');
  assert.equal(s.last_error.code, 'document_expired');
  assert.ok(s.last_error.reason.length > 0);
  // The link still works, and the page says why the last attempt failed.
  const { page } = await openPage(s.url);
  assert.equal(await page.locator('#last-error').getAttribute('data-code'), 'document_expired');
  await page.close();
});

test('an id_number session completed on the hosted page is verified', async () => {
  const s = await api('POST', '/v1/identity/verification_sessions', [['type', 'id_number']]);
  const { page, problems } = await openPage(s.url);
  await consent(page);
  assert.equal(await heading(page), 'Your ID number');
  await page.fill('#first_name', 'Jenny');
  await page.fill('#last_name', 'Rosen');
  await page.fill('#dob', '1980-02-03');
  await page.fill('#id_number_country', 'US');
  await page.fill('#id_number', '123-45-6789');
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.equal(await heading(page), 'Check and submit');
  await page.selectOption('#outcome', '');
  await page.getByRole('button', { name: 'Submit' }).click();
  assert.equal(await heading(page), 'We are checking your information');
  assert.deepEqual(problems, []);
  await page.close();
  const done = await settled(s.id);
  assert.equal(done.status, 'verified', JSON.stringify(done.last_error));
  assert.equal(done.verified_outputs.id_number_type, 'us_ssn');
  // Verified: the link is spent.
  const again = await browser.newPage();
  const res = await again.goto(s.url);
  assert.equal(res.status(), 404);
  assert.match(await again.locator('h1').textContent(), /This link has expired/);
  await again.close();
});
