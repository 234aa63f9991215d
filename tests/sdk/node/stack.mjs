// The stack under test, as its dev.json (named by STACK_DEV_JSON) describes
// it, and stripe-node clients pointed at it. Shared by the *.test.mjs files.
import { readFileSync } from 'node:fs';

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
