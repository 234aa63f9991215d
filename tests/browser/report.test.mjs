// The audit report page (sql/reports/report.py) in a real browser: Debian's
// chromium, headless, driven by playwright-core. REPORT_HTML names the
// report.html to open (tests/run.sh renders it from the test stack first).
// The page must load from its file alone (any other request fails the test),
// carry its title, and draw every chart with a nonzero size; a full-page
// screenshot goes to SCREENSHOT_DIR when set (kept), else to a temporary
// directory removed afterwards.
//
//   REPORT_HTML=var/report/report.html node --test tests/browser/

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let browser;
let shotDir;
let keepShots;

before(async () => {
  assert.ok(process.env.REPORT_HTML, 'REPORT_HTML must name a report.html (run sql/reports/report.py first)');
  await stat(process.env.REPORT_HTML); // a clear ENOENT rather than a blank page
  keepShots = Boolean(process.env.SCREENSHOT_DIR);
  shotDir = keepShots ? process.env.SCREENSHOT_DIR : await mkdtemp(path.join(tmpdir(), 'report-shot-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
});

after(async () => {
  await browser?.close();
  if (shotDir && !keepShots) await rm(shotDir, { recursive: true, force: true });
});

test('report.html renders on its own: title, charts, screenshot', async (t) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const outside = [];
  const problems = [];
  // Self-contained: the page's own file is the only thing it may load.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });

  const url = pathToFileURL(path.resolve(process.env.REPORT_HTML)).href;
  const resp = await page.goto(url, { waitUntil: 'load' });
  assert.ok(resp === null || resp.ok(), `loading ${url} failed`);

  const title = await page.title();
  assert.match(title, /^Audit report \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}$/);
  assert.equal(await page.locator('h1').innerText(), title);

  const sections = await page.locator('section').count();
  const charts = page.locator('section svg');
  assert.ok(sections >= 5, `expected a section per report view, got ${sections}`);
  assert.equal(await charts.count(), sections, 'one chart per section');
  for (let i = 0; i < sections; i++) {
    const box = await charts.nth(i).boundingBox();
    assert.ok(box && box.width > 0 && box.height > 0, `chart ${i} has no size: ${JSON.stringify(box)}`);
  }
  // Some chart drew data (bars or line points), not only its axes and legend.
  assert.ok((await page.locator('section svg .mark').count()) > 0, 'no chart drew any data');

  const shot = path.join(shotDir, 'report.png');
  await page.screenshot({ path: shot, fullPage: true });
  const png = await readFile(shot);
  assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), 'the screenshot is not a PNG');
  assert.ok(png.length > 10000, `the screenshot is suspiciously small (${png.length} bytes)`);
  t.diagnostic(`screenshot: ${shot}${keepShots ? '' : ' (removed after the run)'}`);

  assert.deepEqual(outside, [], 'the page requested something besides its own file');
  assert.deepEqual(problems, []);
  await page.close();
});
