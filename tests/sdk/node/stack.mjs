// The stack under test, as its dev.json (named by STACK_DEV_JSON) describes
// it, stripe-node clients pointed at it, and its database (psql as the
// superuser, extension tokens). Shared by the *.test.mjs files.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Stripe from 'stripe';

const path = process.env.STACK_DEV_JSON;
if (!path) {
  throw new Error(
    'STACK_DEV_JSON is not set: start a stack (make run, or deploy/stack.sh start) and ' +
      'export STACK_DEV_JSON=<its STACK_DIR>/dev.json (var/dev.json for make run)',
  );
}

export const dev = JSON.parse(readFileSync(path, 'utf8'));

const base = new URL(dev.base_url);

// A client for the stack: plain http on the stack's port (stripe-node's
// default port is 443 whatever the protocol), no telemetry header, and no
// retries so that server-side failures show up in the tests.
export function stripeFor(key, config = {}) {
  return new Stripe(key, {
    host: base.hostname,
    port: Number(base.port || 80),
    protocol: 'http',
    telemetry: false,
    maxNetworkRetries: 0,
    ...config,
  });
}

const repo = fileURLToPath(new URL('../../..', import.meta.url));
let pgEnv = null;

// The libpq environment of the stack's PostgreSQL as its superuser
// (deploy/pgctl.sh env <STACK_DIR>/pg; dev.json lives in STACK_DIR).
function stackPgEnv() {
  if (pgEnv === null) {
    const out = execFileSync(join(repo, 'deploy/pgctl.sh'), ['env', join(dirname(path), 'pg')], {
      encoding: 'utf8',
    });
    pgEnv = {};
    for (const line of out.split('\n')) {
      // pgctl.sh quotes with printf %q: a backslash escapes the next
      // character (paths with control characters, quoted as $'...', are not
      // supported).
      const m = /^export ([A-Z]+)=(.+)$/.exec(line);
      if (m) pgEnv[m[1]] = m[2].replace(/\\(.)/g, '$1');
    }
  }
  return { ...process.env, ...pgEnv };
}

// Runs sql with psql as the cluster's superuser; params are bound to the
// psql variables p1, p2, ... (:'p1' in the SQL), passed through the
// environment, never pasted into the SQL. Returns psql's unaligned,
// tuples-only output, trimmed. Throws when psql fails.
export function psql(sql, ...params) {
  const env = stackPgEnv();
  let script = '';
  params.forEach((value, i) => {
    env[`STACKAPI_P${i + 1}`] = String(value);
    script += `\\getenv p${i + 1} STACKAPI_P${i + 1}\n`;
  });
  return execFileSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-f', '-'], {
    input: script + sql,
    env,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  }).trim();
}

// A dashboard UI-extension token (uxt_test_/uxt_live_...) for user acting on
// account through app, as the dashboard backend issues it.
export function extensionToken(user, account, app, { livemode = false, ttl = 300 } = {}) {
  return psql(
    "SELECT core.create_extension_token(:'p1', :'p2', :'p3', :'p4'::boolean, :'p5'::integer)",
    user,
    account,
    app,
    livemode,
    ttl,
  );
}
